#!/usr/bin/env bash
# HTTP benchmark (issue 4): the release binary on loopback, SQLite, USERS users (default
# 10,000), a service token with check/any, and wrk (Debian package `wrk`) as load generator.
# Prints: single checks per second and latency at 64 connections, batch checks per second,
# and single check latency while a wrong-password login flood runs at the same time.
# Also: user search latency (GET /api/users?q=...) at that many users.
# STORE=postgres serves from a fresh PostgreSQL database (scripts/pg-bench-db.sh).
# BENCH_BIN=path benchmarks that binary instead of building the release one (A/B runs).
# Usage: scripts/bench-server.sh [SECONDS]   (default 15 per run)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
users=${USERS:-10000}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
if [ -n "${BENCH_BIN:-}" ]; then
  bin=$(realpath "$BENCH_BIN")   # a prebuilt binary, for A/B runs of two builds
else
  cargo build --release -p gatehouse >/dev/null 2>&1 || cargo build --release -p gatehouse
  bin="$PWD/target/release/gatehouse"
fi
scripts="$PWD/scripts/wrk"
work=$(mktemp -d)
pid=""
pgdb=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; [ -n "$pgdb" ] && "$scripts/../pg-bench-db.sh" drop "$pgdb"; rm -rf "$work"; }
trap cleanup EXIT
. "$scripts/../bench-lib.sh"
if [ "${STORE:-sqlite}" = postgres ]; then
  pgdb=gh_bench_server
  export GATEHOUSE_DATABASE_URL=$("$scripts/../pg-bench-db.sh" create "$pgdb")
  (cd "$work" && "$bin" migrate >/dev/null)
fi
export BENCH_USERS=$users USERS=$users
export TOKEN=$(bench_install "$bin" "$work")
bench_serve "$bin" "$work"
pid=$BENCH_PID
url=$BENCH_URL
cd "$work"
echo "machine: $(nproc) cores; store: ${STORE:-sqlite}; users: $users; wrk -t2 -c64 -d${secs}s; server and wrk share the machine"
# Log in as the admin before the login flood throttles this address.
export ADMIN_TOKEN=$(curl -sf -H 'Content-Type: application/json' -d '{"email":"user1@bench.example.org","password":"bench-password-1"}' "$url/api/login" | sed 's/.*"token":"\([^"]*\)".*/\1/')
# Warm up caches.
wrk -t2 -c16 -d3s -s "$scripts/check.lua" "$url" >/dev/null

wrk -t2 -c64 -d"${secs}s" --latency -s "$scripts/check.lua" "$url" > single.txt
bench_summary single.txt "single /api/check (checks)" 1
wrk -t2 -c16 -d"${secs}s" --latency -s "$scripts/batch.lua" "$url" > batch.txt
bench_summary batch.txt "batch of 100 (checks)" 100
wrk -t1 -c32 -d"${secs}s" --latency -s "$scripts/login-flood.lua" "$url" > flood.txt &
fpid=$!
sleep 1
wrk -t1 -c32 -d"$((secs - 2))s" --latency -s "$scripts/check.lua" "$url" > during.txt
wait $fpid
bench_summary during.txt "single check during login flood" 1
bench_summary flood.txt "  the login flood itself (requests)" 1
wrk -t1 -c1 -d"${secs}s" --latency -s "$scripts/search.lua" "$url" > search.txt
bench_summary search.txt "user search, 1 connection (queries)" 1
cp server.log "${TMPDIR:-/tmp}/gatehouse-bench-server.log"
echo "  server log: ${TMPDIR:-/tmp}/gatehouse-bench-server.log ($(grep -c ERROR server.log || true) errors)"
