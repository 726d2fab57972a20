"""The PNG chart: throughput and p99 against state size, and throughput against workers."""
from __future__ import annotations

from typing import Any, Dict


def draw(report: Dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_rate, ax_p99, ax_workers) = plt.subplots(1, 3, figsize=(16, 4.8))
    sizes = sorted(report["sizes"], key=int)
    xs = [int(s) for s in sizes]
    for group, name in (("save", "raw SET"), ("save", "save"), ("load", "raw GET"), ("load", "load"),
                        ("list10", "raw ZREVRANGE"), ("list10", "list")):
        rates = [report["sizes"][s][group][name]["ops_per_s"] for s in sizes]
        p99 = [report["sizes"][s][group][name]["p99_us"] for s in sizes]
        style = "--" if name.startswith("raw") else "-"
        ax_rate.plot(xs, rates, style, marker="o", label=name)
        ax_p99.plot(xs, p99, style, marker="o", label=name)
    for ax, title in ((ax_rate, "throughput, 1 process (ops/s)"), (ax_p99, "p99 latency, 1 process (µs)")):
        ax.set_xscale("log")
        ax.set_xlabel("state size (bytes of JSON)")
        ax.set_title(title)
        ax.legend(fontsize=8)
    if ax_p99.lines:
        ax_p99.set_yscale("log")
    for op, runs in report.get("workers", {}).items():
        ax_workers.plot([r["workers"] for r in runs], [r["ops_per_s"] for r in runs], marker="o", label=op)
    ax_workers.set_xlabel("worker processes")
    ax_workers.set_title(f"aggregate throughput, {report.get('workers_size', '')} B state (ops/s)")
    ax_workers.legend(fontsize=8)
    fig.suptitle(report["machine"], fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
