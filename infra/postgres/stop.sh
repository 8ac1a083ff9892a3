#!/usr/bin/env bash
# Stops the PostgreSQL started by infra/postgres/start.sh.
set -euo pipefail
dir="$(realpath -m "${1:-.pgdata}")"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg /usr/lib/postgresql/15/bin/pg_ctl -D "$dir/data" -m fast stop
