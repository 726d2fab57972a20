"""One client process: each operation against what a user would write by hand, interleaved.

The naive code that does the same job on the same server, with redis-py as a
user would call it (``redis.Redis.from_url``):

* save: ``r.set(key, snappy.compress(cbor2.dumps(state)))``
* load: ``cbor2.loads(snappy.decompress(r.get(key)))``
* list: a bare ``r.zrevrange(history, 0, 9)``, which returns ids only.

Every ratio compares two measurements from the same run, alternating round by
round which goes first, so machine noise hits both sides alike. Each round also
reads the server's CPU time (``INFO cpu``), for Redis CPU per operation.
"""
from __future__ import annotations

import statistics
import time
from typing import Any, Callable, Dict, List

import cbor2
import redis
import snappy

from redis_checkpoint import RedisCheckpointer
from redis_checkpoint.ids import new_id

from .states import conversation

Op = Callable[[int], Any]
THREADS = 50  # threads per size, each with a history to list from the start
#: Per group of ``bench_size``'s result: the naive row that is its limit, and ours.
RAW_OF = {"save": "naive encode+SET", "load": "naive GET+decode", "list10": "bare ZREVRANGE"}
OURS_OF = {"save": "save", "load": "load", "list10": "list"}


def ops_for(size: int) -> int:
    """Calls per round: fewer for big states, so a default run stays short."""
    return max(60, min(300, 6_000_000 // max(size, 1)))


def server_cpu(admin: Any) -> float:
    """The server's CPU seconds so far (``used_cpu_user + used_cpu_sys``)."""
    info = admin.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def interleaved(ops: Dict[str, Op], rounds: int, count: int, admin: Any = None) -> Dict[str, Dict[str, float]]:
    """Run each op ``count`` times per round, alternating the order; ops/s, latencies and,
    with ``admin``, the server's CPU µs per op."""
    per: Dict[str, List[float]] = {name: [] for name in ops}
    lat: Dict[str, List[float]] = {name: [] for name in ops}
    cpu: Dict[str, List[float]] = {name: [] for name in ops}
    counter = 0
    for r in range(rounds):
        for name in (list(ops) if r % 2 == 0 else list(ops)[::-1]):
            fn = ops[name]
            before = server_cpu(admin) if admin is not None else 0.0
            start = time.perf_counter()
            for _ in range(count):
                t0 = time.perf_counter()
                fn(counter)
                lat[name].append(time.perf_counter() - t0)
                counter += 1
            per[name].append(count / (time.perf_counter() - start))
            if admin is not None:
                cpu[name].append((server_cpu(admin) - before) / count * 1e6)
    out = {name: summary(per[name], lat[name]) for name in ops}
    if admin is not None:
        for name in ops:
            out[name]["server_us"] = statistics.median(cpu[name])
    return out


def summary(rates: List[float], latencies: List[float]) -> Dict[str, float]:
    samples = sorted(latencies)
    return {
        "ops_per_s": statistics.median(rates),
        "p50_us": samples[len(samples) // 2] * 1e6,
        "p99_us": samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1e6,
    }


def timed(fn: Op, calls: int = 300, warmup: int = 20) -> Dict[str, float]:
    """``fn(0)`` to ``fn(calls - 1)`` timed one by one, after ``warmup`` untimed calls
    (connections, scripts, caches): ops/s and latencies."""
    for i in range(warmup):
        fn(calls + i)
    lat = []
    start = time.perf_counter()
    for i in range(calls):
        t0 = time.perf_counter()
        fn(i)
        lat.append(time.perf_counter() - t0)
    return summary([calls / (time.perf_counter() - start)], lat)


def clear(client: Any, prefix: str, settle: float = 30.0) -> None:
    """Unlink every key under ``prefix``, then wait (at most ``settle`` seconds) until
    Redis has freed them: UNLINK frees big keys in a background thread, which would
    otherwise share the cores with, and shrink the used_memory of, what runs next."""
    nodes = client.get_primaries() if isinstance(client, redis.RedisCluster) else [None]
    for node in nodes:
        each = client if node is None else node.redis_connection
        for key in each.scan_iter(match=f"{prefix}*", count=1000):
            each.unlink(key)
        deadline = time.monotonic() + settle
        while each.info("memory").get("lazyfree_pending_objects", 0) and time.monotonic() < deadline:
            time.sleep(0.05)


def bench_size(url: str, size: int, rounds: int, *, cluster: bool = False) -> Dict[str, Any]:
    """Ours against the naive code for a conversation state of ``size`` bytes of JSON."""
    prefix = f"bench{size}"
    new_client = (lambda: redis.RedisCluster.from_url(url)) if cluster else (lambda: redis.Redis.from_url(url))
    naive, admin = new_client(), new_client()
    clear(admin, prefix)
    count = ops_for(size)
    cp = RedisCheckpointer.from_url(url, key_prefix=prefix, cluster=cluster)
    plain = RedisCheckpointer.from_url(url, key_prefix=prefix + "plain", compression=None, cluster=cluster)
    state = conversation(size)
    blob = cp.engine.options.codec.encode(state)
    naive_blob = snappy.compress(cbor2.dumps(state))
    first_ids = []
    for i in range(THREADS):
        first_ids.append(cp.save(f"t{i}", state).id)
        for _ in range(9):
            cp.save(f"t{i}", state)
        naive.set(f"{prefix}:naive:{{t{i}}}", naive_blob)
        naive.set(f"{prefix}:raw:{{t{i}}}", blob)
        naive.zadd(f"{prefix}:history:{{t{i}}}", {new_id(): n for n in range(20)})
    res: Dict[str, Any] = {
        "json_bytes": len(__import__("json").dumps(state).encode()),
        "cbor_bytes": len(cbor2.dumps(state)),
        "stored_bytes": len(blob),
        "ops_per_round": count,
    }
    res["compression_ratio"] = res["cbor_bytes"] / res["stored_bytes"]
    tid = lambda i: f"t{i % THREADS}"  # noqa: E731
    key = lambda kind, i: f"{prefix}:{kind}:{{t{i % THREADS}}}"  # noqa: E731
    # threads of their own: compare-and-set against the id this process saved last
    current = {f"c{i}": cp.save(f"c{i}", state).id for i in range(THREADS)}

    def cas_save(i: int) -> None:
        t = f"c{i % THREADS}"
        current[t] = cp.save(t, state, expected_id=current[t]).id

    res["save"] = interleaved({
        "naive encode+SET": lambda i: naive.set(key("naive", i), snappy.compress(cbor2.dumps(state))),
        "raw SET": lambda i: naive.set(key("raw", i), blob),
        "raw SET, new keys": lambda i: naive.set(f"{prefix}:new:{{t{i % THREADS}}}:{i}", blob),
        "save": lambda i: cp.save(tid(i), state),
        "save (CAS)": lambda i: cas_save(i),
        "save, compression off": lambda i: plain.save(tid(i), state),
    }, rounds, count, admin)
    res["load"] = interleaved({
        "naive GET+decode": lambda i: cbor2.loads(snappy.decompress(naive.get(key("naive", i)))),
        "raw GET": lambda i: naive.get(key("raw", i)),
        "load": lambda i: cp.load(tid(i)),
        "load by id": lambda i: cp.load(tid(i), first_ids[i % THREADS]),
    }, rounds, count, admin)
    res["list10"] = interleaved({
        "bare ZREVRANGE": lambda i: naive.zrevrange(key("history", i), 0, 9),
        "list": lambda i: cp.list(tid(i), limit=10),
    }, rounds, count, admin)
    res["memory"] = memory(naive, admin, cp, state, blob, prefix)
    cp.close()
    plain.close()
    clear(admin, prefix)
    naive.close()
    admin.close()
    return res


def memory(client: Any, admin: Any, cp: RedisCheckpointer, state: Any, blob: bytes, prefix: str,
           n: int = 200) -> Dict[str, float]:
    """Bytes per checkpoint: used_memory growth and MEMORY USAGE, against raw SETs of the blob."""
    mem = RedisCheckpointer(cp.client, key_prefix=prefix + "mem")

    def used() -> int:
        nodes = admin.get_primaries() if isinstance(admin, redis.RedisCluster) else [None]
        return sum(int((admin if node is None else node.redis_connection).info("memory")["used_memory"])
                   for node in nodes)

    def grow(fn: Op) -> float:
        before = used()
        for i in range(n):
            fn(i)
        return (used() - before) / n

    raw = grow(lambda i: client.set(f"{prefix}:memraw:{{m}}:{i}", blob))
    ours = grow(lambda i: mem.save("m", state))
    keys = mem.keys("m")
    first, end = admin.hmget(keys.head, "s0", "sn")
    every = (*keys, *keys.segments(first or 0, end or 0))
    usage = sum(admin.memory_usage(k, samples=0) or 0 for k in every) / n
    raw_usage = sum(admin.memory_usage(f"{prefix}:memraw:{{m}}:{i}", samples=0) or 0 for i in range(n)) / n
    return {
        "raw_set_bytes": raw, "checkpoint_bytes": ours, "ratio": ours / raw if raw else float("nan"),
        "memory_usage_checkpoint": usage, "memory_usage_raw": raw_usage,
    }


def main(argv: "List[str] | None" = None) -> None:
    """``python -m benchmarks.side_by_side [--url URL] [--size 10000] [--rounds 7]``: this
    comparison alone, for one state size, printed as ratios to the hand-written code."""
    import argparse

    from . import target

    parser = argparse.ArgumentParser(prog="python -m benchmarks.side_by_side", description=main.__doc__)
    parser.add_argument("--url", default=None, help="a Redis to measure on (default: a throwaway redis-server)")
    parser.add_argument("--size", type=int, default=10000, help="state size in bytes of JSON (default: 10000)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default: 7)")
    args = parser.parse_args(argv)
    with target(args.url) as (_client, url, _started):
        res = bench_size(url, args.size, args.rounds)
    for group, raw in RAW_OF.items():
        ours = res[group][OURS_OF[group]]
        print(f"{OURS_OF[group]:5s} x{ours['ops_per_s'] / res[group][raw]['ops_per_s']:.2f} of {raw} "
              f"({ours['ops_per_s']:.0f} ops/s, p50 {ours['p50_us']:.0f} µs)")
    print(f"bytes per checkpoint x{res['memory']['ratio']:.2f} of a raw SET")


if __name__ == "__main__":
    main()
