"""``python -m benchmarks`` (``make bench``): redis-checkpoint against the naive redis-py code.

    python -m benchmarks [--url URL] [--workers W] [--sizes 1000,10000,100000,1000000]
                         [--rounds 7] [--seconds 3] [--quick] [--cluster | --no-cluster]
                         [--out benchmarks/results]

It opens with the headline: save, load and list against what a user writes by
hand (``side_by_side``), Redis CPU per save against a raw SET of the same bytes,
and the LangGraph saver against LangGraph's ``InMemorySaver``. Then, all in one run:

1. one process, each operation interleaved with the naive code, for every state
   size; bytes in Redis per checkpoint and compression ratio;
2. 1 to W worker processes in parallel (10 KB state): aggregate throughput,
   p50/p99, and the server's CPU use, to show where its core saturates;
3. latency against history length (10, 10 000, 100 000) and thread count
   (1 to 100 000); the biggest key of a thread of 6000 checkpoints, and how long a
   ``MIGRATE`` of it takes (what Cluster resharding runs for each key);
4. LangGraph savers: ours, and ``langgraph-checkpoint-redis`` beside ours on one Redis
   with its modules (``LANGGRAPH_REDIS_URL``, else one started from the servers and
   modules ``make bench`` fetches), or why it could not be measured;
5. asyncio (``async_bench``): ``AsyncRedisCheckpointer.save`` against naive
   ``redis.asyncio`` encode+SET, and ``AsyncRedisSaver`` against ``RedisSaver``'s
   worker-thread ``a*`` methods with 100 concurrent tasks on one loop;
6. telemetry's cost with no OpenTelemetry provider (``telemetry_cost``);
7. the headline's ratios on a 3+3 Redis Cluster started for the run (``--no-cluster``
   skips it; ``--quick`` too, unless ``--cluster`` is given).

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

from . import migrate, parallel, scaling, side_by_side, target
from .side_by_side import OURS_OF, RAW_OF

HEADLINE_SIZES = (10000, 100000)
#: (figure, how to read it from a size's result, target) for the headline table
TARGETS = {"save": "≥ 0.9 (100 KB: ≥ 0.8)", "load": "≥ 1.0", "list10": "≥ 0.8"}


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def worker_counts(most: int) -> List[int]:
    counts, w = [], 1
    while w < most:
        counts.append(w)
        w *= 2
    return counts + [most]


def ratio(res: Dict[str, Any], group: str) -> float:
    """Ours over the naive row of ``group`` (ops/s)."""
    return float(res[group][OURS_OF[group]]["ops_per_s"] / res[group][RAW_OF[group]]["ops_per_s"])


def cpu_ratio(res: Dict[str, Any], raw: str = "raw SET") -> float:
    """Redis CPU per save over Redis CPU per ``raw`` (a SET of the same bytes)."""
    return float(res["save"]["save"]["server_us"] / res["save"][raw]["server_us"])


def headline(sizes: Dict[str, Any], lg: Dict[str, Any]) -> List[str]:
    """The headline table, as markdown lines."""
    shown = [str(s) for s in HEADLINE_SIZES if str(s) in sizes]
    cols = " | ".join(f"{int(s) // 1000} KB" for s in shown)
    lines = [f"| figure | {cols} | target |", "| --- |" + " ---: |" * len(shown) + " --- |"]
    rows = [
        ("save / naive encode+SET", lambda r: f"x{ratio(r, 'save'):.2f}", TARGETS["save"]),
        ("load latest / naive GET+decode", lambda r: f"x{ratio(r, 'load'):.2f}", TARGETS["load"]),
        ("list(limit=10) / bare ZREVRANGE 0 9", lambda r: f"x{ratio(r, 'list10'):.2f}", TARGETS["list10"]),
        ("Redis CPU per save / per raw SET of the same bytes", lambda r: f"{cpu_ratio(r):.2f}×",
         "≤ 1.5× (100 KB: ≤ 2.0×)"),
        ("... / per SET of the same bytes to a new key", lambda r: f"{cpu_ratio(r, 'raw SET, new keys'):.2f}×",
         "(both keep the bytes)"),
    ]
    for name, cell, want in rows:
        lines.append(f"| {name} | " + " | ".join(cell(sizes[s]) for s in shown) + f" | {want} |")
    for op in ("put", "get_tuple"):
        if op in lg:
            r = lg[op]["RedisSaver"]["ops_per_s"] / lg[op]["InMemorySaver"]["ops_per_s"]
            blanks = " | ".join(["x%.2f" % r] + [""] * (len(shown) - 1))
            lines.append(f"| LangGraph `{op}` / `InMemorySaver.{op}` (10 KB) | {blanks} | ≥ 0.5 |")
    return lines


def print_size(size: str, res: Dict[str, Any]) -> None:
    print(f"\n## state ~{size} B of JSON: CBOR {res['cbor_bytes']} B, stored {res['stored_bytes']} B "
          f"(compression x{res['compression_ratio']:.2f}), {res['ops_per_round']} calls per round")
    for group, base in RAW_OF.items():
        for name, m in res[group].items():
            r = m["ops_per_s"] / res[group][base]["ops_per_s"]
            print(f"  {group:6s} {name:24s} {m['ops_per_s']:8.0f} ops/s  p50 {m['p50_us']:8.0f} µs  "
                  f"p99 {m['p99_us']:8.0f} µs  Redis {m['server_us']:6.1f} µs/op  x{r:.2f} of {base}")
    mem = res["memory"]
    print(f"  memory per checkpoint {mem['checkpoint_bytes']:.0f} B vs raw SET {mem['raw_set_bytes']:.0f} B "
          f"(x{mem['ratio']:.2f}); MEMORY USAGE {mem['memory_usage_checkpoint']:.0f} B vs "
          f"{mem['memory_usage_raw']:.0f} B")


def print_saturation(workers: Dict[str, List[Dict[str, Any]]]) -> None:
    """Per operation: the best aggregate throughput, and whether the server's core saturated."""
    for op, raw in parallel.RAW_OF.items():
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
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=3.0, help="per parallel measurement")
    parser.add_argument("--quick", action="store_true", help="small scaling runs (10 and 1000)")
    parser.add_argument("--out", default="benchmarks/results")
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument("--cluster", dest="cluster", action="store_const", const=True, default=None)
    cluster.add_argument("--no-cluster", dest="cluster", action="store_const", const=False)
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
            report["sizes"][str(size)] = side_by_side.bench_size(url, size, args.rounds)
        from . import langgraph_bench

        progress("LangGraph saver against InMemorySaver")
        report["langgraph_vs_memory"] = langgraph_bench.versus_memory(url, args.rounds)
        print(f"\n## Headline: ours against the naive code, same server, {args.rounds} interleaved rounds "
              "(medians)")
        print("\n".join(headline(report["sizes"], report["langgraph_vs_memory"])))
        for size, res in report["sizes"].items():
            print_size(size, res)
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
        progress("a thread of 6000 checkpoints")
        try:
            report["long_thread"] = migrate.long_thread(client, url, progress)
        except redis.RedisError as exc:  # a server elsewhere cannot reach the local target
            report["long_thread"] = {"skipped": str(exc)}
        print("\n## a thread of 6000 checkpoints of 4 KB: its biggest key, and a MIGRATE of it")
        for api in ("core", "langgraph"):
            r = report["long_thread"].get(api)
            if r is None:
                print(f"  {api}: skipped ({report['long_thread'].get('skipped')})")
                continue
            print(f"  {api:9s} {r['keys']} keys, {r['total_mb']:.1f} MB in all, the biggest {r['biggest_mb']:.2f} MB; "
                  f"MIGRATE of it {r['migrate_ms']:.1f} ms")
        progress("LangGraph savers")
        report["langgraph"] = langgraph_bench.run(url)
        print("\n## LangGraph savers (10 KB messages channel changing every step, 10 KB static channel)")
        for name, res in report["langgraph"].items():
            if not isinstance(res, dict) or "skipped" in res:
                print(f"  {name}: not measured: {res.get('skipped') if isinstance(res, dict) else res}")
                continue
            print(f"  {name:30s} put {res['put']['ops_per_s']:6.0f}/s  get_tuple {res['get_tuple']['ops_per_s']:6.0f}/s"
                  f"  list(10) {res['list10']['ops_per_s']:6.0f}/s  {res['bytes_per_checkpoint']:7.0f} B per checkpoint"
                  f"  Redis {res['server_us_per_put']:6.0f} µs per put")
        names = ("redis-checkpoint, same server", "langgraph-checkpoint-redis")
        ours, theirs = (report["langgraph"].get(k) for k in names)
        if isinstance(ours, dict) and isinstance(theirs, dict) and "skipped" not in theirs:
            print(f"  ours against langgraph-checkpoint-redis on one Redis 8 with its modules: "
                  f"put x{ours['put']['ops_per_s'] / theirs['put']['ops_per_s']:.1f}, "
                  f"get_tuple x{ours['get_tuple']['ops_per_s'] / theirs['get_tuple']['ops_per_s']:.1f}, "
                  f"list(10) x{ours['list10']['ops_per_s'] / theirs['list10']['ops_per_s']:.1f} as fast; "
                  f"{ours['bytes_per_checkpoint'] / theirs['bytes_per_checkpoint']:.2f}x the bytes, "
                  f"{ours['server_us_per_put'] / theirs['server_us_per_put']:.2f}x the Redis time per put")
        from . import async_bench

        progress("asyncio")
        report["asyncio"] = async_bench.run(url, args.rounds)
        print(f"\n## asyncio, one process, one loop, 10 KB state ({args.rounds} interleaved rounds, medians)")
        print("\n".join(async_bench.report(report["asyncio"])))
        from . import telemetry_cost

        progress("telemetry with no provider")
        report["telemetry"] = telemetry_cost.run(url, args.rounds)
        print(f"\n## telemetry with no OpenTelemetry provider, 10 KB state ({args.rounds} interleaved rounds)")
        print("\n".join(telemetry_cost.report(report["telemetry"])))
    if args.cluster or (args.cluster is None and not args.quick):
        report["cluster"] = cluster_part(args.rounds)
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


def cluster_part(rounds: int) -> Dict[str, Any]:
    """The headline's ratios at 10 KB on a 3+3 Redis Cluster started for this run."""
    from redis_checkpoint.testing import RedisClusterServers

    progress("a 3+3 cluster, 10 KB state")
    with RedisClusterServers() as servers:
        res = side_by_side.bench_size(servers.url, 10000, rounds, cluster=True)
    print("\n## Redis Cluster, 3 primaries + 3 replicas on this machine, 10 KB state")
    for group in RAW_OF:
        print(f"  {OURS_OF[group]} / {RAW_OF[group]}: x{ratio(res, group):.2f}")
    print(f"  Redis CPU per save / per raw SET: {cpu_ratio(res):.2f}× (the owning primary's, summed over nodes)")
    return res


if __name__ == "__main__":
    main()
