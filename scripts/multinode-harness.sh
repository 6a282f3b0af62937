#!/usr/bin/env bash
# The full run of the several-nodes tests (issue 13): three postdesk nodes on one PostgreSQL with 300 mailboxes on
# Dovecot (one owner each, fair shares, a SIGKILLed node's mailboxes moved within lease + 5 s, a SIGSTOPped node
# writing nothing), then 1,000 mails with 10 SIGKILLs during the ingest (each killed node started again). The suite
# runs the same tests at CI size (MultiNodeTests). Needs what scripts/test.sh needs (root, Dovecot, OpenSMTPD,
# PostgreSQL).
#
#   scripts/multinode-harness.sh                 # 300 mailboxes, 1,000 mails, 10 kills
#   POSTDESK_MULTINODE_MAILS=2000 scripts/multinode-harness.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export POSTDESK_MULTINODE_MAILBOXES="${POSTDESK_MULTINODE_MAILBOXES:-300}"
export POSTDESK_MULTINODE_KILL_MAILBOXES="${POSTDESK_MULTINODE_KILL_MAILBOXES:-300}"
export POSTDESK_MULTINODE_MAILS="${POSTDESK_MULTINODE_MAILS:-1000}"
export POSTDESK_MULTINODE_KILLS="${POSTDESK_MULTINODE_KILLS:-10}"
swift build --build-tests
swift test --skip-build --filter MultiNodeTests
