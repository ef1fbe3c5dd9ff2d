#!/usr/bin/env bash
# Shared by the HTTP benchmark scripts (sourced, not run): the bench installation and the
# wrk summary line.
#   bench_install BIN DIR     a fresh installation in DIR: $BENCH_USERS users (default
#                             10,000; user1 an admin with superuser-access, every 100th an
#                             editor with a division scope, every 10th with role toolbox),
#                             all with password `bench-password-1`, loaded with
#                             password_hash; prints a service token holding check/any
#   bench_serve BIN DIR       starts `BIN serve` in DIR on a free loopback port, waits until
#                             it answers /healthz; sets BENCH_URL and BENCH_PID
#   bench_summary FILE LABEL MULT   one line from a `wrk --latency` output
# The database is SQLite in DIR unless GATEHOUSE_DATABASE_URL is set.

bench_install() {
  local bin=$1 dir=$2 hash
  mkdir -p "$dir/app_data"
  hash=$(cd "$dir" && "$bin" users hash-password --password "bench-password-1")
  awk -v n="${BENCH_USERS:-10000}" -v h="$hash" 'BEGIN {
    for (i = 1; i <= n; i++) {
      t = (i == 1) ? "admin" : ((i % 100 == 0) ? "editor" : "user");
      printf "- email: user%d@bench.example.org\n  active: true\n  confirmed: true\n  type: %s\n  password_hash: \x27%s\x27\n", i, t, h;
      if (t == "editor") printf "  editorial_scope: [\x27divisions=div%d\x27]\n", i % 20;
      if (i % 10 == 0) printf "  roles: [toolbox]\n";
      if (i == 1) printf "  allow: [superuser-access]\n";
    }
  }' > "$dir/app_data/users.yaml"
  (cd "$dir" && "$bin" fixtures load >/dev/null)
  (cd "$dir" && "$bin" tokens create bench --privilege check/any 2>/dev/null)
}

bench_serve() {
  local bin=$1 dir=$2 port
  port=$((20000 + RANDOM % 20000))
  (cd "$dir" && GATEHOUSE_LOG=warn exec "$bin" serve --listen "127.0.0.1:$port" 2>server.log) &
  BENCH_PID=$!
  BENCH_URL="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -sf "$BENCH_URL/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "the server in $dir did not start; see $dir/server.log" >&2
  return 1
}

bench_summary() { # file label multiplier
  awk -v label="$2" -v mult="$3" '
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
    /Non-2xx/ { bad = $NF }
    END { printf "%-34s %12.0f/s   p50 %-9s p99 %-9s non-2xx %s\n", label, rps * mult, p50, p99, (bad == "" ? 0 : bad) }' "$1"
}
