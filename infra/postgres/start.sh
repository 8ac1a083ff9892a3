#!/usr/bin/env bash
# Starts a local PostgreSQL 15 (Debian packages) for trying the scheduler without Docker.
#   infra/postgres/start.sh [DIR] [PORT]     default DIR=.pgdata PORT=5433
# Prints the connection string for --db. Stop it with:  infra/postgres/stop.sh [DIR]
set -euo pipefail
dir="$(realpath -m "${1:-.pgdata}")"; port="${2:-5433}"
bin=/usr/lib/postgresql/15/bin
if [ ! -x "$bin/pg_ctl" ]; then
  echo "PostgreSQL 15 is not installed: sudo apt-get install postgresql" >&2; exit 1
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ ! -f "$dir/data/PG_VERSION" ]; then
  mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
fi
as_pg "$bin/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
"$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'batchrecs'" | grep -q 1 \
  || "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE batchrecs" >/dev/null
echo "Host=127.0.0.1;Port=$port;Database=batchrecs;Username=postgres"
