"""The PNG chart: throughput, its ratio to the hand-written code, and p99, against state
size and against worker processes.

    python -m benchmarks.chart results.json chart.png   # redraw from a saved report
"""
from __future__ import annotations

import json
import sys
from typing import Any, Dict, List, Optional

from .parallel import RAW_OF as PARALLEL_RAW_OF
from .side_by_side import OURS_OF, RAW_OF


#: One colour and one label per operation; the hand-written code is drawn dashed in
#: the same colour as ours.
COLOURS = {"save": "tab:blue", "load": "tab:green", "list10": "tab:orange"}
LABELS = {"save": "save", "load": "load latest", "list10": "list(limit=10)"}


def draw(report: Dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    (ax_rate, ax_ratio, ax_p99), (ax_workers, ax_workers_p99, ax_key) = axes
    sizes = sorted(report["sizes"], key=int)
    xs = [int(s) for s in sizes]
    for group, raw in RAW_OF.items():
        colour, ours = COLOURS[group], OURS_OF[group]
        for name, style in ((raw, "--"), (ours, "-")):
            rates = [report["sizes"][s][group][name]["ops_per_s"] for s in sizes]
            ax_rate.plot(xs, rates, style, color=colour, marker="o")
            ax_p99.plot(xs, [report["sizes"][s][group][name]["p99_us"] for s in sizes], style, color=colour,
                        marker="o")
        ratios = [report["sizes"][s][group][ours]["ops_per_s"] / report["sizes"][s][group][raw]["ops_per_s"]
                  for s in sizes]
        ax_ratio.plot(xs, ratios, "-", color=colour, marker="o")
    ax_ratio.axhline(1.0, color="grey", linewidth=0.8)
    ax_ratio.set_ylim(0, max(1.2, ax_ratio.get_ylim()[1]))
    for ax, title in ((ax_rate, "throughput, 1 process (ops/s)"),
                      (ax_ratio, "ours / the hand-written code (throughput)"),
                      (ax_p99, "p99 latency, 1 process (µs)")):
        ax.set_xscale("log")
        ax.set_xlabel("state size (bytes of JSON)")
        ax.set_title(title)
    ax_rate.set_yscale("log")
    ax_p99.set_yscale("log")
    size = report.get("workers_size", "")
    counts = sorted({r["workers"] for runs in report.get("workers", {}).values() for r in runs})
    for op, runs in report.get("workers", {}).items():
        group = op if op in COLOURS else next((g for g, raw in PARALLEL_RAW_OF.items() if raw == op), None)
        if group is None:
            continue
        style = "-" if op in COLOURS else "--"
        workers = [r["workers"] for r in runs]
        ax_workers.plot(workers, [r["ops_per_s"] for r in runs], style, color=COLOURS[group], marker="o")
        ax_workers_p99.plot(workers, [r["p99_us"] for r in runs], style, color=COLOURS[group], marker="o")
    for ax, title in ((ax_workers, f"aggregate throughput, {size} B state (ops/s; dashed: raw SET, GET)"),
                      (ax_workers_p99, f"p99 latency, {size} B state (µs)")):
        ax.set_xlabel("worker processes")
        ax.set_xticks(counts)
        ax.set_title(title)
    ax_key.axis("off")
    handles = [Line2D([], [], color=COLOURS[g], marker="o", label=LABELS[g]) for g in COLOURS]
    handles += [Line2D([], [], color="black", linestyle="-", label="redis-checkpoint"),
                Line2D([], [], color="black", linestyle="--", label="hand-written redis-py code")]
    ax_key.legend(handles=handles, loc="center", fontsize=11, frameon=False)
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
