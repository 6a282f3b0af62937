#!/usr/bin/env bash
# Sets up the machine (missing Debian packages) and runs every test, including the ones that start real
# Dovecot and OpenSMTPD on 127.0.0.1. Exits with `swift test`'s status.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
swift build --build-tests

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test --skip-build "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

echo
echo "== summary =="
# XCTest's last "Executed N tests" line, then Swift Testing's "Test run with N tests ... passed/failed" line.
grep -E 'Executed [0-9]+ tests?, with' "$log" | tail -n 1 || true
grep -E 'Test run with [0-9]+ tests?' "$log" | tail -n 1 || true
# The plain closing line: Swift Testing's tests that passed and failed.
passed=$(grep -cE '✔ Test ".*" (passed|with [0-9]+ test cases? passed)' "$log" || true)
failed=$(grep -cE '✘ Test ".*" failed' "$log" || true)
echo "${passed} passed, ${failed} failed"
exit "$status"
