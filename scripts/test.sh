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
# End-to-end suites that run on their own after the others, one group at a time, since their deadlines depend on
# what runs beside them:
# - OAuth: the test authorization server runs in the test process, on the cooperative pool that the other
#   end-to-end suites' synchronous waits block, so Dovecot's token introspection took over 10 s beside them and the
#   8 s tokens expired (the CI runs of 2026-12-02).
# - Several nodes: three nodes and a PostgreSQL at once, timed against the lease period (a dead node's mailboxes move
#   within it and 5 s), load both cores for the whole phase.
alone=('OAuthLifecycleTests|OAuthBrowserSignInTests' 'MultiNodeTests')
alone_pattern=$(IFS='|'; echo "${alone[*]}")
# Runs `swift test --skip-build ARGS…` into the log; the first failing phase's status is the script's.
phase() {
    swift test --skip-build "$@" 2>&1 | tee -a "$log"
    local phase_status=${PIPESTATUS[0]}
    [ "$status" -eq 0 ] && status=$phase_status
    return 0
}
status=0
set +e
if [ "$#" -gt 0 ]; then
    phase "$@"
else
    # The end-to-end suites wait for processes synchronously (each CLI run blocks a thread of Swift's
    # cooperative pool, which has one thread per core), so beside them the in-process suites could starve for
    # tens of seconds and miss their deadlines: they run first, on their own.
    phase --skip "$serial" --skip EndToEndTests
    phase --filter EndToEndTests --skip "$serial" --skip "$alone_pattern"
    for group in "${alone[@]}"; do
        phase --filter "$group"
    done
    phase --no-parallel --filter "$serial"
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
