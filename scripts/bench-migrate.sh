#!/usr/bin/env bash
# `migrate-from dspace` throughput (issue 12, point 6): builds a DSpace source of N e-people
# in PostgreSQL (DSpace 7's tables, SHA-512 hashes as DSpace stores them, first and last
# names as metadata, 50 groups with one level of nesting, every tenth person in a group,
# one Administrator), moves it into a fresh SQLite data directory with the release binary,
# and prints wall time (reading the source included), users per second and peak memory;
# `plan_s` is a `--plan` run first (reading the source and planning, nothing written), so
# seconds - plan_s is about the writing.
# The hashes are copied, never computed, so the figure is the write path's.
# Usage: scripts/bench-migrate.sh [SIZES...]   (default: 1000 100000)
# Uses PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres) and psql.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 100000)

cargo build --release -p gatehouse >/dev/null 2>&1 || cargo build --release -p gatehouse
bin="$PWD/target/release/gatehouse"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m)"
echo "binary:  $bin"
printf '%-9s %8s %10s %12s %12s\n' users plan_s seconds users/s max_rss_MiB

for n in "${sizes[@]}"; do
  name="gh_bench_dspace_$n"
  url=$(scripts/pg-bench-db.sh create "$name")
  psql -q "$url" >/dev/null <<SQL
CREATE TABLE dspaceobject (uuid uuid PRIMARY KEY);
CREATE TABLE eperson (uuid uuid PRIMARY KEY, email varchar(64) UNIQUE, password varchar(128),
  can_log_in boolean, self_registered boolean, netid varchar(64) UNIQUE, salt varchar(32),
  digest_algorithm varchar(16));
CREATE TABLE epersongroup (uuid uuid PRIMARY KEY, permanent boolean DEFAULT false,
  name varchar(250) UNIQUE);
CREATE TABLE epersongroup2eperson (eperson_group_id uuid, eperson_id uuid,
  PRIMARY KEY (eperson_group_id, eperson_id));
CREATE TABLE group2group (parent_id uuid, child_id uuid, PRIMARY KEY (parent_id, child_id));
CREATE TABLE metadataschemaregistry (metadata_schema_id integer PRIMARY KEY, short_id varchar(32));
CREATE TABLE metadatafieldregistry (metadata_field_id integer PRIMARY KEY,
  metadata_schema_id integer, element varchar(64), qualifier varchar(64));
CREATE TABLE metadatavalue (metadata_value_id serial PRIMARY KEY, metadata_field_id integer,
  text_value text, place integer, dspace_object_id uuid);
INSERT INTO metadataschemaregistry VALUES (1, 'dc'), (2, 'eperson');
INSERT INTO metadatafieldregistry VALUES (64, 1, 'title', NULL), (129, 2, 'firstname', NULL),
  (130, 2, 'lastname', NULL);
INSERT INTO eperson SELECT gen_random_uuid(), 'person' || i || '@bench.example.org',
  encode(sha512(('pw' || i)::bytea), 'hex'), true, false, 'netid' || i,
  md5(i::text), 'SHA-512' FROM generate_series(1, $n) i;
INSERT INTO metadatavalue (metadata_field_id, text_value, place, dspace_object_id)
  SELECT 129, 'First' || row_number() OVER (), 0, uuid FROM eperson;
INSERT INTO metadatavalue (metadata_field_id, text_value, place, dspace_object_id)
  SELECT 130, 'Last', 0, uuid FROM eperson;
INSERT INTO epersongroup SELECT gen_random_uuid(), false, 'Group ' || g FROM generate_series(1, 50) g;
INSERT INTO epersongroup VALUES (gen_random_uuid(), true, 'Administrator'), (gen_random_uuid(), true, 'Anonymous');
INSERT INTO group2group SELECT p.uuid, c.uuid FROM epersongroup p JOIN epersongroup c
  ON p.name = 'Group ' || (substring(c.name from 7)::int - 25) WHERE c.name ~ '^Group (2[6-9]|[3-4][0-9]|50)$';
INSERT INTO epersongroup2eperson SELECT g.uuid, e.uuid FROM
  (SELECT uuid, row_number() OVER (ORDER BY email) AS i FROM eperson) e
  JOIN epersongroup g ON g.name = 'Group ' || (1 + e.i % 50) WHERE e.i % 10 = 0;
INSERT INTO epersongroup2eperson SELECT g.uuid, e.uuid FROM epersongroup g,
  (SELECT uuid FROM eperson ORDER BY email LIMIT 1) e WHERE g.name = 'Administrator';
SQL
  dir="$work/run-$n"
  mkdir -p "$dir/app_data"
  /usr/bin/time -f '%e' -o "$dir/plan.txt" "$bin" --data-dir "$dir/data" --app-data "$dir/app_data" \
    migrate-from dspace --source "$url" --plan --json > /dev/null
  read -r plan_secs < "$dir/plan.txt"
  /usr/bin/time -f '%e %M' -o "$dir/time.txt" "$bin" --data-dir "$dir/data" --app-data "$dir/app_data" \
    migrate-from dspace --source "$url" --json > "$dir/out.json"
  scripts/pg-bench-db.sh drop "$name"
  read -r secs rss_kib < "$dir/time.txt"
  created=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["users"]["create"])' "$dir/out.json")
  [ "$created" = "$n" ] || { echo "expected $n created, got $created" >&2; exit 1; }
  rate=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
  printf '%-9s %8s %10s %12s %12.1f\n' "$n" "$plan_secs" "$secs" "$rate" "$(awk -v k="$rss_kib" 'BEGIN { print k / 1024 }')"
done
