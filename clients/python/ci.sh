#!/usr/bin/env bash
# Runs the Python client suites (gatehouse-client, invenio-gatehouse) against the real
# `gatehouse` binary: $GATEHOUSE_BIN, default <repo>/target/debug/gatehouse (run
# `cargo build` first). Virtual environments live in <repo>/target/venv-clients-python-*,
# built when missing or when the pinned requirements change; the two packages are
# reinstalled from the work tree on every run. Fails when the binary is missing, when a
# suite fails, collects no test, or skips anything.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="${PYTHON:-python3}"

export GATEHOUSE_BIN="${GATEHOUSE_BIN:-$root/target/debug/gatehouse}"
if [[ ! -f "$GATEHOUSE_BIN" || ! -x "$GATEHOUSE_BIN" ]]; then
    echo "clients/python/ci.sh: the gatehouse binary $GATEHOUSE_BIN is missing; run \`cargo build\` first or set GATEHOUSE_BIN" >&2
    exit 1
fi
GATEHOUSE_BIN="$(cd "$(dirname "$GATEHOUSE_BIN")" && pwd)/$(basename "$GATEHOUSE_BIN")"

export PIP_CONSTRAINT="$here/constraints.txt"   # pins everything, the build backend too
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PYTHONDONTWRITEBYTECODE=1

# make_venv DIR REQUIREMENTS: (re)creates DIR unless it was built from the same files.
make_venv() {
    local dir="$1" reqs="$2" stamp
    stamp="$(cat "$reqs" "$PIP_CONSTRAINT" "$here"/*/pyproject.toml | sha256sum | cut -d' ' -f1)"
    if [[ -x "$dir/bin/python" && -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$stamp" ]]; then
        return
    fi
    echo "== building $dir"
    rm -rf "$dir"
    "$py" -m venv "$dir"
    "$dir/bin/python" -m pip install -q -r "$reqs"
    # The documented way to install the client, with its dependencies.
    "$dir/bin/python" -m pip install -q "$here/gatehouse-client"
    echo "$stamp" > "$dir/.stamp"
}

# run_suite VENV PACKAGE_DIR: pytest in the package; no test skipped, none missing.
run_suite() {
    local venv="$1" pkg="$2" log status
    log="$(mktemp)"
    echo "== pytest $pkg (GATEHOUSE_BIN=$GATEHOUSE_BIN)"
    set +e
    (cd "$here/$pkg" && "$venv/bin/python" -m pytest -p no:cacheprovider -rs -q tests) 2>&1 | tee "$log"
    status="${PIPESTATUS[0]}"
    set -e
    if [[ "$status" != 0 ]]; then
        echo "clients/python/ci.sh: $pkg tests failed (pytest exit $status)" >&2
        rm -f "$log"
        exit 1
    fi
    if tail -n 3 "$log" | grep -Eq '[0-9]+ (skipped|xfailed|xpassed|deselected)'; then
        echo "clients/python/ci.sh: $pkg tests skipped something; nothing may be skipped here" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}

client_venv="$root/target/venv-clients-python"
invenio_venv="$root/target/venv-clients-python-invenio"
mkdir -p "$root/target"

make_venv "$client_venv" "$here/requirements-client-test.txt"
"$client_venv/bin/python" -m pip install -q --no-deps --force-reinstall "$here/gatehouse-client"
echo "== mypy --strict gatehouse_client"
"$client_venv/bin/python" -m mypy --strict --cache-dir "$root/target/mypy-cache-clients-python" \
    "$here/gatehouse-client/src/gatehouse_client"
run_suite "$client_venv" gatehouse-client

make_venv "$invenio_venv" "$here/requirements-invenio-test.txt"
"$invenio_venv/bin/python" -m pip install -q --no-deps --force-reinstall "$here/gatehouse-client" "$here/invenio-gatehouse"
"$invenio_venv/bin/python" -m pip check
echo "== mypy invenio_gatehouse (the Invenio packages ship no type information)"
"$invenio_venv/bin/python" -m mypy --ignore-missing-imports --cache-dir "$root/target/mypy-cache-clients-python" \
    "$here/invenio-gatehouse/src/invenio_gatehouse"
run_suite "$invenio_venv" invenio-gatehouse
