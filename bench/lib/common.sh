# shellcheck shell=bash disable=SC2034 # the names here are used by the scripts sourcing this
# Shared by bench/restore and bench/lib/generate-chain (sourced, not run): names, logging, and
# the lifecycle of the child servers (mariadbd, ferry-s3), so that every exit path can stop
# them. A script that sources this sets bench_tag, calls bench_init, and calls bench_stop_all
# from its EXIT trap.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench_dir="$repo/bench"
export PATH="$PATH:/usr/sbin:/sbin"

# Where the chain lives in the bucket, and the S3 server's (only) credentials.
bucket=bench
prefix=chain
chain_sets=(full inc1 inc2)
access_key=ferry-bench-key
secret_key=ferry-bench-secret
region=us-east-1
# mariadbd run by root needs --user=root; anyone else runs it as themselves.
os_user=$(id -un)

bench_tag=${bench_tag:-bench}
bench_started_us=${EPOCHREALTIME/./}
log() {
  local ds=$(((${EPOCHREALTIME/./} - bench_started_us) / 100000))
  printf '[%s %5d.%ds] %s\n' "$bench_tag" $((ds / 10)) $((ds % 10)) "$*" >&2
}
die() { printf '%s: error: %s\n' "$bench_tag" "$*" >&2; exit 1; }
now_us() { echo "${EPOCHREALTIME/./}"; }
secs() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1e6 }'; } # microseconds -> "12.3"

sockdir=
s3_pid=
declare -A server_pids=() # name -> mariadbd pid

# bench_init: a short directory for unix sockets (paths must stay under 108 bytes).
bench_init() {
  sockdir=$(mktemp -d /tmp/ferry-bench.XXXXXX)
}

# stop_pid PID WHAT SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL; reaps it.
stop_pid() {
  local pid=$1 what=$2 limit=$3 i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$what (pid $pid) did not stop in ${limit}s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# kill_tree PID: SIGTERM to PID's descendants, deepest first, then to PID (the caller reaps).
# Background jobs of a script ignore SIGINT, so an interrupted run must stop them itself.
kill_tree() {
  local pid=$1 child
  # shellcheck disable=SC2013 # the file holds space-separated pids
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do kill_tree "$child"; done
  kill -TERM "$pid" 2>/dev/null || true
}

# --- MariaDB servers ---------------------------------------------------------------------------

# start_server NAME DATADIR LOG_DIR PASSWORD|'' [mariadbd args...]: mariadbd on a private socket;
# returns once `SELECT 1` answers as root (with PASSWORD unless ''), fails fast if it exits.
start_server() {
  local name=$1 datadir=$2 logs=$3 pw=$4 pid deadline
  shift 4
  local sock="$sockdir/$name.sock"
  mariadbd --no-defaults --user="$os_user" --datadir="$datadir" --socket="$sock" \
    --pid-file="$sockdir/$name.pid" --log-error="$logs/mariadbd-$name.err" "$@" \
    >>"$logs/mariadbd-$name.out" 2>&1 8>&- &
  pid=$!
  server_pids[$name]=$pid
  deadline=$((SECONDS + 300))
  while [ $SECONDS -lt $deadline ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      unset "server_pids[$name]"
      tail -n 30 "$logs/mariadbd-$name.err" >&2 || true
      die "mariadbd ($name) exited during start-up"
    fi
    if mariadb --no-defaults --socket="$sock" --user=root ${pw:+--password="$pw"} \
      -e 'SELECT 1' >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  tail -n 30 "$logs/mariadbd-$name.err" >&2 || true
  die "mariadbd ($name) did not answer SELECT 1 within 300 s"
}

stop_server() { # NAME
  local pid=${server_pids[$1]:-}
  [ -n "$pid" ] || return 0
  stop_pid "$pid" "mariadbd $1" 120
  unset "server_pids[$1]"
}

sql_on() { # NAME PASSWORD|'' mariadb-args...
  local name=$1 pw=$2
  shift 2
  mariadb --no-defaults --socket="$sockdir/$name.sock" --user=root ${pw:+--password="$pw"} \
    --batch --skip-column-names "$@"
}

# --- S3 server and clients ---------------------------------------------------------------------

# aws_env DIR: credentials and region for every client (ferry, aws, curl), and the user's own
# AWS configuration kept out.
aws_env() {
  export AWS_ACCESS_KEY_ID=$access_key AWS_SECRET_ACCESS_KEY=$secret_key AWS_REGION=$region \
    AWS_DEFAULT_REGION=$region AWS_ALLOW_HTTP=true AWS_EC2_METADATA_DISABLED=true
  printf '[default]\nregion = %s\n' "$region" >"$1/aws-config"
  export AWS_CONFIG_FILE="$1/aws-config" AWS_SHARED_CREDENTIALS_FILE=/dev/null
  unset AWS_PROFILE AWS_SESSION_TOKEN
}

# start_s3 FERRY_S3 ROOT LOG_DIR: the file-backed S3 server on a free loopback port; sets and
# exports endpoint / AWS_ENDPOINT_URL once it printed its endpoint.
start_s3() {
  local bin=$1 root=$2 logs=$3 deadline
  : >"$logs/ferry-s3.endpoint"
  "$bin" --root "$root" --listen 127.0.0.1:0 --access-key "$access_key" \
    --secret-key "$secret_key" >"$logs/ferry-s3.endpoint" 2>"$logs/ferry-s3.log" 8>&- &
  s3_pid=$!
  deadline=$((SECONDS + 30))
  endpoint=
  while [ $SECONDS -lt $deadline ]; do
    endpoint=$(head -n1 "$logs/ferry-s3.endpoint")
    [ -z "$endpoint" ] || break
    kill -0 "$s3_pid" 2>/dev/null || { cat "$logs/ferry-s3.log" >&2; die "ferry-s3 exited"; }
    sleep 0.1
  done
  [ -n "$endpoint" ] || die "ferry-s3 printed no endpoint within 30 s"
  export AWS_ENDPOINT_URL=$endpoint
}

stop_s3() {
  [ -n "$s3_pid" ] || return 0
  stop_pid "$s3_pid" ferry-s3 10
  s3_pid=
}

# bench_stop_all: every server this script started, and the socket directory.
bench_stop_all() {
  local name
  for name in "${!server_pids[@]}"; do stop_server "$name"; done
  stop_s3
  [ -z "$sockdir" ] || rm -rf "$sockdir"
}
