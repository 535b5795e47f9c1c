#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on a loopback port for the center's tests and prints
# the admin URL to use as RADQC_TEST_DATABASE_URL. Usage:
#   scripts/postgres.sh start [PORT]   # prints postgres://postgres@127.0.0.1:PORT/postgres
#                                      # (without PORT: a free one, so checkouts do not collide)
#   scripts/postgres.sh stop
# The cluster lives in target/pg, or in RADQC_PG_DIR (trust authentication, loopback only);
# stop removes it. The report benchmark keeps its own (RADQC_PG_DIR=target/pg-bench), so a test
# run does not remove its data.
# Tests run it with fsync=off (their data is thrown away). RADQC_PG_DURABLE=1 starts it durable
# (fsync=on, synchronous_commit=on, full_page_writes=on, as a center runs), which the benchmarks
# need to compare it fairly with the SQLite center's synchronous=FULL; they refuse a cluster
# without fsync.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DIR=${RADQC_PG_DIR:-$PWD/target/pg}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$BIN" ] || { echo "PostgreSQL server binaries not found (install postgresql)" >&2; exit 1; }

# initdb refuses to run as root: run the server as the `postgres` user then.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    if [ -f "$DIR/port" ] && as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      echo "postgres://postgres@127.0.0.1:$(cat "$DIR/port")/postgres"
      exit 0
    fi
    PORT=${2:-$(free_port)}
    if [ "${RADQC_PG_DURABLE:-0}" = 1 ]; then DURABILITY="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
    else DURABILITY="-c fsync=off"; fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres "$DIR"
    as_owner "$BIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; exit 1; }
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 $DURABILITY -c max_connections=200" start >/dev/null \
      || { cat "$DIR/server.log" >&2; exit 1; }
    echo "$PORT" >"$DIR/port"
    echo "postgres://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    if [ -d "$DIR/data" ]; then
      as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 start [PORT] | stop" >&2
    exit 2
    ;;
esac
