"""Saver processes for fault tests: save continuously, remember what was acknowledged.

Also the history check every concurrency and fault test shares (``chain_ok``).

Each saver names its checkpoints itself (``<thread>-<n>``) and, when a save
fails, saves the same id again: that is how a careful caller retries, and it
makes any duplicate a bug of ours, never of the test.
"""
from __future__ import annotations

import asyncio
import multiprocessing
from collections import Counter
from typing import Any, Awaitable, Callable, Dict, List, Sequence, Tuple

from redis_checkpoint import AsyncRedisCheckpointer, RedisCheckpointer, ReplicationError, StorageError

fork = multiprocessing.get_context("fork")

Result = Tuple[Dict[str, List[str]], Dict[str, int], List[str]]


def save_until_stopped(
    url: str, prefix: str, thread_ids: Sequence[str], stop: Any, started: Any, out: Any, options: Dict[str, Any],
    api: str = "sync",
) -> None:
    """Save round-robin over ``thread_ids`` until ``stop`` is set; put (acked, errors, messages)
    on ``out``. ``api="async"``: the same with ``AsyncRedisCheckpointer`` on an event loop."""
    if api == "async":
        acp = AsyncRedisCheckpointer.from_url(url, key_prefix=prefix, **options)

        async def run() -> Result:
            async with acp:
                return await save_rounds(acp.save, thread_ids, stop, started)

        out.put(asyncio.run(run()))
        return
    cp = RedisCheckpointer.from_url(url, key_prefix=prefix, **options)

    async def save(*args: Any, **kwargs: Any) -> Any:
        return cp.save(*args, **kwargs)

    result = asyncio.run(save_rounds(save, thread_ids, stop, started))
    cp.close()
    out.put(result)


async def save_rounds(save: Callable[..., Awaitable[Any]], thread_ids: Sequence[str], stop: Any,
                      started: Any) -> Result:
    """The loop of :func:`save_until_stopped`, on either API."""
    acked: Dict[str, List[str]] = {tid: [] for tid in thread_ids}
    errors: Counter[str] = Counter()
    messages: List[str] = []
    n = 0
    while not stop.is_set():
        tid = thread_ids[n % len(thread_ids)]
        cid = f"{tid}-{n}"
        while True:
            try:
                await save(tid, {"n": n, "pad": "x" * 200}, checkpoint_id=cid)
                acked[tid].append(cid)
                break
            except ReplicationError:
                errors["replication"] += 1  # stored on the primary only: not acknowledged
                await asyncio.sleep(0.05)
            except StorageError as exc:
                errors["storage"] += 1
                messages.append(str(exc))
                if stop.is_set():
                    break
        n += 1
        if n == 20:
            started.release()
    if n < 20:
        started.release()
    return acked, dict(errors), messages[:5]


class Savers:
    """``count`` saver processes; ``stop()`` returns every saver's result."""

    def __init__(self, url: str, prefix: str, thread_ids: Sequence[Sequence[str]], api: str = "sync",
                 **options: Any) -> None:
        self.stop_event = fork.Event()
        self.started = fork.Semaphore(0)
        self.out = fork.Queue()
        self.procs = [
            fork.Process(
                target=save_until_stopped,
                args=(url, prefix, list(tids), self.stop_event, self.started, self.out, options, api),
            )
            for tids in thread_ids
        ]
        for proc in self.procs:
            proc.start()
        for _ in self.procs:  # every saver has saved 20 checkpoints before faults begin
            assert self.started.acquire(timeout=60), "a saver did not get going"

    def stop(self, timeout: float = 120.0) -> List[Result]:
        self.stop_event.set()
        results = [self.out.get(timeout=timeout) for _ in self.procs]
        for proc in self.procs:
            proc.join(30)
            assert proc.exitcode == 0
        return results


def chain_ok(cp: RedisCheckpointer, thread: str) -> List[str]:
    """History ids oldest first; asserts no duplicates and a linear parent chain."""
    metas = cp.list(thread)[::-1]
    ids = [m.id for m in metas]
    assert len(ids) == len(set(ids)), f"duplicate history entries in {thread}"
    for older, newer in zip(metas, metas[1:]):
        assert newer.parent_id == older.id, f"broken parent chain in {thread}"
    if metas:
        assert metas[0].parent_id is None
    return ids


def check_histories(cp: RedisCheckpointer, results: List[Result], allow_lost: bool = False) -> Dict[str, int]:
    """Every acknowledged id is in its thread's history, in order, once; chains are linear.

    ``allow_lost=True`` counts acknowledged saves that are gone (``"lost"``)
    instead of failing: for writers that did not ask for replicas.
    """
    totals: Counter[str] = Counter()
    for acked, errors, _messages in results:
        totals.update(errors)
        for tid, ids in acked.items():
            stored = chain_ok(cp, tid)
            missing = [cid for cid in ids if cid not in set(stored)]
            if allow_lost:
                totals["lost"] += len(missing)
                ids = [cid for cid in ids if cid not in set(missing)]
                missing = []
            assert not missing, f"{len(missing)} acknowledged saves lost in {tid}: {missing[:5]}"
            # one writer per thread: the stored order is the order they were acknowledged
            assert [cid for cid in stored if cid in set(ids)] == ids
            totals["acked"] += len(ids)
    return dict(totals)
