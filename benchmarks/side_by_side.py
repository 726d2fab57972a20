"""One client process: each operation against its raw redis-py equivalent, interleaved.

Every ratio compares two measurements from the same run, alternating round by
round which goes first, so machine noise hits both sides alike.
"""
from __future__ import annotations

import json
import pickle
import statistics
import time
from typing import Any, Callable, Dict, List

import snappy

from redis_checkpoint import RedisCheckpointer
from redis_checkpoint.codec import Codec
from redis_checkpoint.ids import new_id
from redis_checkpoint.scripts import save_args, scripts_for

from .states import conversation

Op = Callable[[int], Any]
THREADS = 50  # threads per size, each with history to list from the start
#: The cheapest atomic write and list a script can make: no checks, no record,
#: no history; the floor under save.lua and list.lua.
FLOOR_SAVE = "#!lua\nreturn redis.call('HSET', KEYS[1], 'state', ARGV[1])"
FLOOR_LIST = "#!lua flags=no-writes\nreturn redis.call('ZREVRANGE', KEYS[1], 0, 9)"
#: Per group of ``bench_size``'s result: the raw redis-py row that is its limit,
#: and the checkpointer's own row.
RAW_OF = {"save": "raw SET", "load": "raw GET", "list10": "raw ZREVRANGE"}
OURS_OF = {"save": "save", "load": "load", "list10": "list"}


