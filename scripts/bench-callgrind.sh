#!/usr/bin/env bash
# Instructions per POST /api/check of a gatehouse binary, counted by valgrind's callgrind:
# on a quiet machine repeat runs of one binary agree within about 2%, where requests per
# second drift by 20%, so it shows whether a change made the server do less work. The count
# includes the runtime's time-based work (parking, timers), which is spread over fewer
# requests when something else takes the cores: compare binaries back to back, on a quiet
# machine, at similar request counts (printed).
# The server runs under callgrind on a fresh SQLite installation of BENCH_USERS users
# (default 2,000; scripts/bench-lib.sh), is warmed up until every user is cached, then the
# counters are zeroed and a fixed, deterministic sequence of checks (the mix of
# scripts/wrk/check.lua) runs for SECONDS; the count is divided by the requests served.
# KEEP=FILE keeps the callgrind profile (read it with callgrind_annotate).
# Usage: scripts/bench-callgrind.sh [BIN (default: the release build)] [SECONDS (default 10)]
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in valgrind callgrind_control callgrind_annotate wrk; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install valgrind wrk" >&2; exit 2; }
done
if [ -n "${1:-}" ]; then
  bin=$(realpath "$1")
else
  cargo build --release -p gatehouse >/dev/null 2>&1 || cargo build --release -p gatehouse
  bin="$PWD/target/release/gatehouse"
fi
secs=${2:-10}
. scripts/bench-lib.sh
dir=$(mktemp -d)
vpid=""
cleanup() { [ -n "$vpid" ] && kill "$vpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
export BENCH_USERS=${BENCH_USERS:-2000}
export USERS=$BENCH_USERS
TOKEN=$(bench_install "$bin" "$dir")
export TOKEN
port=$((20000 + RANDOM % 20000))
url="http://127.0.0.1:$port"
(cd "$dir" && GATEHOUSE_LOG=warn exec valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
  "$bin" serve --listen "127.0.0.1:$port" 2>"$dir/valgrind.log") &
vpid=$!
for _ in $(seq 300); do curl -sf "$url/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf "$url/healthz" >/dev/null || { echo "the server did not start under valgrind" >&2; exit 1; }
wrk -t1 -c4 -d8s -s scripts/wrk/check.lua "$url" >/dev/null   # every user into the snapshot
callgrind_control --zero "$vpid" >/dev/null 2>&1
cat > "$dir/fixed.lua" <<'LUA'
-- The check.lua mix, in a fixed order.
local token = os.getenv("TOKEN")
local users = tonumber(os.getenv("USERS"))
local privs = { "eprint/edit", "eprint/view", "eprint/move_archive", "config/edit", "user/view" }
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
local i = 0
request = function()
  i = i + 1
  local body = string.format('{"user":%d,"privilege":"%s","item":{"dataset":"eprint","status":"buffer","owners":[%d],"fields":{"divisions":["div%d"]}}}',
    (i * 7919) % users + 1, privs[i % #privs + 1], (i * 104729) % users + 1, i % 20)
  return wrk.format(nil, "/api/check", nil, body)
end
LUA
wrk -t1 -c4 -d"${secs}s" -s "$dir/fixed.lua" "$url" > "$dir/wrk.txt"
requests=$(awk '/requests in/ { print $1 }' "$dir/wrk.txt")
bad=$(awk '/Non-2xx/ { print $NF }' "$dir/wrk.txt")
callgrind_control --dump "$vpid" >/dev/null 2>&1
sleep 1
kill "$vpid"; wait "$vpid" 2>/dev/null || true; vpid=""
profile=$(ls -t "$dir"/cg.out.* | head -1)
total=$(callgrind_annotate "$profile" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
[ -n "${KEEP:-}" ] && cp "$profile" "$KEEP"
echo "binary: $bin"
echo "requests: $requests in ${secs} s (non-2xx: ${bad:-0}); load average $(cut -d' ' -f1 /proc/loadavg); instructions: $total"
echo "instructions per /api/check request: $((total / requests))"
