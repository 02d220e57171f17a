#!/usr/bin/env bash
# Measures ferry import's choices on this machine (see ../README.md for the figures):
# a throwaway MariaDB server, a generated dump (one big table with secondary indexes holding
# most of the rows, several small tables), then `mariadb < dump.sql` and `ferry import` with
# several --parallel / --unit-bytes values, each into emptied databases, wall time and the
# loader's peak RSS from /usr/bin/time.
#
#   crates/import/bench/measure.sh FERRY_BINARY [ROWS]      (ROWS of the big table, default 2500000)
set -euo pipefail
FERRY=${1:?usage: measure.sh FERRY_BINARY [ROWS]}
ROWS=${2:-2500000}
WORK=$(mktemp -d /tmp/ferry-import-bench.XXXXXX)
PORT=$((20000 + RANDOM % 20000))
trap 'kill $(cat "$WORK/pid" 2>/dev/null) 2>/dev/null || true; sleep 2; rm -rf "$WORK"' EXIT

mariadb-install-db --no-defaults --user=root --datadir="$WORK/data" --auth-root-authentication-method=normal >/dev/null
/usr/sbin/mariadbd --no-defaults --user=root --datadir="$WORK/data" --socket="$WORK/sock" --port=$PORT \
  --bind-address=127.0.0.1 --innodb-buffer-pool-size=1G --innodb-log-file-size=512M \
  --innodb-flush-log-at-trx-commit=2 --max-allowed-packet=64M --skip-log-bin \
  --pid-file="$WORK/pid" --log-error="$WORK/error.log" &
for _ in $(seq 60); do mariadb --no-defaults -S "$WORK/sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done
SQL="mariadb --no-defaults -S $WORK/sock -uroot"
$SQL -e "CREATE USER bench@'127.0.0.1' IDENTIFIED BY 'bench'; GRANT ALL ON *.* TO bench@'127.0.0.1' WITH GRANT OPTION"

echo "generating $ROWS rows ..." >&2
$SQL <<SQL
CREATE DATABASE shop;
CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, customer INT NOT NULL, product INT NOT NULL,
  placed DATETIME NOT NULL, status VARCHAR(16) NOT NULL, note VARCHAR(120),
  KEY (customer), KEY (product, placed), KEY (status)) ENGINE=InnoDB;
INSERT INTO shop.orders SELECT seq, seq * 7919 % 200003, seq * 104729 % 5003,
  '2020-01-01' + INTERVAL (seq * 13 % 100000000) SECOND, ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'done'),
  CONCAT('order ', seq, ' ', REPEAT(CHAR(97 + seq % 26), seq % 80)) FROM shop.seq_1_to_$ROWS;
SQL
for t in customers products suppliers stores reviews; do
  $SQL -e "CREATE TABLE shop.$t (id INT PRIMARY KEY, name VARCHAR(100), v INT, KEY (v)) ENGINE=InnoDB;
           INSERT INTO shop.$t SELECT seq, CONCAT('$t ', seq), seq % 1000 FROM shop.seq_1_to_50000"
done
mariadb-dump --no-defaults -S "$WORK/sock" -uroot --single-transaction --databases shop > "$WORK/dump.sql"
SIZE=$(stat -c %s "$WORK/dump.sql")
echo "dump: $((SIZE / 1000000)) MB" >&2

fresh() { $SQL -e "DROP DATABASE IF EXISTS shop; DROP DATABASE IF EXISTS ferry_import_state"; }
measure() { # label, command...
  local label=$1; shift
  fresh
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/stderr" || { cat "$WORK/stderr" >&2; return 1; }
  end=$(date +%s.%N)
  printf '%-44s %7.1f s %6.1f MB/s  peak RSS %4d MB\n' "$label" "$(echo "$end - $start" | bc)" \
    "$(echo "$SIZE / 1000000 / ($end - $start)" | bc -l)" "$(( $(cat "$WORK/rss") / 1024 ))"
}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GB RAM, $(mariadbd --version | awk '{print $3}')"
measure "mariadb < dump.sql" sh -c "mariadb --no-defaults -h127.0.0.1 -P$PORT -ubench -pbench < $WORK/dump.sql"
export FERRY_IMPORT_PASSWORD=bench
for p in ${PARALLEL:-1 2 4}; do
  for u in ${UNITS:-4194304 16777216 67108864}; do
    measure "ferry import --parallel $p --unit-bytes $u" "$FERRY" import "$WORK/dump.sql" --host 127.0.0.1 \
      --port $PORT --user bench --parallel $p --unit-bytes $u --fresh --state-file "$WORK/state.json"
  done
done
if [ -n "${WHOLE_TABLE:-}" ]; then
  measure "ferry import --parallel 2, one unit per table" "$FERRY" import "$WORK/dump.sql" --host 127.0.0.1 \
    --port $PORT --user bench --parallel 2 --unit-bytes 100000000000 --fresh --state-file "$WORK/state.json"
fi
