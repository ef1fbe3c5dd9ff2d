#!/usr/bin/env bash
# `migrate-from eprints` and `migrate-from invenio` throughput (issue 12, point 6: "at least
# 20,000 users per second from any source"; scripts/bench-migrate.sh does DSpace). For each
# source it builds N accounts, moves them into a fresh SQLite data directory with the release
# binary, and prints wall time (reading the source included), users per second and peak
# memory, with a `--plan` run first (`plan_s`: reading and planning, nothing written).
# - eprints: EPrints' `user`, `user_roles` and `user_editperms` tables in MariaDB
#   (GATEHOUSE_TEST_MYSQL_URL, default mysql://root@127.0.0.1:3306), 13-character DES crypt
#   hashes as EPrints 3.3 stores them (copied, never computed), every 10th user with an
#   extra role, every 100th an editor with an editorial scope;
# - invenio: the tables made by InvenioRDM's own invenio-accounts and invenio-access
#   (crates/cli/tests/data/invenio/make_invenio_db.py in the virtual environment .ci/run
#   makes, target/venv-migrate-invenio), then N accounts added in SQL with the PBKDF2-SHA512
#   hash invenio-accounts made for its first user, a JSON profile each, every 10th in a role.
# Usage: scripts/bench-migrate-sources.sh [N]   (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
my=${GATEHOUSE_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306}
py=${GATEHOUSE_INVENIO_PYTHON:-$PWD/target/venv-migrate-invenio/bin/python}
cargo build --release -p gatehouse >/dev/null 2>&1 || cargo build --release -p gatehouse
bin="$PWD/target/release/gatehouse"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-9s %8s %10s %12s %12s\n' source users plan_s seconds users/s max_rss_MiB

measure() { # source url
  local src=$1 url=$2 dir="$work/run-$1" plan secs rss created
  mkdir -p "$dir/app_data"
  /usr/bin/time -f '%e' -o "$dir/plan.txt" "$bin" --data-dir "$dir/data" --app-data "$dir/app_data" \
    migrate-from "$src" --source "$url" --plan --json > /dev/null
  read -r plan < "$dir/plan.txt"
  /usr/bin/time -f '%e %M' -o "$dir/time.txt" "$bin" --data-dir "$dir/data" --app-data "$dir/app_data" \
    migrate-from "$src" --source "$url" --json > "$dir/out.json"
  read -r secs rss < "$dir/time.txt"
  created=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["users"]["create"])' "$dir/out.json")
  [ "$created" -ge "$n" ] || { echo "$src: expected at least $n created, got $created" >&2; exit 1; }
  printf '%-8s %-9s %8s %10s %12.0f %12.1f\n' "$src" "$created" "$plan" "$secs" \
    "$(awk -v n="$created" -v s="$secs" 'BEGIN { print (s > 0 ? n / s : 0) }')" \
    "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
}

# EPrints in MariaDB: the e2e test's DDL (EPrints 3.3's columns), then N users.
hostport=${my#mysql://}; hostport=${hostport#*@}; host=${hostport%%:*}; port=${hostport##*:}
mysql_do() { mysql --protocol=tcp -h "$host" -P "$port" -u root "$@"; }
mysql_do -e "DROP DATABASE IF EXISTS gh_bench_eprints; CREATE DATABASE gh_bench_eprints"
ddl=$(awk '/^const DDL: &str = r#"/{f=1;next} /^"#;/{f=0} f' crates/cli/tests/migrate_eprints_e2e.rs)
mysql_do gh_bench_eprints <<SQL
$ddl
INSERT INTO \`user\` (userid, username, password, usertype, email, name_family, name_given, dept, org)
  SELECT seq, CONCAT('user', seq), CONCAT('ab', SUBSTRING(MD5(seq), 1, 11)),
         IF(seq % 100 = 0, 'editor', 'user'), CONCAT('user', seq, '@eprints.example.org'),
         CONCAT('Family', seq), 'Given', 'Physics', 'University'
  FROM seq_1_to_$n;
INSERT INTO user_roles (userid, pos, roles) SELECT seq, 0, '+toolbox' FROM seq_1_to_$n WHERE seq % 10 = 0;
INSERT INTO user_editperms (userid, pos, editperms)
  SELECT seq, 0, '0|1||eprint|-|divisions:divisions:ANY:EQ:div1|-|'
  FROM seq_1_to_$n WHERE seq % 100 = 0;
SQL
measure eprints "$my/gh_bench_eprints"
mysql_do -e "DROP DATABASE gh_bench_eprints"

# InvenioRDM in PostgreSQL: its own tables, then N accounts.
if [ -x "$py" ]; then
  url=$(scripts/pg-bench-db.sh create gh_bench_invenio 2>/dev/null)
  "$py" crates/cli/tests/data/invenio/make_invenio_db.py "${url/postgres:/postgresql:}" bench-secret >/dev/null 2>&1
  psql -q "$url" >/dev/null <<SQL
INSERT INTO accounts_user (email, username, password, active, confirmed_at, version_id, profile, created, updated)
  SELECT 'person' || i || '@inv.example.org', 'person' || i,
         (SELECT password FROM accounts_user ORDER BY id LIMIT 1), true, now(), 1,
         jsonb_build_object('full_name', 'Person ' || i, 'affiliations', 'CERN'), now(), now()
  FROM generate_series(1, $n) i;
INSERT INTO accounts_userrole (user_id, role_id)
  SELECT u.id, (SELECT id FROM accounts_role WHERE name = 'curators')
  FROM accounts_user u WHERE u.email LIKE 'person%' AND u.id % 10 = 0;
SQL
  GATEHOUSE_LEGACY__INVENIO_PASSWORD_SALT=bench-secret measure invenio "$url"
  scripts/pg-bench-db.sh drop gh_bench_invenio
else
  echo "invenio: skipped ($py is missing; .ci/run makes it)"
fi