def ops_for(size: int) -> int:
    """Calls per round: fewer for big states, so a default run stays short."""
    return max(20, min(300, 3_000_000 // max(size, 1)))


def interleaved(ops: Dict[str, Op], rounds: int, count: int) -> Dict[str, Dict[str, float]]:
    """Run each op ``count`` times per round, alternating the order; ops/s and latencies."""
    per: Dict[str, List[float]] = {name: [] for name in ops}
    lat: Dict[str, List[float]] = {name: [] for name in ops}
    counter = 0
    for r in range(rounds):
        for name in (list(ops) if r % 2 == 0 else list(ops)[::-1]):
            fn = ops[name]
            start = time.perf_counter()
            for _ in range(count):
                t0 = time.perf_counter()
                fn(counter)
                lat[name].append(time.perf_counter() - t0)
                counter += 1
            per[name].append(count / (time.perf_counter() - start))
    return {name: summary(per[name], lat[name]) for name in ops}


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
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.unlink(key)
    deadline = time.monotonic() + settle
    while client.info("memory").get("lazyfree_pending_objects", 0) and time.monotonic() < deadline:
        time.sleep(0.05)


def bench_size(client: Any, size: int, rounds: int) -> Dict[str, Any]:
    prefix = f"bench{size}"
    clear(client, prefix)
    count = ops_for(size)
    cp = RedisCheckpointer(client, key_prefix=prefix)
    plain = RedisCheckpointer(client, key_prefix=prefix + "plain", compression=None)
    state = conversation(size)
    codec = Codec()
    blob = codec.encode(state)
    first_ids = []
    for i in range(THREADS):
        first_ids.append(cp.save(f"t{i}", state).id)
        for _ in range(9):
            cp.save(f"t{i}", state)
        client.set(f"{prefix}:raw:{i}", blob)
    history = [cp.keys(f"t{i}").history for i in range(THREADS)]
    threads = [cp.keys(f"t{i}").thread for i in range(THREADS)]
    json_blob = json.dumps(state).encode()
    res: Dict[str, Any] = {
        "json_bytes": len(json_blob),
        "cbor_bytes": len(Codec(compression=None).encode(state)),
        "stored_bytes": len(blob),
        "ops_per_round": count,
    }
    res["compression_ratio"] = res["cbor_bytes"] / res["stored_bytes"]
    tid = lambda i: f"t{i % THREADS}"  # noqa: E731
    # threads of their own: compare-and-set against the id this process saved last
    current = {f"c{i}": cp.save(f"c{i}", state).id for i in range(THREADS)}

    def cas_save(i: int) -> None:
        t = f"c{i % THREADS}"
        current[t] = cp.save(t, state, expected_id=current[t]).id

    # Where the gap to raw comes from, one part at a time: encoding alone
    # ("encode + raw SET"), the atomic script alone (a bare EVALSHA of the bytes
    # encoded once, with the arguments save.lua's header lists), decoding alone,
    # load's one command alone, the list script alone. And the floor any atomic
    # script sets, whatever it does: a script that only stores the bytes (one
    # HSET), with and without encoding them first, and one that only reads the
    # ids (one ZREVRANGE).
    scripts = scripts_for(client)
    floor_save = client.register_script(FLOOR_SAVE)
    floor_list = client.register_script(FLOOR_LIST)
    cp.list("t0", limit=10)  # the saves above loaded save.lua; this loads list.lua
    bare = [cp.keys(f"e{i}") for i in range(THREADS)]

    def script_only(i: int) -> None:
        k = bare[i % THREADS]
        client.evalsha(scripts.save.sha, len(k), *k, *save_args(new_id(), "", "", blob, b"", 0, 0, False, 0))

    res["save"] = interleaved({
        "raw SET": lambda i: client.set(f"{prefix}:new:{i % THREADS}", blob),
        "encode + raw SET": lambda i: client.set(f"{prefix}:enc:{i % THREADS}", codec.encode(state)),
        "save script alone": script_only,
        "one-HSET script": lambda i: floor_save(keys=[bare[i % THREADS].thread], args=[blob]),
        "encode + one-HSET script": lambda i: floor_save(keys=[bare[i % THREADS].thread], args=[codec.encode(state)]),
        "save": lambda i: cp.save(tid(i), state),
        "save (CAS)": lambda i: cas_save(i),
        "save, compression off": lambda i: plain.save(tid(i), state),
        "JSON+snappy+SET": lambda i: client.set(f"{prefix}:json:{i % THREADS}", snappy.compress(json.dumps(state).encode())),
        "pickle+snappy+SET": lambda i: client.set(f"{prefix}:pkl:{i % THREADS}", snappy.compress(pickle.dumps(state, 5))),
    }, rounds, count)
    res["load"] = interleaved({
        "raw GET": lambda i: client.get(f"{prefix}:raw:{i % THREADS}"),
        "raw GET + decode": lambda i: codec.decode(client.get(f"{prefix}:raw:{i % THREADS}")),
        "load's HMGET alone": lambda i: client.hmget(threads[i % THREADS], "current", "record", "state"),
        "load": lambda i: cp.load(tid(i)),
        "load by id": lambda i: cp.load(tid(i), first_ids[i % THREADS]),
    }, rounds, count)
    res["list10"] = interleaved({
        "raw ZREVRANGE": lambda i: client.zrevrange(history[i % THREADS], 0, 9),
        "list script alone": lambda i: client.evalsha(
            scripts.list.sha, 2, history[i % THREADS], threads[i % THREADS], "", 10),
        "one-ZREVRANGE script": lambda i: floor_list(keys=[history[i % THREADS]]),
        "list": lambda i: cp.list(tid(i), limit=10),
    }, rounds, count)
    res["memory"] = memory(client, state, blob, prefix)
    clear(client, prefix)
    return res


def memory(client: Any, state: Any, blob: bytes, prefix: str, n: int = 200) -> Dict[str, float]:
    """Bytes per checkpoint: used_memory growth and MEMORY USAGE, against raw SETs of the blob."""
    cp = RedisCheckpointer(client, key_prefix=prefix + "mem")

    def grow(fn: Op) -> float:
        before = client.info("memory")["used_memory"]
        for i in range(n):
            fn(i)
        return (client.info("memory")["used_memory"] - before) / n

    raw = grow(lambda i: client.set(f"{prefix}:memraw:{i}", blob))
    ours = grow(lambda i: cp.save("mem", state))
    keys = cp.keys("mem")
    usage = sum(client.memory_usage(k, samples=0) or 0 for k in keys) / n
    raw_usage = sum(client.memory_usage(f"{prefix}:memraw:{i}", samples=0) or 0 for i in range(n)) / n
    return {
        "raw_set_bytes": raw, "checkpoint_bytes": ours, "ratio": ours / raw if raw else float("nan"),
        "memory_usage_checkpoint": usage, "memory_usage_raw": raw_usage,
    }
