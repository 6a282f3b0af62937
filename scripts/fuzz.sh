#!/usr/bin/env bash
# Fuzzes the MIME parser with libFuzzer (+ AddressSanitizer) for a number of seconds (default 600), seeded with the
# test corpus. Seeds, new corpus entries and crash files go to a temporary directory, never into the repository.
# Prints executions, exec/s, coverage and crashes at the end; exits non-zero when the fuzzer found a crash.
#
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]
#
# The fuzzer is the separate package Fuzz/ (not part of the main build), built into .build-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:-600}
shift || true
case "$seconds" in
'' | *[!0-9]*)
    echo "usage: scripts/fuzz.sh [SECONDS] [libFuzzer flags...]" >&2
    exit 2
    ;;
esac

# -sanitize=fuzzer links libFuzzer, -parse-as-library keeps Swift from emitting a main (the fuzzer target defines the
# entry point SwiftPM links as main); lld links ASan's symbols without the hundreds of gold warnings.
swift build -c debug --package-path Fuzz --scratch-path "$root/.build-fuzz" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld
fuzzer="$root/.build-fuzz/debug/MailParserFuzzer"

work=$(mktemp -d "${TMPDIR:-/tmp}/postdesk-fuzz.XXXXXX")
mkdir -p "$work/corpus" "$work/artifacts"
cp Tests/MailMessageTests/Fixtures/Corpus/*.eml "$work/corpus/"
seeds=$(find "$work/corpus" -type f | wc -l)
echo "fuzzing for ${seconds}s with ${seeds} seeds; work directory $work"

set +e
# -timeout: an input that takes longer than 20 s counts as a finding (a hang); -rss_limit_mb: so does 2 GB memory.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$fuzzer" "$work/corpus" \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$@" >"$work/fuzz.log" 2>&1
status=$?
set -e

executions=$(grep -E '^stat::number_of_executed_units:' "$work/fuzz.log" | awk '{print $2}' | tail -n 1)
exec_per_s=$(grep -E '^stat::average_exec_per_sec:' "$work/fuzz.log" | awk '{print $2}' | tail -n 1)
new_units=$(grep -E '^stat::new_units_added:' "$work/fuzz.log" | awk '{print $2}' | tail -n 1)
peak_rss=$(grep -E '^stat::peak_rss_mb:' "$work/fuzz.log" | awk '{print $2}' | tail -n 1)
last=$(grep -E '^#[0-9]+' "$work/fuzz.log" | tail -n 1 || true)
coverage=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
features=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
corpus_size=$(sed -nE 's/.* corp: ([0-9]+\/[0-9A-Za-z]+).*/\1/p' <<<"$last")
crashes=$(find "$work/artifacts" -type f | wc -l)

echo
echo "== fuzz summary =="
echo "duration:     ${seconds} s requested"
echo "executions:   ${executions:-?}"
echo "exec/s:       ${exec_per_s:-?}"
echo "coverage:     ${coverage:-?} edges (cov), ${features:-?} features (ft)"
echo "corpus:       ${seeds} seeds, ${new_units:-?} new units, final ${corpus_size:-?}"
echo "peak RSS:     ${peak_rss:-?} MB"
echo "crashes:      ${crashes}"
echo "log:          $work/fuzz.log"

if [ "$crashes" -gt 0 ] || [ "$status" -ne 0 ]; then
    echo "libFuzzer exit status $status; findings:"
    find "$work/artifacts" -type f -print
    grep -E 'ERROR|SUMMARY|Fatal error|==[0-9]+==' "$work/fuzz.log" | head -n 20 || true
    echo "reproduce: $fuzzer <file>   (the work directory is kept)"
    exit 1
fi
rm -rf "$work"
