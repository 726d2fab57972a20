"""Soak: workers share one checkpointer while connections are killed and the server stalls.

Every worker owns two thread ids and names its checkpoints, re-saving the same id after
an error as a careful caller does. After each acknowledged save it loads the thread
(and one older checkpoint of it): a load that returns another thread's state or an older
checkpoint fails the test, and so does any acknowledged save missing from the history, or
stored twice, at the end. Small segments make saves seal while the faults go on, and every
third state is too large to travel inline, so both save protocols are under fire.

The workers are coroutines on one event loop. With ``RedisCheckpointer`` each call runs
in a thread of its own (``asyncio.to_thread``), so the workers share it from several
threads at once. With ``AsyncRedisCheckpointer`` they share it on the loop, and a
quarter of their calls are cancelled at a random moment (``asyncio.wait_for`` with a
timeout of a few milliseconds), as a web request that is given up is: a cancelled save
is sent again with its id. ``test_soak_langgraph.py`` runs the LangGraph savers under
the same faults with :func:`under_chaos`.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import random
import threading
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence

import pytest
import redis

from redis_checkpoint import AsyncRedisCheckpointer, RedisCheckpointer, StorageError
from redis_checkpoint.core import INLINE_MAX
from redis_checkpoint.testing import RedisClusterServers, RedisServer

from .clients import sleeping
from .savers import chain_ok

pytestmark = pytest.mark.redis

WORKERS = 4
CHAOS_SECONDS = 5.0
STALL = 0.5  # DEBUG SLEEP, past the checkpointer's socket timeout
SOCKET_TIMEOUT = 0.25

#: An API's calls as coroutine functions, by name.
Calls = Dict[str, Callable[..., Awaitable[Any]]]
Counts = Dict[str, int]


def in_threads(obj: Any, names: Sequence[str]) -> Calls:
    """``obj``'s blocking methods ``names``, each call run in a thread of its own."""
    def threaded(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        return lambda *args, **kwargs: asyncio.to_thread(fn, *args, **kwargs)

    return {name: threaded(getattr(obj, name)) for name in names}


async def patiently(call: Callable[[], Awaitable[Any]], rng: random.Random, cancel: bool, counts: Counts,
                    deadline: float) -> Any:
    """``await call()``, again after each StorageError until it answers (the faults pass).
    With ``cancel``, one call in four is cancelled after 0 to 3 ms: before sending,
    mid-reply or after, and then sent again."""
    while True:
        try:
            if cancel and rng.random() < 0.25:
                return await asyncio.wait_for(call(), rng.uniform(0, 0.003))
            return await call()
        except asyncio.TimeoutError:
            counts["cancelled"] += 1
        except StorageError:
            counts["errors"] += 1
        if time.monotonic() > deadline:
            raise AssertionError("the faults went on past the deadline")


def chaos(ports: Sequence[int], stop: threading.Event, counts: Counts) -> None:
    """Kill every client connection of a random node every 20 ms; every second, stall one
    for :data:`STALL` seconds."""
    admins = {port: redis.Redis(port=port) for port in ports}
    rng = random.Random(0)
    next_stall = time.monotonic() + 0.5
    while not stop.is_set():
        if time.monotonic() >= next_stall:
            stalled = sleeping(rng.choice(ports), STALL)
            try:
                stalled.join()
            except redis.ConnectionError:
                pass
            counts["stalls"] += 1
            next_stall = time.monotonic() + 1.0
        counts["kills"] += admins[rng.choice(ports)].execute_command("CLIENT", "KILL", "TYPE", "normal",
                                                                     "SKIPME", "yes")
        time.sleep(0.02)
    for admin in admins.values():
        admin.close()


Workers = Callable[[threading.Event, Counts], List[Awaitable[None]]]


def under_chaos(ports: Sequence[int], workers: Workers, caplog: pytest.LogCaptureFixture,
                after: Optional[Callable[[], Awaitable[None]]] = None) -> Counts:
    """Run ``workers(stop, counts)`` on one event loop while :func:`chaos` goes on for
    :data:`CHAOS_SECONDS`, then until each worker sees ``stop``; then ``after()`` on the
    same loop. Checks that the faults happened and that the retry policy met both."""
    counts = {"kills": 0, "stalls": 0, "cancelled": 0, "errors": 0}
    stop_chaos, stop_work = threading.Event(), threading.Event()
    troublemaker = threading.Thread(target=chaos, args=(ports, stop_chaos, counts))

    async def go() -> None:
        asyncio.get_running_loop().set_default_executor(concurrent.futures.ThreadPoolExecutor(32))
        tasks = [asyncio.ensure_future(worker) for worker in workers(stop_work, counts)]
        troublemaker.start()
        await asyncio.sleep(CHAOS_SECONDS)
        stop_chaos.set()
        await asyncio.to_thread(troublemaker.join)
        stop_work.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 180)
        if after is not None:
            await after()

    asyncio.run(go())
    assert counts["kills"] > 20 and counts["stalls"] >= 3, f"too few faults to prove anything: {counts}"
    retried = " ".join(r.getMessage() for r in caplog.records if "failed" in r.getMessage())
    # the retry policy re-sent calls that met a killed connection and a stalled server
    assert "ConnectionError" in retried and "TimeoutError" in retried, retried[-2000:]
    return counts


