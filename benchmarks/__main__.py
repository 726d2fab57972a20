"""``python -m benchmarks`` (``make bench``): redis-checkpoint against raw redis-py, side by side.

    python -m benchmarks [--url URL] [--workers W] [--sizes 1000,10000,100000,1000000]
                         [--rounds 5] [--seconds 3] [--quick] [--out benchmarks/results]

Four parts, all against the same Redis server in one run:

1. one process, each operation interleaved with its raw redis-py equivalent on
   the same encoded bytes, for every state size; baselines JSON, pickle,
   compression off; bytes in Redis per checkpoint and compression ratio;
2. 1 to W worker processes in parallel (10 KB state): aggregate throughput,
   p50/p99, and the server's CPU use, to show where its core saturates;
3. latency against history length (10, 10 000, 100 000) and thread count
   (1 to 100 000);
4. LangGraph savers: ours (``redis_checkpoint.langgraph``, when LangGraph is
   installed) and ``langgraph-checkpoint-redis`` when ``LANGGRAPH_REDIS_URL``
   names a Redis with its modules.

Without ``--url`` a throwaway redis-server is started. Nothing here asserts a time.
Results: ``<out>/latest.json`` and ``<out>/latest.png``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Any, Dict, List, Optional

import redis

from . import parallel, scaling, side_by_side, target
from .side_by_side import RAW_OF  # also names the worker runs' operations (no raw ZREVRANGE there)


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def worker_counts(most: int) -> List[int]:
    counts, w = [], 1
    while w < most:
        counts.append(w)
        w *= 2
    return counts + [most]


def print_size(size: str, res: Dict[str, Any]) -> None:
    print(f"\n## state ~{size} B of JSON: CBOR {res['cbor_bytes']} B, stored {res['stored_bytes']} B "
          f"(compression x{res['compression_ratio']:.2f}), {res['ops_per_round']} calls per round")
    for group, base in RAW_OF.items():
        for name, m in res[group].items():
            ratio = m["ops_per_s"] / res[group][base]["ops_per_s"]
            print(f"  {group:6s} {name:24s} {m['ops_per_s']:8.0f} ops/s  p50 {m['p50_us']:8.0f} µs  "
                  f"p99 {m['p99_us']:8.0f} µs  x{ratio:.2f} of {base}")
    mem = res["memory"]
    print(f"  memory per checkpoint {mem['checkpoint_bytes']:.0f} B vs raw SET {mem['raw_set_bytes']:.0f} B "
          f"(x{mem['ratio']:.2f}); MEMORY USAGE {mem['memory_usage_checkpoint']:.0f} B vs "
          f"{mem['memory_usage_raw']:.0f} B")


def print_saturation(workers: Dict[str, List[Dict[str, Any]]]) -> None:
    """Per operation: the best aggregate throughput, and whether the server's core saturated."""
    for op, raw in RAW_OF.items():
        best = max(workers[op], key=lambda r: r["ops_per_s"])
        saturated = [r["workers"] for r in workers[op] if r["server_cpu"] >= 0.9]
        where = (f"server core saturated from W={saturated[0]}" if saturated
                 else f"server core not saturated (at most {max(r['server_cpu'] for r in workers[op]):.2f} cores)")
        line = f"  {op}: best {best['ops_per_s']:.0f} ops/s at W={best['workers']}; {where}"
        if raw in workers:
            raw_best = max(r["ops_per_s"] for r in workers[raw])
            line += f"; x{best['ops_per_s'] / raw_best:.2f} of the best {raw}"
        print(line)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="per parallel measurement")
    parser.add_argument("--quick", action="store_true", help="small scaling runs (10 and 1000)")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    started = time.monotonic()
    with target(args.url) as (client, url, local):
        info = client.info("server")
        report: Dict[str, Any] = {
            "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
                       f"Python {platform.python_version()}, redis-py {redis.__version__}, "
                       f"redis-server {info['redis_version']}",
            "sizes": {},
            "workers": {},
            "workers_size": 10000,
        }
        print(f"# {report['machine']}; server on {'loopback' if local else 'the given URL'}")
        for size in [int(s) for s in args.sizes.split(",")]:
            progress(f"one process, state of {size} B")
            res = side_by_side.bench_size(client, size, args.rounds)
            report["sizes"][str(size)] = res
            print_size(str(size), res)
        print(f"\n## {report['workers_size']} B state, 1 to {args.workers} worker processes "
              f"({args.seconds:.0f} s each)")
        for op in parallel.OPERATIONS:
            runs = []
            for w in worker_counts(args.workers):
                progress(f"{op} with {w} workers")
                runs.append(parallel.run(url, report["workers_size"], op, w, args.seconds))
                r = runs[-1]
                print(f"  {op:8s} W={w:<3d} {r['ops_per_s']:8.0f} ops/s  p50 {r['p50_us']:7.0f} µs  "
                      f"p99 {r['p99_us']:7.0f} µs  server CPU {r['server_cpu']:.2f} cores")
            report["workers"][op] = runs
        print_saturation(report["workers"])
        lengths = (10, 1000) if args.quick else (10, 10_000, 100_000)
        counts = (1, 1000) if args.quick else (1, 1000, 100_000)
        print("\n## history length (1 KB state)")
        report["history"] = scaling.history(client, lengths, progress)
        for r in report["history"]:
            print(f"  {r['history']:>7d} checkpoints: save p50 {r['save']['p50_us']:6.0f} µs, list10 p50 "
                  f"{r['list10']['p50_us']:6.0f} µs, list10 before the middle p50 "
                  f"{r['list10_before_middle']['p50_us']:6.0f} µs")
        print("\n## number of threads (1 KB state)")
        report["threads"] = scaling.threads(client, counts, progress)
        for r in report["threads"]:
            print(f"  {r['threads']:>7d} threads: save p50 {r['save']['p50_us']:6.0f} µs, "
                  f"load p50 {r['load']['p50_us']:6.0f} µs")
        from . import langgraph_bench

        progress("LangGraph savers")
        report["langgraph"] = langgraph_bench.run(url)
        print("\n## LangGraph savers (10 KB messages channel changing every step, 10 KB static channel)")
        for name, res in report["langgraph"].items():
            if not isinstance(res, dict) or "skipped" in res:
                print(f"  {name}: skipped ({res.get('skipped') if isinstance(res, dict) else res})")
                continue
            print(f"  {name:26s} put {res['put']['ops_per_s']:6.0f}/s  get_tuple {res['get_tuple']['ops_per_s']:6.0f}/s"
                  f"  list(10) {res['list10']['ops_per_s']:6.0f}/s  {res['bytes_per_checkpoint']:7.0f} B per checkpoint")
        if "langgraph-checkpoint-redis" not in report["langgraph"]:
            print("  langgraph-checkpoint-redis: not measured (set LANGGRAPH_REDIS_URL to a Redis with "
                  "RedisJSON and RediSearch)")
    report["seconds"] = time.monotonic() - started
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    try:
        from .chart import draw

        draw(report, os.path.join(args.out, "latest.png"))
        chart = "latest.png"
    except ImportError:
        chart = "no chart (pip install 'redis-checkpoint[bench]' for matplotlib)"
    print(f"\nwritten to {args.out}/latest.json and {chart}; {report['seconds']:.0f} s in all")


if __name__ == "__main__":
    main()
