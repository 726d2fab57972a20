"""The PNG chart: throughput and p99 against state size and against worker processes.

    python -m benchmarks.chart results.json chart.png   # redraw from a saved report
"""
from __future__ import annotations

import json
import sys
from typing import Any, Dict, List, Optional

from .side_by_side import OURS_OF, RAW_OF


def draw(report: Dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ((ax_rate, ax_p99), (ax_workers, ax_workers_p99)) = plt.subplots(2, 2, figsize=(13, 9))
    sizes = sorted(report["sizes"], key=int)
    xs = [int(s) for s in sizes]
    for group, raw in RAW_OF.items():
        for name in (raw, OURS_OF[group]):
            rates = [report["sizes"][s][group][name]["ops_per_s"] for s in sizes]
            p99 = [report["sizes"][s][group][name]["p99_us"] for s in sizes]
            style = "--" if name == raw else "-"
            ax_rate.plot(xs, rates, style, marker="o", label=name)
            ax_p99.plot(xs, p99, style, marker="o", label=name)
    for ax, title in ((ax_rate, "throughput, 1 process (ops/s)"), (ax_p99, "p99 latency, 1 process (µs)")):
        ax.set_xscale("log")
        ax.set_xlabel("state size (bytes of JSON)")
        ax.set_title(title)
        ax.legend(fontsize=8)
    if ax_p99.lines:
        ax_p99.set_yscale("log")
    size = report.get("workers_size", "")
    counts = sorted({r["workers"] for runs in report.get("workers", {}).values() for r in runs})
    for op, runs in report.get("workers", {}).items():
        style = "--" if op.startswith("raw") else "-"
        workers = [r["workers"] for r in runs]
        ax_workers.plot(workers, [r["ops_per_s"] for r in runs], style, marker="o", label=op)
        ax_workers_p99.plot(workers, [r["p99_us"] for r in runs], style, marker="o", label=op)
    for ax, title in ((ax_workers, f"aggregate throughput, {size} B state (ops/s)"),
                      (ax_workers_p99, f"p99 latency, {size} B state (µs)")):
        ax.set_xlabel("worker processes")
        ax.set_xticks(counts)
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.suptitle(report["machine"], fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: python -m benchmarks.chart results.json chart.png")
    with open(args[0], encoding="utf-8") as f:
        draw(json.load(f), args[1])


if __name__ == "__main__":
    main()
