#!/usr/bin/env python3
"""Parse the postdesk test corpus with Python's `email` package: the baseline for the MailMessage benchmark.

For each message: BytesParser(policy=email.policy.default), get_body(preferencelist=('plain', 'html')),
get_content() of that body, the Subject and the From header -- the same things postdesk reads.
Passes over the whole corpus repeat until --seconds have passed; prints messages/s and MB/s (1 MB = 10^6 bytes)
of the best pass and of all passes together, and `RESULT messages_per_s=... mb_per_s=...` (best pass) for run.sh.
"""

import argparse
import email
import email.policy
import os
import sys
import time
from email.parser import BytesParser

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS = os.path.join(HERE, "..", "Tests", "MailMessageTests", "Fixtures", "Corpus")


def load(directory):
    names = sorted(n for n in os.listdir(directory) if n.endswith(".eml"))
    corpus = []
    for name in names:
        with open(os.path.join(directory, name), "rb") as f:
            corpus.append(f.read())
    return corpus


def parse_one(raw, parser):
    msg = parser.parsebytes(raw)
    subject = msg["subject"]
    sender = msg["from"]
    text = ""
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        try:
            text = body.get_content()
        except Exception:  # malformed fixtures: the parse counts, the failure does not stop the run
            text = ""
    return len(text) + len(str(subject or "")) + len(str(sender or ""))


def one_pass(corpus):
    parser = BytesParser(policy=email.policy.default)
    errors = 0
    sink = 0
    for raw in corpus:
        try:
            sink += parse_one(raw, parser)
        except Exception:
            errors += 1
    return sink, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", default=os.environ.get("POSTDESK_CORPUS", DEFAULT_CORPUS))
    ap.add_argument("--seconds", type=float, default=10.0, help="measure for at least this long (default 10)")
    args = ap.parse_args()

    corpus = load(args.corpus)
    if not corpus:
        sys.exit(f"no .eml files in {args.corpus}")
    total_bytes = sum(len(r) for r in corpus)

    _, errors = one_pass(corpus)  # warm-up; also counts messages the email package cannot read at all
    passes = 0
    best = float("inf")
    started = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        one_pass(corpus)
        elapsed = time.perf_counter() - t0
        best = min(best, elapsed)
        passes += 1
        if time.perf_counter() - started >= args.seconds and passes >= 3:
            break
    total = time.perf_counter() - started

    print(f"python {sys.version.split()[0]} email package, policy=email.policy.default")
    print(f"corpus: {len(corpus)} messages, {total_bytes} bytes; {errors} raised an exception")
    print(f"passes: {passes} in {total:.2f} s")
    print(f"mean: {len(corpus) * passes / total:,.0f} messages/s, {total_bytes * passes / total / 1e6:.3f} MB/s")
    print(f"best pass: {len(corpus) / best:,.0f} messages/s, {total_bytes / best / 1e6:.3f} MB/s")
    print(f"RESULT messages_per_s={len(corpus) / best:.1f} mb_per_s={total_bytes / best / 1e6:.4f}")


if __name__ == "__main__":
    main()
