#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: `start DIR` creates one in DIR (initdb as the
# `postgres` OS user when run as root), listening on a free port on 127.0.0.1 only, with its unix
# socket inside DIR (in /tmp when DIR's path is too long for a socket), trust auth, and a
# database `sluice_test`; it prints the URL
# postgres://postgres@127.0.0.1:<port>/sluice_test and writes it to DIR/url. `stop DIR` shuts
# the cluster down and removes DIR. `restart DIR` restarts a running cluster (fast shutdown: every
# session is cut, as in a server restart in production) on the same port and data; `halt DIR` and
# `resume DIR` do its two halves, for a test that acts while the server is down. Tests use these
# on a cluster of their own, never on one that other tests share.
#
# Idempotent: `start` on a running cluster prints its URL again; `start` over a dead one (a
# crashed test run) replaces it; `stop` on nothing does nothing. Durability is off (fsync,
# synchronous_commit, full_page_writes): the data lives only as long as the test run.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|restart|halt|resume DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "pg-test-cluster: no PostgreSQL server found under /usr/lib/postgresql/*/bin" \
      "(run scripts/install-deps.sh)" >&2
    exit 1
  fi
  echo "$bin"
}

# Runs a command as the cluster's owner: `postgres` when we are root (PostgreSQL refuses to
# run as root), else ourselves.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

is_running() {
  [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# A port nobody listens on right now. Another process may take it before the server binds it:
# start() retries with a new port when that happens.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  if is_running && [ -s "$dir/url" ]; then
    cat "$dir/url"
    return 0
  fi
  stop_quietly
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # A unix socket path has room for about 100 bytes: under a deep build dir the socket goes to
  # a directory of its own in /tmp, which `stop` removes too.
  local sock="$dir/sock"
  if [ ${#sock} -gt 80 ]; then sock=$(mktemp -d /tmp/sluice-pg-sock.XXXXXX); fi
  echo "$sock" >"$dir/sockdir"
  mkdir -p "$dir/data" "$sock"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir" "$dir/data" "$sock"; fi

  as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }

  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    cat >"$dir/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
EOF
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
      break
    fi
    if [ "$attempt" -eq 5 ]; then
      echo "pg-test-cluster: the server did not start; its log:" >&2
      cat "$dir/server.log" >&2
      exit 1
    fi
  done

  as_owner "$bin/psql" -h "$sock" -p "$port" -U postgres -d postgres -qAt \
    -c "CREATE DATABASE sluice_test" >/dev/null
  local url="postgres://postgres@127.0.0.1:$port/sluice_test"
  echo "$url" >"$dir/url"
  echo "$url"
}

stop_quietly() {
  if is_running; then
    # Immediate: nothing here is worth a checkpoint, the directory goes next.
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/sockdir" ]; then
    local sock
    sock=$(cat "$dir/sockdir")
    case "$sock" in /tmp/sluice-pg-sock.*) rm -rf "$sock" ;; esac
  fi
  rm -rf "$dir"
}

halt() {
  if ! is_running; then
    echo "pg-test-cluster: no cluster runs in $dir" >&2
    exit 1
  fi
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

# Starts a halted cluster again, keeping its data and port (unlike `start`, which replaces a
# cluster that does not run).
resume() {
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    echo "pg-test-cluster: no cluster in $dir" >&2
    exit 1
  fi
  is_running || as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
}

bin=$(pg_bin)
case "$cmd" in
  start) start ;;
  stop) stop_quietly ;;
  restart)
    halt
    resume
    ;;
  halt) halt ;;
  resume) resume ;;
  *) usage ;;
esac
