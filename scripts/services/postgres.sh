#!/usr/bin/env bash
# Ephemeral PostgreSQL for tests and benchmarks, on loopback, on a free port.
#   postgres.sh start DIR   -> prints postgres://hangar@127.0.0.1:PORT/hangar
#   postgres.sh stop DIR
# Installs Debian's postgresql package when no server binaries are present.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?data directory}

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_owner() {
  # PostgreSQL refuses to run as root; use the postgres account then.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  bin=$(find_bin || true)
  if [ -z "$bin" ]; then
    echo "postgres.sh: installing postgresql (apt)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    bin=$(find_bin)
  fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir/data" -U hangar --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=300 -c shared_buffers=128MB" start >&2 \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "$port" >"$dir/port"
  "$bin/psql" -h 127.0.0.1 -p "$port" -U hangar -d postgres -qc "create database hangar" >/dev/null 2>&1 || true
  echo "postgres://hangar@127.0.0.1:$port/hangar"
  ;;
stop)
  bin=$(find_bin || true)
  [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  ;;
*) echo "usage: postgres.sh start|stop DIR" >&2; exit 2 ;;
esac
