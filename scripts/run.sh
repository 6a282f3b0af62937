#!/usr/bin/env bash
# Sets up the machine (missing Debian packages), builds the release binary and runs the server.
# Extra arguments go to `postdesk serve`; the data directory is $POSTDESK_DATA_DIR or ./postdesk-data.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
swift build -c release --product postdesk
exec .build/release/postdesk serve --data-dir "${POSTDESK_DATA_DIR:-./postdesk-data}" "$@"
