"""Soak for the LangGraph savers: ``test_soak.py``'s faults under ``put``, ``put_writes``
and ``get_tuple``.

Workers share one saver, each owning two threads. Every step puts a checkpoint whose
parent is the previous one, then a task's writes against it, sending either call
again after an error, as LangGraph's own retry of a step would. After each step it
reads the thread's latest checkpoint and one older one: a read that returns another
thread's values, an older checkpoint or lost writes fails the test, and so does a
history that is not exactly the acknowledged puts, each once, parent after parent.

As in ``test_soak.py``, the workers are coroutines on one loop: ``RedisSaver``'s calls
each run in a thread of their own, ``AsyncRedisSaver``'s on the loop, where a quarter of
them are cancelled after 0 to 3 ms and sent again.
"""
from __future__ import annotations

import os
import random
import threading
import time
from typing import Any, Awaitable, Dict, List, Sequence, Tuple

import pytest
from langgraph.checkpoint.base import empty_checkpoint

from redis_checkpoint.core import INLINE_MAX
from redis_checkpoint.langgraph import AsyncRedisSaver, RedisSaver
from redis_checkpoint.testing import RedisClusterServers, RedisServer

from .test_soak import SOCKET_TIMEOUT, WORKERS, Calls, Counts, in_threads, patiently, primaries, under_chaos

pytestmark = pytest.mark.redis


def config(tid: str, cid: str = "") -> Any:
    conf: Any = {"configurable": {"thread_id": tid, "checkpoint_ns": ""}}
    if cid:
        conf["configurable"]["checkpoint_id"] = cid
    return conf


async def work(calls: Calls, tids: Sequence[str], stop: threading.Event, cancel: bool, counts: Counts,
               acked: Dict[str, List[str]], wrong: List[str]) -> None:
    rng = random.Random(tids[0])
    deadline = time.monotonic() + 120
    n = 0
    while not stop.is_set() or n < 20:
        tid = tids[n % len(tids)]
        step = n // len(tids)
        values = {"tid": tid, "step": step, "pad": os.urandom(INLINE_MAX + 100) if step % 3 == 0 else b"small"}
        ckpt = empty_checkpoint()  # ids grow with time, as LangGraph's do
        ckpt.update(channel_values={"messages": values}, channel_versions={"messages": step + 1})
        parent = config(tid, acked[tid][-1] if acked[tid] else "")
        got = await patiently(lambda: calls["put"](parent, ckpt, {"step": step}, {"messages": step + 1}),
                              rng, cancel, counts, deadline)
        if got["configurable"]["checkpoint_id"] != ckpt["id"]:
            wrong.append(f"put({tid}) answered {got}")
        acked[tid].append(ckpt["id"])
        writes = [("out", {"tid": tid, "step": step})]
        await patiently(lambda: calls["put_writes"](got, writes, f"task-{step}"), rng, cancel, counts, deadline)
        latest = await patiently(lambda: calls["get_tuple"](config(tid)), rng, cancel, counts, deadline)
        if (latest is None or latest.checkpoint["id"] != ckpt["id"]
                or latest.checkpoint["channel_values"].get("messages") != values
                or [(w[0], w[2]) for w in latest.pending_writes or []] != [(f"task-{step}", writes[0][1])]):
            wrong.append(f"get_tuple({tid}) after step {step}: {latest and latest.checkpoint['id']}")
        index = rng.randrange(len(acked[tid]))
        older = await patiently(lambda: calls["get_tuple"](config(tid, acked[tid][index])), rng, cancel, counts,
                                deadline)
        if older is None or older.checkpoint["channel_values"]["messages"]["step"] != index:
            wrong.append(f"get_tuple({tid}, step {index}): {older and older.checkpoint['id']}")
        n += 1


def soak(url: str, ports: Sequence[int], prefix: str, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    cancel = kind == "async"
    cls = AsyncRedisSaver if cancel else RedisSaver
    saver = cls.from_url(url, key_prefix=prefix, socket_timeout=SOCKET_TIMEOUT, retry_budget=60,
                         segment_checkpoints=8)
    if cancel:
        calls: Calls = {"put": saver.aput, "put_writes": saver.aput_writes, "get_tuple": saver.aget_tuple}
    else:
        calls = in_threads(saver, ("put", "put_writes", "get_tuple"))
    tids = [[f"w{w}-a", f"w{w}-b"] for w in range(WORKERS)]
    acked: Dict[str, List[str]] = {tid: [] for pair in tids for tid in pair}
    wrong: List[str] = []

    def workers(stop: threading.Event, counts: Counts) -> List[Awaitable[None]]:
        return [work(calls, pair, stop, cancel, counts, acked, wrong) for pair in tids]

    async def histories() -> None:
        for tid, ids in acked.items():
            history: List[Tuple[str, Any]] = []
            if cancel:
                history = [(t.checkpoint["id"], t.parent_config) async for t in saver.alist(config(tid))]
            else:
                history = [(t.checkpoint["id"], t.parent_config) for t in saver.list(config(tid))]
            assert [cid for cid, _ in history] == ids[::-1], f"{tid}: the history is not the acknowledged puts"
            parents = [p and p["configurable"]["checkpoint_id"] for _, p in history]
            assert parents == ids[-2::-1] + [None], f"{tid}: a broken parent chain"
        if cancel:
            await saver.aclose()
        else:
            saver.close()

    counts = under_chaos(ports, workers, caplog, histories)
    assert not cancel or counts["cancelled"] > 20, counts
    assert not wrong, wrong[:5]
    assert sum(len(ids) for ids in acked.values()) >= WORKERS * 20
    print(counts, sum(len(ids) for ids in acked.values()), "puts")


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_saver_soak_on_one_server(kind: str, prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    with RedisServer() as server:
        soak(server.url, [server.port], prefix, kind, caplog)


@pytest.mark.cluster
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_saver_soak_on_a_cluster(kind: str, cluster_servers: RedisClusterServers, prefix: str,
                                 caplog: pytest.LogCaptureFixture) -> None:
    soak(cluster_servers.url, primaries(cluster_servers), prefix, kind, caplog)
