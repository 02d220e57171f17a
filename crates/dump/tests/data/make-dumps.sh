#!/usr/bin/env bash
# Regenerates the committed dumps in this directory with the real mariadb-dump (10.11.19 when
# they were made): starts a throwaway mariadbd in a temp dir (unix socket only, no TCP),
# loads hard-to-parse data (see hard.sql.in), dumps it with the options the tests read, then
# stops the server and removes the temp dir. Run it from anywhere:
#     crates/dump/tests/data/make-dumps.sh
# The tests assert what these files contain: after regenerating, re-check the expectations.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d /tmp/ferry-dumps.XXXXXX)"
sock="$tmp/s.sock"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

start_server() { # $1: name, $2: server id
  local dir="$tmp/$1"
  mkdir -p "$dir"
  mariadb-install-db --no-defaults --user="$(id -un)" --auth-root-authentication-method=normal --skip-test-db \
    --datadir="$dir/data" >"$dir/install.log" 2>&1
  mariadbd --no-defaults --user="$(id -un)" --datadir="$dir/data" --socket="$dir/s.sock" --skip-networking \
    --pid-file="$dir/pid" --log-error="$dir/err.log" --server-id="$2" \
    --log-bin="$dir/data/$1-bin" --binlog-format=ROW --innodb-buffer-pool-size=32M \
    --event-scheduler=OFF --skip-slave-start &
  pid=$!
  for _ in $(seq 1 300); do
    mariadb --no-defaults -S "$dir/s.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$dir/err.log"; exit 1; }
    sleep 0.1
  done
  echo "server did not start"; cat "$dir/err.log"; exit 1
}

start_server src 1
sock="$tmp/src/s.sock"
my() { mariadb --no-defaults --default-character-set=utf8mb4 -S "$sock" -uroot "$@"; }
dump() { mariadb-dump --no-defaults -S "$sock" -uroot "$@"; }

my < "$here/hard.sql.in"
# A "replica" whose source never answers, so that --dump-slave has coordinates to print.
my -e "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=9, MASTER_USER='r',
       MASTER_LOG_FILE='upstream-bin.000007', MASTER_LOG_POS=4, MASTER_USE_GTID=no;
       SET GLOBAL gtid_slave_pos='0-7-1234'"

dump --routines --triggers --events --databases hard hard2 >"$here/full.sql"
dump --skip-extended-insert --complete-insert --hex-blob --databases hard >"$here/skip-extended.sql"
dump --insert-ignore --master-data=2 --single-transaction hard >"$here/master-data-2.sql"
dump --master-data=1 --gtid --no-data hard >"$here/master-data-1-gtid.sql"
dump --dump-slave=2 --gtid --no-data hard >"$here/dump-slave-gtid.sql"
dump --all-databases --routines --triggers --events --no-data \
  --ignore-database=hard2 >"$here/all-databases.sql"

# The oracle: what the real client sends for each dump, as it echoes it with -vvv (each
# statement between lines of 14 dashes), reduced to "<length> <crc32>" per statement so the
# committed files stay small. all-databases goes last: loading it replaces the mysql schema.
for name in full skip-extended master-data-2 master-data-1-gtid dump-slave-gtid all-databases; do
  my -vvv --force <"$here/$name.sql" >"$tmp/$name.log" 2>"$tmp/$name.err" || true
  python3 "$here/client-oracle.py" <"$tmp/$name.log" >"$here/$name.sent"
done
