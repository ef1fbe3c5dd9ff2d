#!/usr/bin/env bash
# OpenID Connect token endpoint benchmark (issue 14, point 9): the release binary on
# loopback (SQLite), one first-party confidential client, one logged-in user, and wrk
# alternating GET /oauth/authorize (a fresh code, 303) and POST /oauth/token (exchanging
# it: one transaction, an RS256-signed ID token). Prints code exchanges per second (half
# the requests) and the latency of the mix; then the same with EdDSA ID tokens.
# BENCH_BIN=path benchmarks that binary instead of building the release one.
# Usage: scripts/bench-oidc.sh [SECONDS]   (default 15 per run)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
if [ -n "${BENCH_BIN:-}" ]; then
  bin=$(realpath "$BENCH_BIN")
else
  cargo build --release -p gatehouse >/dev/null 2>&1 || cargo build --release -p gatehouse
  bin="$PWD/target/release/gatehouse"
fi
scripts="$PWD/scripts/wrk"
. "$scripts/../bench-lib.sh"
pid=""
work=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; [ -n "$work" ] && rm -rf "$work"; }
trap cleanup EXIT
echo "machine: $(nproc) cores; store: sqlite; wrk -t2 -c32 -d${secs}s; server and wrk share the machine"
for alg in RS256 EdDSA; do
  work=$(mktemp -d)
  export BENCH_USERS=1
  bench_install "$bin" "$work" >/dev/null
  created=$(cd "$work" && "$bin" clients create bench --first-party --redirect-uri http://127.0.0.1:9/cb --json 2>/dev/null)
  export CLIENT_ID=$(printf '%s' "$created" | sed -n 's/.*"id": "\([^"]*\)".*/\1/p' | head -1)
  secret=$(printf '%s' "$created" | sed -n 's/.*"secret": "\([^"]*\)".*/\1/p')
  export BASIC=$(printf '%s:%s' "$CLIENT_ID" "$secret" | base64 -w0)
  GATEHOUSE_OIDC__ID_TOKEN_ALG=$alg bench_serve "$bin" "$work"
  pid=$BENCH_PID
  export SESSION=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
    -d '{"email":"user1@bench.example.org","password":"bench-password-1"}' "$BENCH_URL/api/login" |
    sed -n 's/^[Ss]et-[Cc]ookie: gatehouse_session=\([^;]*\).*/\1/p')
  wrk -t2 -c32 -d"${secs}s" --latency -s "$scripts/code-exchange.lua" "$BENCH_URL" > "$work/wrk.txt"
  bench_summary "$work/wrk.txt" "code exchanges ($alg ID tokens)" 0.5
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  pid=""
  rm -rf "$work"; work=""
done
