#!/usr/bin/env bash
# The full crash harness (issue 8 §6): 500 customer mails into an IMAP and a POP3 mailbox on real Dovecot
# while postdesk is killed with SIGKILL 30 times at seeded random moments, then every mail, request,
# comment and notification is counted. Prints the seed; POSTDESK_CRASH_SEED=<seed> replays the schedule.
# Sizes: POSTDESK_CRASH_MAILS (default 500), POSTDESK_CRASH_KILLS (default 30). Runs at low priority.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
nice swift build --build-tests

export POSTDESK_CRASH_MAILS="${POSTDESK_CRASH_MAILS:-500}"
export POSTDESK_CRASH_KILLS="${POSTDESK_CRASH_KILLS:-30}"
start=$(date +%s)
set +e
nice swift test --skip-build --filter CrashHarness "$@"
status=$?
set -e
echo "crash-harness: ${POSTDESK_CRASH_MAILS} mails, ${POSTDESK_CRASH_KILLS} kills, $(( $(date +%s) - start )) s, exit ${status}"
exit "$status"
