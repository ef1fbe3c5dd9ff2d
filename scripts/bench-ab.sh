#!/usr/bin/env bash
# A/B benchmark of two gatehouse binaries, made to see past this machine's drift (the same
# binary measures 20% apart from one minute to the next): both servers run at once on
# identical installations (SQLite, BENCH_USERS users, default 10,000), and short wrk runs
# alternate between them, A B B A A B ..., so both see the same drift. Prints every run and
# the median of each side, with the server's CPU time per request (user + system, from
# /proc; in the flood scenario it includes the flood's requests' share).
#   SCENARIO=single (default)  single POST /api/check, wrk -t2 -c64
#   SCENARIO=flood             single checks (wrk -t1 -c32) while a wrong-password login
#                              flood (wrk -t1 -c32) runs against the same server
# Usage: scripts/bench-ab.sh BIN_A BIN_B [ROUNDS (default 6)] [SECONDS per run (default 6)]
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
a=$(realpath "$1"); b=$(realpath "$2"); rounds=${3:-6}; secs=${4:-6}
scenario=${SCENARIO:-single}
cd "$(dirname "$0")/.."
scripts="$PWD/scripts/wrk"
. scripts/bench-lib.sh
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export USERS=${BENCH_USERS:-10000}
declare -A url token pid
for side in A B; do
  bin=$a; [ $side = B ] && bin=$b
  token[$side]=$(bench_install "$bin" "$work/$side")
  bench_serve "$bin" "$work/$side"
  pids+=("$BENCH_PID")
  pid[$side]=$BENCH_PID
  url[$side]=$BENCH_URL
  TOKEN=${token[$side]} wrk -t2 -c16 -d3s -s "$scripts/check.lua" "${url[$side]}" >/dev/null
done
echo "A: $a"
echo "B: $b"
echo "machine: $(nproc) cores; scenario: $scenario; $rounds rounds of ${secs}s per side; load average $(cut -d' ' -f1-3 /proc/loadavg)"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system, in clock ticks

run() { # side -> prints "rps p99_ms non2xx server_cpu_us_per_request"
  local side=$1 out="$work/run.txt" t0 t1
  export TOKEN=${token[$side]}
  t0=$(cpu_ticks "${pid[$side]}")
  if [ "$scenario" = flood ]; then
    wrk -t1 -c32 -d"$((secs + 2))s" -s "$scripts/login-flood.lua" "${url[$side]}" >/dev/null &
    local fpid=$!
    sleep 1
    wrk -t1 -c32 -d"${secs}s" --latency -s "$scripts/check.lua" "${url[$side]}" > "$out"
    wait $fpid
  else
    wrk -t2 -c64 -d"${secs}s" --latency -s "$scripts/check.lua" "${url[$side]}" > "$out"
  fi
  t1=$(cpu_ticks "${pid[$side]}")
  awk -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
       /requests in/ { n = $1 }
       /Requests\/sec/ { rps = $2 }
       /^ +99%/ { v = $2; u = v; gsub(/[0-9.]/, "", u); gsub(/[a-z]/, "", v);
                  p99 = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v }
       /Non-2xx/ { bad = $NF }
       END { printf "%.0f %.2f %d %.1f\n", rps, p99, bad, ticks / hz * 1e6 / n }' "$out"
}

declare -A rps p99 cpu
for r in $(seq "$rounds"); do
  order="A B"; [ $((r % 2)) -eq 0 ] && order="B A"
  for side in $order; do
    read -r x y bad c < <(run "$side")
    [ "$bad" -eq 0 ] || echo "warning: $side answered $bad non-2xx in round $r" >&2
    rps[$side]+="$x "; p99[$side]+="$y "; cpu[$side]+="$c "
    printf 'round %d %s  %8d checks/s  p99 %6.2f ms  server CPU %5.1f us/request\n' "$r" "$side" "$x" "$y" "$c"
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for side in A B; do
  printf 'median %s  %8.0f checks/s  p99 %6.2f ms  server CPU %5.1f us/request\n' "$side" \
    "$(echo "${rps[$side]}" | median)" "$(echo "${p99[$side]}" | median)" "$(echo "${cpu[$side]}" | median)"
done
