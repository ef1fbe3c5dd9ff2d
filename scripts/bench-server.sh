#!/usr/bin/env bash
# HTTP benchmark (issue 4): the release binary on loopback, SQLite, USERS users (default
# 10,000), a service token with check/any, and wrk (Debian package `wrk`) as load generator.
# Prints: single checks per second and latency at 64 connections, batch checks per second,
# and single check latency while a wrong-password login flood runs at the same time.
# Also: user search latency (GET /api/users?q=...) at that many users.
# STORE=postgres serves from a fresh PostgreSQL database (scripts/pg-bench-db.sh).
# Usage: scripts/bench-server.sh [SECONDS]   (default 15 per run)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
users=${USERS:-10000}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
cargo build --release -p gatehouse >/dev/null 2>&1 || cargo build --release -p gatehouse
bin="$PWD/target/release/gatehouse"
scripts="$PWD/scripts/wrk"
work=$(mktemp -d)
pid=""
pgdb=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; [ -n "$pgdb" ] && "$scripts/../pg-bench-db.sh" drop "$pgdb"; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
mkdir app_data
if [ "${STORE:-sqlite}" = postgres ]; then
  pgdb=gh_bench_server
  export GATEHOUSE_DATABASE_URL=$("$scripts/../pg-bench-db.sh" create "$pgdb")
  "$bin" migrate >/dev/null
fi
hash=$("$bin" users hash-password --password "bench-password-1")
awk -v n="$users" -v h="$hash" 'BEGIN {
  for (i = 1; i <= n; i++) {
    t = (i == 1) ? "admin" : ((i % 100 == 0) ? "editor" : "user");
    printf "- email: user%d@bench.example.org\n  active: true\n  confirmed: true\n  type: %s\n  password_hash: \x27%s\x27\n", i, t, h;
    if (t == "editor") printf "  editorial_scope: [\x27divisions=div%d\x27]\n", i % 20;
    if (i % 10 == 0) printf "  roles: [toolbox]\n";
    if (i == 1) printf "  allow: [superuser-access]\n";
  }
}' > app_data/users.yaml
"$bin" fixtures load >/dev/null
export TOKEN=$("$bin" tokens create bench --privilege check/any 2>/dev/null)
export USERS=$users
port=$((20000 + RANDOM % 20000))
GATEHOUSE_LOG=warn "$bin" serve --listen "127.0.0.1:$port" 2>server.log &
pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
url="http://127.0.0.1:$port"
echo "machine: $(nproc) cores; store: ${STORE:-sqlite}; users: $users; wrk -t2 -c64 -d${secs}s; server and wrk share the machine"
# Log in as the admin before the login flood throttles this address.
export ADMIN_TOKEN=$(curl -sf -H 'Content-Type: application/json' -d '{"email":"user1@bench.example.org","password":"bench-password-1"}' "$url/api/login" | sed 's/.*"token":"\([^"]*\)".*/\1/')
# Warm up caches.
wrk -t2 -c16 -d3s -s "$scripts/check.lua" "$url" >/dev/null

summary() { # file label multiplier
  awk -v label="$2" -v mult="$3" '
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
    /Non-2xx/ { bad = $NF }
    END { printf "%-34s %12.0f/s   p50 %-9s p99 %-9s non-2xx %s\n", label, rps * mult, p50, p99, (bad == "" ? 0 : bad) }' "$1"
}
wrk -t2 -c64 -d"${secs}s" --latency -s "$scripts/check.lua" "$url" > single.txt
summary single.txt "single /api/check (checks)" 1
wrk -t2 -c16 -d"${secs}s" --latency -s "$scripts/batch.lua" "$url" > batch.txt
summary batch.txt "batch of 100 (checks)" 100
wrk -t1 -c32 -d"${secs}s" --latency -s "$scripts/login-flood.lua" "$url" > flood.txt &
fpid=$!
sleep 1
wrk -t1 -c32 -d"$((secs - 2))s" --latency -s "$scripts/check.lua" "$url" > during.txt
wait $fpid
summary during.txt "single check during login flood" 1
summary flood.txt "  the login flood itself (requests)" 1
wrk -t1 -c1 -d"${secs}s" --latency -s "$scripts/search.lua" "$url" > search.txt
summary search.txt "user search, 1 connection (queries)" 1
cp server.log "${TMPDIR:-/tmp}/gatehouse-bench-server.log"
echo "  server log: ${TMPDIR:-/tmp}/gatehouse-bench-server.log ($(grep -c ERROR server.log || true) errors)"