async def work(calls: Calls, tids: Sequence[str], stop: threading.Event, cancel: bool, counts: Counts,
               acked: Dict[str, List[str]], wrong: List[str]) -> None:
    rng = random.Random(tids[0])
    deadline = time.monotonic() + 120
    n = 0
    while not stop.is_set() or n < 30:
        tid = tids[n % len(tids)]
        cid = f"{tid}-{n}"
        state = {"tid": tid, "n": n, "pad": os.urandom(INLINE_MAX + 100) if n % 3 == 0 else b"small"}
        await patiently(lambda: calls["save"](tid, state, checkpoint_id=cid), rng, cancel, counts, deadline)
        acked[tid].append(cid)
        latest = await patiently(lambda: calls["load"](tid), rng, cancel, counts, deadline)
        if latest is None or latest.id != cid or latest.state["tid"] != tid or latest.state["n"] != n:
            wrong.append(f"load({tid}) after saving {cid}: {latest and (latest.id, latest.state['tid'])}")
        older = rng.choice(acked[tid])
        got = await patiently(lambda: calls["load"](tid, older), rng, cancel, counts, deadline)
        if got is None or got.state["tid"] != tid or f"{tid}-{got.state['n']}" != older:
            wrong.append(f"load({tid}, {older}): {got and (got.id, got.state['tid'])}")
        n += 1


def soak(url: str, ports: Sequence[int], prefix: str, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    options: Dict[str, Any] = dict(key_prefix=prefix, socket_timeout=SOCKET_TIMEOUT, retry_budget=60,
                                   segment_checkpoints=8)
    cancel = kind == "async"
    if cancel:
        acp = AsyncRedisCheckpointer.from_url(url, **options)
        calls: Calls = {"save": acp.save, "load": acp.load}
        pairs = WORKERS * 2  # cheap on one loop: more of them, more calls in flight at once
    else:
        cp = RedisCheckpointer.from_url(url, **options)
        calls, pairs = in_threads(cp, ("save", "load")), WORKERS
    tids = [[f"w{w}-a", f"w{w}-b"] for w in range(pairs)]
    acked: Dict[str, List[str]] = {tid: [] for pair in tids for tid in pair}
    wrong: List[str] = []

    def workers(stop: threading.Event, counts: Counts) -> List[Awaitable[None]]:
        return [work(calls, pair, stop, cancel, counts, acked, wrong) for pair in tids]

    counts = under_chaos(ports, workers, caplog, acp.aclose if cancel else None)
    assert not cancel or counts["cancelled"] > 50, counts
    assert not wrong, wrong[:5]
    check = RedisCheckpointer.from_url(url, key_prefix=prefix)
    for tid, ids in acked.items():
        assert chain_ok(check, tid) == ids, f"{tid}: the history is not exactly the acknowledged saves"
    check.close()
    if not cancel:
        cp.close()
    assert sum(len(ids) for ids in acked.values()) >= pairs * 30
    print(counts, sum(len(ids) for ids in acked.values()), "saves")


def primaries(cluster: RedisClusterServers) -> List[int]:
    """Ports of the cluster's primaries."""
    ports = []
    for node in cluster.nodes:
        with redis.Redis(port=node.port) as client:
            if client.info("replication")["role"] == "master":
                ports.append(node.port)
    return ports


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_soak_on_one_server(kind: str, prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    with RedisServer() as server:
        soak(server.url, [server.port], prefix, kind, caplog)


@pytest.mark.cluster
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_soak_on_a_cluster(kind: str, cluster_servers: RedisClusterServers, prefix: str,
                           caplog: pytest.LogCaptureFixture) -> None:
    soak(cluster_servers.url, primaries(cluster_servers), prefix, kind, caplog)
