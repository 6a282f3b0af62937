#!/usr/bin/env bash
# Sets up the machine (missing Debian packages) and runs every test, including the ones that start real
# Dovecot and OpenSMTPD on 127.0.0.1. Exits with `swift test`'s status.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
swift build --build-tests
# DeployTests: the static release binary (the Dockerfile's own build command) and the cached bookworm root.
./deploy/check-runtime.sh prepare

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Suites that drive a mailbox or relay against the scripted server with second-long deadlines and an
# injected clock: on this 2-core machine they starve each other when they share the run with every
# other suite, so they run after it, one test at a time.
serial='MailboxFaultTests|NotifierTests|MailboxBackoffClockTests|ChannelVerifyTests'
# Three nodes and a PostgreSQL at once, timed against the lease period (a dead node's mailboxes move within it and
# 5 s): beside the other end-to-end suites they load both cores for the whole phase, which made their deadlines and
# the OAuth suite's 8 s tokens miss under CI; they run after them, on their own.
nodes='MultiNodeTests'
set +e
if [ "$#" -gt 0 ]; then
    swift test --skip-build "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
else
    # The end-to-end suites wait for processes synchronously (each CLI run blocks a thread of Swift's
    # cooperative pool, which has one thread per core), so beside them the in-process suites could starve for
    # tens of seconds and miss their deadlines: they run first, on their own.
    swift test --skip-build --skip "$serial" --skip EndToEndTests 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    swift test --skip-build --filter EndToEndTests --skip "$serial" --skip "$nodes" 2>&1 | tee -a "$log"
    e2e_status=${PIPESTATUS[0]}
    [ "$status" -eq 0 ] && status=$e2e_status
    swift test --skip-build --filter "$nodes" 2>&1 | tee -a "$log"
    nodes_status=${PIPESTATUS[0]}
    [ "$status" -eq 0 ] && status=$nodes_status
    swift test --skip-build --no-parallel --filter "$serial" 2>&1 | tee -a "$log"
    serial_status=${PIPESTATUS[0]}
    [ "$status" -eq 0 ] && status=$serial_status
fi
set -e

echo
echo "== summary =="
# XCTest's last "Executed N tests" line, then Swift Testing's "Test run with N tests ... passed/failed" line.
grep -aE 'Executed [0-9]+ tests?, with' "$log" | tail -n 1 || true
grep -aE 'Test run with [0-9]+ tests?' "$log" || true
# The plain closing line: Swift Testing's tests that passed and failed.
passed=$(grep -acE '✔ Test ".*" (passed|with [0-9]+ test cases? passed)' "$log" || true)
failed=$(grep -acE '✘ Test ".*" failed' "$log" || true)
echo "${passed} passed, ${failed} failed"
exit "$status"
