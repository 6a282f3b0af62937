#!/usr/bin/env bash
# Parse speed of MailMessage against Python's email package, on the same corpus, in one go:
#   Benchmarks/run.sh            (PY_SECONDS=10 sets how long Python measures)
# 1. python_email_baseline.py: best pass over Tests/MailMessageTests/Fixtures/Corpus/*.eml.
# 2. swift package benchmark (release build): the corpus and hostile-input benchmarks.
# 3. The ratio, from the p50 throughput of "parse corpus (whole corpus per iteration)" (corpus passes/s).
set -euo pipefail
cd "$(dirname "$0")"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== Python email baseline =="
python3 python_email_baseline.py --seconds "${PY_SECONDS:-10}" | tee "$out/python.txt"

echo
echo "== MailMessage (swift package benchmark, release) =="
swift package benchmark --no-progress --filter 'parse corpus.*|hostile.*' 2>&1 | tee "$out/swift.txt"

read -r messages bytes < <(sed -nE 's/^corpus: ([0-9]+) messages, ([0-9]+) bytes.*/\1 \2/p' "$out/python.txt")
py_mps=$(sed -nE 's/^RESULT messages_per_s=([0-9.]+).*/\1/p' "$out/python.txt")

# The throughput row of the whole-corpus table: columns are Metric │ p0 │ p25 │ p50 │ …; the unit is (#), (K) or (M).
passes=$(awk -F'│' '
    /^parse corpus \(whole corpus per iteration\)/ { inside = 1; next }
    inside && /Throughput/ {
        scale = 1
        if ($2 ~ /\(K\)/) scale = 1000
        if ($2 ~ /\(M\)/) scale = 1000000
        gsub(/ /, "", $5); print $5 * scale; exit
    }' "$out/swift.txt")

if [ -z "${passes:-}" ] || [ -z "${py_mps:-}" ]; then
    echo "could not read the figures; see the output above" >&2
    exit 1
fi

awk -v passes="$passes" -v messages="$messages" -v bytes="$bytes" -v py="$py_mps" 'BEGIN {
    swift_mps = passes * messages
    printf "\n== summary ==\n"
    printf "corpus:       %d messages, %d bytes\n", messages, bytes
    printf "MailMessage:  %.0f messages/s, %.2f MB/s (p50 of %d corpus passes/s)\n", swift_mps, passes * bytes / 1e6, passes
    printf "Python email: %.0f messages/s, %.2f MB/s (best pass)\n", py, py * bytes / messages / 1e6
    printf "ratio:        %.1fx (goal: 20x)\n", swift_mps / py
}'
