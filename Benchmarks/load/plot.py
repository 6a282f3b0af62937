#!/usr/bin/env python3
"""Draws the load harness's figures as PNGs for docs/BENCHMARKS.md.

usage: plot.py RESULTS_DIR [RESULTS_DIR ...] [--out docs/benchmarks]

Each RESULTS_DIR is a loadtest.py --out directory (results.jsonl, latency-*.json). Records are grouped by their
`commit` label, so "before" and "after" runs of the same N sit side by side. Installs matplotlib with pip when it
is missing.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path


def load_matplotlib():
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        print("plot.py: installing matplotlib with pip", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "matplotlib"], check=True)
    matplotlib = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def read_results(directories: list[Path]) -> tuple[list[dict], dict[tuple[str, str, int], dict]]:
    records: list[dict] = []
    samples: dict[tuple[str, str, int], dict] = {}
    for directory in directories:
        results = directory / "results.jsonl"
        commit = None
        if results.exists():
            for line in results.read_text().splitlines():
                if line.strip():
                    record = json.loads(line)
                    records.append(record)
                    commit = record.get("commit") or commit
        for file in directory.glob("latency-*-n*.json"):
            scenario, n = file.stem.removeprefix("latency-").rsplit("-n", 1)
            samples[(str(commit), scenario, int(n))] = json.loads(file.read_text())
    return records, samples


def label(record: dict) -> str:
    return f"{record.get('commit') or '?'} ({record.get('date', '')[:10]})"


def cdf(plt_axis, values: list[float], name: str) -> None:
    values = sorted(v * 1000 for v in values)
    if not values:
        return
    fractions = [(i + 1) / len(values) for i in range(len(values))]
    plt_axis.step(values, fractions, where="post", label=name)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    args = parser.parse_args(argv)
    plt = load_matplotlib()
    records, samples = read_results(args.results)
    args.out.mkdir(parents=True, exist_ok=True)
    written = []

    # 1. Latency distributions: IDLE intake per N, and LMTP with the sink (OpenSMTPD's own share).
    for scenario, title in (("idle", "Intake under IMAP IDLE: delivery → request committed"),
                            ("lmtp", "SMTP send → committed: postdesk LMTP listener and a trivial sink")):
        chosen = {k: v for k, v in samples.items() if k[1] == scenario}
        if not chosen:
            continue
        figure, axis = plt.subplots(figsize=(8, 4.5))
        for (commit, _, n), data in sorted(chosen.items(), key=lambda item: (item[0][2], item[0][0])):
            cdf(axis, data.get("latencies_s", []), f"postdesk, N={n:,}, {commit}")
            if "sink_latencies_s" in data:
                cdf(axis, data["sink_latencies_s"], f"LMTP sink, N={n:,}, {commit}")
        axis.set_xlabel("latency (ms)")
        axis.set_ylabel("fraction of mails")
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
        path = args.out / f"latency-{scenario}.png"
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)

    # 2. Throughput and RSS against N, one line per commit label.
    def series(scenario: str, key: str) -> dict[str, list[tuple[int, float]]]:
        lines: dict[str, list[tuple[int, float]]] = {}
        for record in records:
            if record.get("scenario") == scenario and isinstance(record.get(key), (int, float)):
                lines.setdefault(label(record), []).append((record["n"], record[key]))
        return {name: sorted(points) for name, points in lines.items()}

    panels = [
        ("drain", "per_second", "backlog drain (mails/s)", "postdesk drain"),
        ("fetchmail", "per_second", "backlog drain (mails/s)", "fetchmail"),
        ("link", "per_second", "linking (mailboxes/s)", "link"),
        ("resources", "rss_mib", "idle RSS (MiB)", "RSS"),
        ("resources", "cpu_percent_of_one_core", "idle CPU (% of one core)", "CPU"),
    ]
    figure, axes = plt.subplots(1, 4, figsize=(16, 4))
    axis_of = {"backlog drain (mails/s)": axes[0], "linking (mailboxes/s)": axes[1], "idle RSS (MiB)": axes[2],
               "idle CPU (% of one core)": axes[3]}
    drew = False
    for scenario, key, ylabel, name in panels:
        axis = axis_of[ylabel]
        for commit, points in series(scenario, key).items():
            axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=f"{name} {commit}")
            drew = True
        axis.set_xscale("log")
        axis.set_xlabel("mailboxes N")
        axis.set_ylabel(ylabel)
        axis.grid(True, alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=7)
    if drew:
        figure.suptitle("postdesk against N mailboxes")
        figure.tight_layout()
        path = args.out / "scaling.png"
        figure.savefig(path, dpi=110)
        written.append(path)
    plt.close(figure)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
