#!/usr/bin/env bash
# Helper for the benchmark scripts: `pg-bench-db.sh create NAME` prints the URL of a fresh
# PostgreSQL database NAME (dropped first if it exists); `pg-bench-db.sh drop NAME`.
# Uses PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres) and psql.
set -euo pipefail
admin=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
case "$1" in
  create)
    psql "$admin" -qAtc "DROP DATABASE IF EXISTS $2 WITH (FORCE)" >/dev/null
    psql "$admin" -qAtc "CREATE DATABASE $2" >/dev/null
    echo "${admin%/*}/$2" ;;
  drop)
    psql "$admin" -qAtc "DROP DATABASE IF EXISTS $2 WITH (FORCE)" >/dev/null ;;
esac
