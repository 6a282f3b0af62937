#!/usr/bin/env bash
# Fuzzes one parser with libFuzzer (+ AddressSanitizer) for a number of seconds (default 600), seeded with its corpus.
# New corpus entries and crash files go to a temporary directory, never into the repository. Prints executions,
# exec/s, coverage and crashes at the end; exits non-zero when the fuzzer found a crash, a timeout or an out-of-memory.
#
#   scripts/fuzz.sh TARGET [SECONDS] [extra libFuzzer flags...]
#
#   mime  MIME parser and everything that reads a parsed mail   seeds: Tests/MailMessageTests/Fixtures/Corpus/*.eml
#   imap  IMAP frame decoder, then the response parser          seeds: Fuzz/Corpus/imap/
#   pop3  POP3 response decoder, single- and multi-line         seeds: Fuzz/Corpus/pop3/ (first byte: the shapes)
#   smtp  SMTP reply decoder, EHLO capabilities                 seeds: Fuzz/Corpus/smtp/
#
# The fuzzers are the separate package Fuzz/ (not part of the main build), built into .build-fuzz. The CI-sized check
# is the normal test suite's replay of the seeds and of every crasher kept in Tests/MailClientsTests/Fixtures/.
# The fuzzer runs at `nice -n ${FUZZ_NICE:-10}` (the machine is shared); FUZZ_KEEP=1 keeps the work directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

usage() {
    echo "usage: scripts/fuzz.sh mime|imap|pop3|smtp [SECONDS] [libFuzzer flags...]" >&2
    exit 2
}

target=${1:-}
case "$target" in
mime) product=MailParserFuzzer ;;
imap) product=IMAPFuzzer ;;
pop3) product=POP3Fuzzer ;;
smtp) product=SMTPFuzzer ;;
*) usage ;;
esac
shift
seconds=${1:-600}
shift || true
case "$seconds" in
'' | *[!0-9]*) usage ;;
esac

# -sanitize=fuzzer links libFuzzer, -parse-as-library keeps Swift from emitting a main (the fuzzer target defines the
# entry point SwiftPM links as main); lld links ASan's symbols without the hundreds of gold warnings. Release: an
# unoptimized NIO ran the protocol fuzzers at 30-50 inputs/s, optimized they run 2,000 (bounds and overflow checks
# stay on at -O); -enable-testing lets them reach the internal decoders with @testable import.
swift build -c release --package-path Fuzz --scratch-path "$root/.build-fuzz" --product "$product" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld -Xswiftc -enable-testing
fuzzer="$root/.build-fuzz/release/$product"

work=$(mktemp -d "${TMPDIR:-/tmp}/postdesk-fuzz-$target.XXXXXX")
mkdir -p "$work/corpus" "$work/artifacts"
if [ "$target" = mime ]; then
    cp Tests/MailMessageTests/Fixtures/Corpus/*.eml "$work/corpus/"
else
    cp "Fuzz/Corpus/$target"/* "$work/corpus/"
fi
seeds=$(find "$work/corpus" -type f | wc -l)
echo "fuzzing $target ($product) for ${seconds}s with ${seeds} seeds; work directory $work"

set +e
# -timeout: an input that takes longer than 5 s counts as a finding (a hang or superlinear work); -rss_limit_mb: so
# does 2 GB of memory; -max_len: inputs up to 64 KiB.
# SWIFT_BACKTRACE: Swift's own crash backtracer runs under ASan, reports a bogus stack-buffer-underflow and can hang;
# libFuzzer and ASan print the stack themselves.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no} nice -n "${FUZZ_NICE:-10}" "$fuzzer" "$work/corpus" \
    -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
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
slowest=$(sed -nE 's/^Slowest unit: ([0-9]+ s).*/\1/p' "$work/fuzz.log" | tail -n 1)
crashes=$(find "$work/artifacts" -type f | wc -l)

echo
echo "== fuzz summary =="
echo "target:       ${target} (${product})"
echo "duration:     ${seconds} s requested"
echo "executions:   ${executions:-?}"
echo "exec/s:       ${exec_per_s:-?}"
echo "coverage:     ${coverage:-?} edges (cov), ${features:-?} features (ft)"
echo "corpus:       ${seeds} seeds, ${new_units:-?} new units, final ${corpus_size:-?}"
echo "peak RSS:     ${peak_rss:-?} MB"
echo "slowest unit: ${slowest:-under 10 s (none reported)}"
echo "crashes:      ${crashes}"
echo "log:          $work/fuzz.log"

if [ "$crashes" -gt 0 ] || [ "$status" -ne 0 ]; then
    echo "libFuzzer exit status $status; findings:"
    find "$work/artifacts" -type f -print
    grep -E 'ERROR|SUMMARY|Fatal error|fuzz invariant broken|==[0-9]+==' "$work/fuzz.log" | head -n 20 || true
    echo "reproduce: $fuzzer <file>   (the work directory is kept; its corpus/ holds the new units)"
    exit 1
fi
if [ -n "${FUZZ_KEEP:-}" ]; then
    echo "kept (FUZZ_KEEP): $work/corpus holds the seeds and the new units"
else
    rm -rf "$work"
fi
