#!/usr/bin/env bash
# Runs the Perl client's tests and the EPrints hook tests against a real `gatehouse serve`.
# The binary is $GATEHOUSE_BIN (default <repo root>/target/debug/gatehouse). Nothing is
# skipped: a missing binary, perl module or tool is a failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export GATEHOUSE_BIN="${GATEHOUSE_BIN:-$root/target/debug/gatehouse}"

fail() { echo "clients/perl/ci.sh: $*" >&2; exit 1; }

[[ -x "$GATEHOUSE_BIN" ]] || fail "the gatehouse binary $GATEHOUSE_BIN is missing or not executable (build it, or set GATEHOUSE_BIN)"
command -v perl >/dev/null || fail "perl is not installed"
command -v prove >/dev/null || fail "prove is not installed (Debian: perl)"
for module in HTTP::Tiny JSON::PP Test::More File::Temp Time::HiRes IO::Socket::INET Socket ExtUtils::MakeMaker; do
    perl -M"$module" -e 1 2>/dev/null || fail "the perl module $module is missing"
done

echo "== Gatehouse-Client (GATEHOUSE_BIN=$GATEHOUSE_BIN)"
(cd "$here/Gatehouse-Client" && perl -c Makefile.PL >/dev/null 2>&1 || fail "Makefile.PL does not compile")
(cd "$here/Gatehouse-Client" && prove -r -l -It/lib t)

echo "== EPrints hooks (zz_gatehouse.pl against stand-in EPrints objects)"
perl -I"$here/Gatehouse-Client/lib" -c "$here/eprints/zz_gatehouse.pl" >/dev/null 2>&1 \
    || fail "eprints/zz_gatehouse.pl does not compile"
(cd "$here/eprints" && prove -r -It/lib -I../Gatehouse-Client/lib -I../Gatehouse-Client/t/lib t)
