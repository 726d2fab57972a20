"""W worker processes driving one operation at once: aggregate throughput and latency.

Each worker builds its own client and checkpointer (nothing crosses the fork),
waits at a barrier, runs its operation for a fixed time and reports how many
calls it made and a sample of their latencies. The Redis server's CPU time over
the same window says whether the server core is the bottleneck.
"""
from __future__ import annotations

import multiprocessing
import time
from typing import Any, Dict, List

import redis

from redis_checkpoint import RedisCheckpointer
from redis_checkpoint.codec import Codec

from .side_by_side import clear, summary
from .states import conversation

fork = multiprocessing.get_context("fork")
OPERATIONS = ("raw SET", "save", "raw GET", "load", "list10")
#: Each operation of ours and the raw one beside it (no raw ZREVRANGE runs in parallel).
RAW_OF = {"save": "raw SET", "load": "raw GET", "list10": "raw ZREVRANGE"}


def _worker(url: str, prefix: str, size: int, op: str, seconds: float, barrier: Any, out: Any, n: int) -> None:
    client = redis.Redis.from_url(url)
    cp = RedisCheckpointer(client, key_prefix=prefix)
    state = conversation(size)
    blob = Codec().encode(state)
    mine = [f"w{n}-{k}" for k in range(10)]
    for tid in mine:  # each thread has a history before timing starts
        for _ in range(10):
            cp.save(tid, state)
        client.set(f"{prefix}:raw:{tid}", blob)
    fn = {
        "raw SET": lambda i: client.set(f"{prefix}:raw:{mine[i % 10]}", blob),
        "save": lambda i: cp.save(mine[i % 10], state),
        "raw GET": lambda i: client.get(f"{prefix}:raw:{mine[i % 10]}"),
        "load": lambda i: cp.load(mine[i % 10]),
        "list10": lambda i: cp.list(mine[i % 10], limit=10),
    }[op]
    barrier.wait()
    latencies: List[float] = []
    calls = 0
    end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        if t0 >= end:
            break
        fn(calls)
        if calls % 4 == 0:
            latencies.append(time.perf_counter() - t0)
        calls += 1
    out.put((calls, latencies))
    client.close()


def run(url: str, size: int, op: str, workers: int, seconds: float) -> Dict[str, Any]:
    prefix = f"par{size}"
    barrier = fork.Barrier(workers + 1)
    out = fork.Queue()
    procs = [
        fork.Process(target=_worker, args=(url, prefix, size, op, seconds, barrier, out, n))
        for n in range(workers)
    ]
    for p in procs:
        p.start()
    admin = redis.Redis.from_url(url)
    barrier.wait()
    cpu0, t0 = _server_cpu(admin), time.perf_counter()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    wall = time.perf_counter() - t0
    server_cpu = (_server_cpu(admin) - cpu0) / wall
    for p in procs:
        p.join(30)
    clear(admin, prefix)
    admin.close()
    calls = sum(c for c, _ in results)
    latencies = [x for _, lat in results for x in lat]
    stats = summary([calls / seconds], latencies)
    stats.update(workers=workers, server_cpu=server_cpu)
    return stats


def _server_cpu(client: Any) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
