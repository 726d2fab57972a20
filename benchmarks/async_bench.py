"""The asyncio classes, one process, one event loop, 10 KB state.

* ``AsyncRedisCheckpointer.save`` against what a user writes by hand with
  ``redis.asyncio``: ``await r.set(key, snappy.compress(cbor2.dumps(state)))``, one
  task, interleaved rounds (medians);
* ``AsyncRedisSaver``'s ``aput`` and ``aget_tuple`` with ``TASKS`` concurrent tasks on
  the loop, against ``RedisSaver``'s, which run the blocking calls in worker threads
  (``asyncio.to_thread``), interleaved the same way.

``python -m benchmarks.async_bench [--url URL]`` runs it alone.
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from typing import Any, Awaitable, Callable, Dict, List

import cbor2
import redis.asyncio
import snappy

from redis_checkpoint import AsyncRedisCheckpointer

from . import run_alone
from .states import conversation

TASKS = 100
AsyncOp = Callable[[int], Awaitable[Any]]


async def interleaved(ops: Dict[str, AsyncOp], rounds: int, count: int, tasks: int = 1) -> Dict[str, float]:
    """Each op ``count`` times per round in ``tasks`` concurrent tasks, the order alternating
    round by round; the median ops/s of each."""
    rates: Dict[str, List[float]] = {name: [] for name in ops}
    for r in range(rounds):
        for name in (list(ops) if r % 2 == 0 else list(ops)[::-1]):
            fn = ops[name]

            async def worker(first: int) -> None:
                for i in range(first, count, tasks):
                    await fn(i)

            start = time.perf_counter()
            await asyncio.gather(*(worker(t) for t in range(tasks)))
            rates[name].append(count / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def _step(saver: Any, thread: str, step: int, versions: Dict[str, Any], values: Dict[str, Any]) -> Any:
    from .langgraph_bench import _checkpoint

    ckpt, new = _checkpoint(saver, step, versions, dict(values))
    config = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    return config, ckpt, {"source": "loop", "step": step}, new


async def _run(url: str, rounds: int) -> Dict[str, Any]:
    from redis_checkpoint.langgraph import AsyncRedisSaver, RedisSaver

    prefix = f"abench{uuid.uuid4().hex[:6]}"
    state = conversation(10000)
    out: Dict[str, Any] = {"tasks": TASKS}
    async with AsyncRedisCheckpointer.from_url(url, key_prefix=prefix, cluster=False) as cp:
        naive = redis.asyncio.Redis.from_url(url)

        async def ours(i: int) -> None:
            await cp.save(f"t{i % 50}", state)

        async def by_hand(i: int) -> None:
            await naive.set(f"{prefix}:naive:{{t{i % 50}}}", snappy.compress(cbor2.dumps(state)))

        out["save"] = await interleaved({"AsyncRedisCheckpointer.save": ours, "naive encode+SET": by_hand},
                                        rounds, 300)
        await naive.aclose()

    native = AsyncRedisSaver.from_url(url, key_prefix=prefix + "n", cluster=False, max_connections=TASKS)
    threaded = RedisSaver.from_url(url, key_prefix=prefix + "t", cluster=False, max_connections=TASKS)
    values = {"messages": state["messages"], "documents": conversation(10000, seed=2)["messages"]}
    savers = {"AsyncRedisSaver": native, "RedisSaver via to_thread": threaded}
    steps = {name: 0 for name in savers}
    versions: Dict[str, Dict[str, Dict[str, Any]]] = {name: {} for name in savers}

    def put(name: str) -> AsyncOp:
        saver = savers[name]

        async def one(i: int) -> None:  # each task its own thread: concurrent agents
            thread = f"agent{i % TASKS}"
            steps[name] += 1
            await saver.aput(*_step(saver, thread, steps[name], versions[name].setdefault(thread, {}), values))
        return one

    def get(name: str) -> AsyncOp:
        saver = savers[name]

        async def one(i: int) -> None:
            await saver.aget_tuple({"configurable": {"thread_id": f"agent{i % TASKS}", "checkpoint_ns": ""}})
        return one

    count = TASKS * 5
    out["put"] = await interleaved({name: put(name) for name in savers}, rounds, count, TASKS)
    out["get_tuple"] = await interleaved({name: get(name) for name in savers}, rounds, count, TASKS)
    await native.aclose()
    threaded.close()
    return out


def run(url: str, rounds: int = 7) -> Dict[str, Any]:
    return asyncio.run(_run(url, rounds))


def report(res: Dict[str, Any]) -> List[str]:
    save = res["save"]
    lines = [f"  AsyncRedisCheckpointer.save {save['AsyncRedisCheckpointer.save']:7.0f}/s  naive redis.asyncio "
             f"encode+SET {save['naive encode+SET']:7.0f}/s  "
             f"x{save['AsyncRedisCheckpointer.save'] / save['naive encode+SET']:.2f} (target ≥ 0.8)"]
    for op in ("put", "get_tuple"):
        r = res[op]
        lines.append(f"  {op:9s} with {res['tasks']} tasks: AsyncRedisSaver {r['AsyncRedisSaver']:7.0f}/s  "
                     f"RedisSaver via to_thread {r['RedisSaver via to_thread']:7.0f}/s  "
                     f"x{r['AsyncRedisSaver'] / r['RedisSaver via to_thread']:.2f} (target ≥ 2)")
    return lines


def main(argv: "List[str] | None" = None) -> None:
    run_alone("async_bench", __doc__, run, report, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
