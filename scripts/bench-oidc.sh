#!/usr/bin/env bash
# OpenID Connect token endpoint benchmark (issue 14, point 9): the release binary on
# loopback (SQLite), one first-party confidential client, one logged-in user, and wrk.
# For each ID token algorithm (RS256, then EdDSA) it prints, from one server:
#   - the HTTP floor: GET /healthz, what this machine's HTTP stack and wrk reach at all
#     (the baseline every other figure is read against, measured in the same run);
#   - the authorize + token mix: wrk alternating GET /oauth/authorize (a fresh code, 303)
#     and POST /oauth/token (exchanging it); code exchanges per second = half the requests;
#   - minting: GET /oauth/authorize alone, storing each code for the next run;
#   - the token endpoint alone (the issue's figure: "code exchange, without the log in"):
#     POST /oauth/token exchanging the minted codes, each once.
# BENCH_BIN=path benchmarks that binary instead of building the release one;
# BASELINE_BIN=path runs the same measurements with a second build (e.g. main) first, in
# the same run, for an A/B comparison.
# Usage: scripts/bench-oidc.sh [SECONDS]   (default 15 per run; the token-only run is half)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
half=$(( (secs + 1) / 2 ))
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
if [ -n "${BENCH_BIN:-}" ]; then
  bin=$(realpath "$BENCH_BIN")
else
  cargo build --release -p gatehouse >/dev/null 2>&1 || cargo build --release -p gatehouse
  bin="${CARGO_TARGET_DIR:-$PWD/target}/release/gatehouse"
fi
scripts="$PWD/scripts/wrk"
. "$scripts/../bench-lib.sh"
pid=""
work=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; [ -n "$work" ] && rm -rf "$work"; }
trap cleanup EXIT

# One build, one algorithm: every measurement on one server.
run() { # bin label alg
  local b=$1 label=$2 alg=$3 created secret codes
  work=$(mktemp -d)
  export BENCH_USERS=1
  bench_install "$b" "$work" >/dev/null
  created=$(cd "$work" && "$b" clients create bench --first-party --redirect-uri http://127.0.0.1:9/cb --json 2>/dev/null)
  export CLIENT_ID=$(printf '%s' "$created" | sed -n 's/.*"id": "\([^"]*\)".*/\1/p' | head -1)
  secret=$(printf '%s' "$created" | sed -n 's/.*"secret": "\([^"]*\)".*/\1/p')
  export BASIC=$(printf '%s:%s' "$CLIENT_ID" "$secret" | base64 -w0)
  # The signing keys are made once, on first use (an RSA key takes a second of CPU): make
  # them now, so that the runs measure the steady state and not the first start.
  (cd "$work" && "$b" keys list >/dev/null)
  GATEHOUSE_OIDC__ID_TOKEN_ALG=$alg bench_serve "$b" "$work"
  pid=$BENCH_PID
  export SESSION=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
    -d '{"email":"user1@bench.example.org","password":"bench-password-1"}' "$BENCH_URL/api/login" |
    sed -n 's/^[Ss]et-[Cc]ookie: gatehouse_session=\([^;]*\).*/\1/p')
  wrk -t2 -c32 -d"${secs}s" --latency "$BENCH_URL/healthz" > "$work/floor.txt"
  bench_summary "$work/floor.txt" "$label baseline: GET /healthz" 1
  wrk -t2 -c32 -d"${secs}s" --latency -s "$scripts/code-exchange.lua" "$BENCH_URL" > "$work/mix.txt"
  bench_summary "$work/mix.txt" "$label $alg authorize+token mix" 0.5
  export CODES_DIR="$work"
  wrk -t2 -c32 -d"${secs}s" --latency -s "$scripts/mint-codes.lua" "$BENCH_URL" > "$work/mint.txt"
  bench_summary "$work/mint.txt" "$label $alg authorize alone" 1
  codes=$(cat "$work"/codes-*.txt | wc -l)
  wrk -t2 -c32 -d"${half}s" --latency -s "$scripts/token-only.lua" "$BENCH_URL" > "$work/token.txt"
  bench_summary "$work/token.txt" "$label $alg token endpoint alone" 1
  awk -v codes="$codes" '/^ +[0-9]+ requests in/ { if ($1 > codes) print "  (ran out of codes: " $1 " requests for " codes " codes; shorten the run)" }' "$work/token.txt"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  pid=""
  rm -rf "$work"; work=""
}

echo "machine: $(nproc) cores; store: sqlite; wrk -t2 -c32, ${secs}s per run (token alone ${half}s); server and wrk share the machine"
for alg in RS256 EdDSA; do
  if [ -n "${BASELINE_BIN:-}" ]; then
    run "$(realpath "$BASELINE_BIN")" "baseline build:" "$alg"
  fi
  run "$bin" "this build:" "$alg"
done
