#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks: its own data
# folder and Unix socket in a temporary folder, no TCP port, stopped and
# removed by `stop`. Installs Debian's PostgreSQL when it is missing.
#
#   eval "$(bash scripts/postgres-cluster.sh start [--durable])"
#       prints `export ENUMERA_PG_DIR=... ENUMERA_TEST_POSTGRES=...`
#   bash scripts/postgres-cluster.sh stop "$ENUMERA_PG_DIR"
#
# Without --durable the cluster skips fsync (tests check behaviour, not
# durability, and run faster); benchmarks pass --durable so PostgreSQL
# syncs as a production server does.
#
# PostgreSQL refuses to run as root: as root, the cluster runs as the
# `postgres` user Debian's package makes (runuser), and the folder is made
# reachable for it; as anyone else, as that user.
set -euo pipefail

log() { echo "postgres-cluster: $*" >&2; }

bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

install_postgres() {
  if [ -n "$(bin_dir)" ] && [ -x "$(bin_dir)/initdb" ]; then
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    log "PostgreSQL is not installed and this user cannot apt-get install it"
    exit 1
  fi
  log "installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # Debian's package makes and starts a `main` cluster of its own; the
  # tests never use it.
  apt-get install -y -qq postgresql >&2
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local durable=0
  [ "${1:-}" = "--durable" ] && durable=1
  install_postgres
  local bin dir
  bin=$(bin_dir)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/enumera-pg.XXXXXX")
  chmod 755 "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
  fi
  local sync_opts="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ $durable = 1 ] && sync_opts=""
  as_owner "$bin/initdb" -D "$dir/data" -U enumera -A trust --no-locale -E UTF8 \
    --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  # Enough connections for two servers' pools and the tests beside them.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-k $dir -c listen_addresses= -c max_connections=200 $sync_opts" start >&2 || {
    cat "$dir/server.log" >&2
    exit 1
  }
  log "cluster up at $dir (PostgreSQL $("$bin/postgres" --version | awk '{print $3}'))"
  echo "export ENUMERA_PG_DIR=$dir"
  echo "export ENUMERA_PG_BIN=$bin"
  echo "export ENUMERA_TEST_POSTGRES='postgresql:///postgres?host=$dir&user=enumera'"
}

stop() {
  local dir=$1
  [ -d "$dir/data" ] || return 0
  as_owner "$(bin_dir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  log "cluster at $dir stopped and removed"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop "${2:?the cluster folder}" ;;
  *) echo "usage: $0 start [--durable] | stop DIR" >&2; exit 2 ;;
esac
