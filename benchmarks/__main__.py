"""Side-by-side benchmark: RedisCheckpointer against raw redis-py on the same server.

Every ratio compares two measurements taken in the same run, interleaved round
by round, so machine noise hits both sides alike. Nothing here asserts a time.

    python -m benchmarks [--url URL] [--sizes 1000,10000] [--rounds 7] [--ops 300]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Any, Callable, Dict, List, Optional

import redis

from redis_checkpoint import RedisCheckpointer
from redis_checkpoint.codec import Codec

from .states import conversation

Op = Callable[[int], Any]


def interleaved(pair: Dict[str, Op], rounds: int, ops: int) -> Dict[str, Dict[str, float]]:
    """Run each op ``ops`` times per round, alternating which goes first; ops/s per round."""
    per: Dict[str, List[float]] = {name: [] for name in pair}
    lat: Dict[str, List[float]] = {name: [] for name in pair}
    counter = 0
    for r in range(rounds):
        names = list(pair) if r % 2 == 0 else list(pair)[::-1]
        for name in names:
            fn = pair[name]
            start = time.perf_counter()
            for _ in range(ops):
                t0 = time.perf_counter()
                fn(counter)
                lat[name].append(time.perf_counter() - t0)
                counter += 1
            per[name].append(ops / (time.perf_counter() - start))
    out = {}
    for name in pair:
        samples = sorted(lat[name])
        out[name] = {
            "ops_per_s": statistics.median(per[name]),
            "p50_us": samples[len(samples) // 2] * 1e6,
            "p99_us": samples[int(len(samples) * 0.99)] * 1e6,
        }
    return out


def bench_size(client: Any, size: int, rounds: int, ops: int, threads: int = 100) -> Dict[str, Any]:
    prefix = f"bench{size}"
    for key in client.scan_iter(match=f"{prefix}*", count=1000):  # a previous run's keys
        client.unlink(key)
    cp = RedisCheckpointer(client, key_prefix=prefix)
    state = conversation(size)
    blob = Codec().encode(state)
    for i in range(threads):  # every thread has history to list from the start
        for _ in range(10):
            cp.save(f"t{i}", state)
    for i in range(threads):
        client.set(f"{prefix}:raw:{i}", blob)
    history = [cp.keys(f"t{i}").history for i in range(threads)]
    results: Dict[str, Any] = {"state_json_bytes": len(json.dumps(state)), "stored_bytes": len(blob)}
    codec = Codec()
    results["save"] = interleaved(
        {
            "raw SET": lambda i: client.set(f"{prefix}:new:{i}", blob),
            "encode+SET": lambda i: client.set(f"{prefix}:enc:{i}", codec.encode(state)),
            "save": lambda i: cp.save(f"t{i % threads}", state),
        },
        rounds, ops,
    )
    results["load"] = interleaved(
        {
            "raw GET": lambda i: client.get(f"{prefix}:raw:{i % threads}"),
            "GET+decode": lambda i: codec.decode(client.get(f"{prefix}:raw:{i % threads}")),
            "load": lambda i: cp.load(f"t{i % threads}"),
        },
        rounds, ops,
    )
    results["list10"] = interleaved(
        {
            "raw ZREVRANGE": lambda i: client.zrevrange(history[i % threads], 0, 9),
            "list": lambda i: cp.list(f"t{i % threads}", limit=10),
        },
        rounds, ops,
    )
    results["memory"] = memory_per_checkpoint(client, state, blob, prefix)
    return results


def memory_per_checkpoint(client: Any, state: Any, blob: bytes, prefix: str, n: int = 500) -> Dict[str, float]:
    """used_memory growth per checkpoint (one thread) against a raw SET of the same bytes."""
    cp = RedisCheckpointer(client, key_prefix=prefix + "mem")

    def grow(fn: Callable[[int], Any]) -> float:
        before = client.info("memory")["used_memory"]
        for i in range(n):
            fn(i)
        return (client.info("memory")["used_memory"] - before) / n

    raw = grow(lambda i: client.set(f"{prefix}:memraw:{i}", blob))
    ours = grow(lambda i: cp.save("mem", state))
    return {"raw_set_bytes": raw, "checkpoint_bytes": ours, "ratio": ours / raw}


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="redis-checkpoint against raw redis-py, side by side")
    parser.add_argument("--url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--out", default="benchmarks/results/latest.json")
    args = parser.parse_args(argv)
    server = None
    if args.url:
        url = args.url
    else:
        from redis_checkpoint.testing import RedisServer

        server = RedisServer()
        url = server.url
    client = redis.Redis.from_url(url)
    info = client.info("server")
    report: Dict[str, Any] = {
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "redis": info["redis_version"],
        "sizes": {},
    }
    print(f"# {report['machine']}; redis-server {report['redis']} on loopback; one client process")
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            print(f"\n## state ~{size} bytes of JSON", flush=True)
            res = bench_size(client, size, args.rounds, args.ops)
            report["sizes"][size] = res
            print(f"stored {res['stored_bytes']} bytes (CBOR+snappy) for {res['state_json_bytes']} bytes of JSON")
            for op, base in (("save", "raw SET"), ("load", "raw GET"), ("list10", "raw ZREVRANGE")):
                for name, m in res[op].items():
                    ratio = m["ops_per_s"] / res[op][base]["ops_per_s"]
                    print(f"  {op:6s} {name:14s} {m['ops_per_s']:8.0f} ops/s  p50 {m['p50_us']:7.0f} us  "
                          f"p99 {m['p99_us']:7.0f} us  x{ratio:.2f} of {base}")
            mem = res["memory"]
            print(f"  memory per checkpoint {mem['checkpoint_bytes']:.0f} B vs raw SET {mem['raw_set_bytes']:.0f} B"
                  f" (x{mem['ratio']:.2f})")
    finally:
        client.close()
        if server is not None:
            server.close()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(report, fh, indent=2)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
