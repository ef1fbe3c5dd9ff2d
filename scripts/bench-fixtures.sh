#!/usr/bin/env bash
# Fixtures load benchmark (issue 3): generates users.yaml files of 1,000 and 100,000 users
# with a pre-computed `password_hash`, loads each into a fresh SQLite data directory with the
# release binary, and prints wall time, users per second and peak memory (max RSS).
# Usage: scripts/bench-fixtures.sh [SIZES...]   (default: 1000 100000)
# STORE=postgres loads into a fresh PostgreSQL database instead (scripts/pg-bench-db.sh,
# PG_ADMIN_URL; the schema is created by `gatehouse migrate` before the timed load).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 100000)

cargo build --release -p gatehouse >/dev/null 2>&1 || cargo build --release -p gatehouse
bin="$PWD/target/release/gatehouse"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

hash=$("$bin" users hash-password --password "bench-password-1")
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m)"
echo "binary:  $bin"
echo "store:   ${STORE:-sqlite}"
printf '%-9s %10s %12s %12s\n' users seconds users/s max_rss_MiB

for n in "${sizes[@]}"; do
  dir="$work/run-$n"
  mkdir -p "$dir/app_data"
  awk -v n="$n" -v h="$hash" 'BEGIN {
    for (i = 1; i <= n; i++) {
      t = (i % 1000 == 0) ? "admin" : ((i % 100 == 0) ? "editor" : "user");
      printf "- email: user%d@bench.example.org\n  username: user%d\n  full_name: Bench User %d\n  affiliations: Faculty %d\n  active: true\n  confirmed: true\n  type: %s\n  password_hash: \x27%s\x27\n", i, i, i, i % 50, t, h;
      if (i % 10 == 0) printf "  roles: [toolbox]\n";
      if (t == "editor") printf "  editorial_scope: [\x27divisions=div%d\x27]\n", i % 20;
    }
  }' > "$dir/app_data/users.yaml"
  cd "$dir"
  db_args=()
  if [ "${STORE:-sqlite}" = postgres ]; then
    url=$("$OLDPWD/scripts/pg-bench-db.sh" create "gh_bench_fixtures_$n")
    db_args=(--database-url "$url")
    "$bin" "${db_args[@]}" migrate >/dev/null
  fi
  /usr/bin/time -f '%e %M' -o "$dir/time.txt" "$bin" --data-dir "$dir/data" "${db_args[@]}" fixtures load "$dir/app_data" --json > "$dir/out.json"
  [ "${STORE:-sqlite}" = postgres ] && "$OLDPWD/scripts/pg-bench-db.sh" drop "gh_bench_fixtures_$n"
  cd - >/dev/null
  read -r secs rss_kib < "$dir/time.txt"
  created=$(grep -o '"created": [0-9]*' "$dir/out.json" | head -1 | grep -o '[0-9]*$')
  [ "$created" = "$n" ] || { echo "expected $n created, got $created" >&2; exit 1; }
  rate=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
  printf '%-9s %10s %12s %12.1f\n' "$n" "$secs" "$rate" "$(awk -v k="$rss_kib" 'BEGIN { print k / 1024 }')"
done
