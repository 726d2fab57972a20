"""Soak: threads share one checkpointer while connections are killed and the server stalls.

Every worker thread owns its thread ids and names its checkpoints, re-saving the same id
after an error as a careful caller does. After each acknowledged save it loads the thread
(and one older checkpoint of it): a load that returns another thread's state or an older
checkpoint fails the test, and so does any acknowledged save missing from the history, or
stored twice, at the end. Small segments make saves seal while the faults go on, and every
third state is too large to travel inline, so both save protocols are under fire.

The asyncio form runs the same workers as tasks on one event loop sharing one
``AsyncRedisCheckpointer``, and also cancels a quarter of their calls at a random
moment (``asyncio.wait_for`` with a timeout of a few milliseconds), as a web request
that is given up does: a cancelled save is sent again with its id.
"""
from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from typing import Any, Callable, Dict, List, Sequence

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


def patiently(fn: Callable[[], Any], errors: List[str], deadline: float) -> Any:
    """``fn()``, called again after each StorageError until it answers (the faults pass)."""
    while True:
        try:
            return fn()
        except StorageError as exc:
            errors.append(type(exc.__cause__).__name__)
            if time.monotonic() > deadline:
                raise


def work(cp: RedisCheckpointer, tids: Sequence[str], stop: threading.Event, acked: Dict[str, List[str]],
         wrong: List[str], errors: List[str]) -> None:
    rng = random.Random(tids[0])
    deadline = time.monotonic() + 120
    n = 0
    while not stop.is_set() or n < 30:
        tid = tids[n % len(tids)]
        cid = f"{tid}-{n}"
        pad = os.urandom(INLINE_MAX + 100) if n % 3 == 0 else b"small"
        patiently(lambda: cp.save(tid, {"tid": tid, "n": n, "pad": pad}, checkpoint_id=cid), errors, deadline)
        acked[tid].append(cid)
        latest = patiently(lambda: cp.load(tid), errors, deadline)
        if latest is None or latest.id != cid or latest.state["tid"] != tid or latest.state["n"] != n:
            wrong.append(f"load({tid}) after saving {cid}: {latest and (latest.id, latest.state['tid'])}")
        older = rng.choice(acked[tid])
        got = patiently(lambda: cp.load(tid, older), errors, deadline)
        if got is None or got.state["tid"] != tid or f"{tid}-{got.state['n']}" != older:
            wrong.append(f"load({tid}, {older}): {got and (got.id, got.state['tid'])}")
        n += 1


def chaos(ports: Sequence[int], stop: threading.Event, counts: Dict[str, int]) -> None:
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


def soak(cp: RedisCheckpointer, ports: Sequence[int], caplog: pytest.LogCaptureFixture) -> None:
    tids = [[f"w{w}-a", f"w{w}-b"] for w in range(WORKERS)]
    acked: Dict[str, List[str]] = {tid: [] for pair in tids for tid in pair}
    wrong: List[str] = []
    errors: List[str] = []
    counts = {"kills": 0, "stalls": 0}
    stop_chaos, stop_work = threading.Event(), threading.Event()
    workers = [threading.Thread(target=work, args=(cp, pair, stop_work, acked, wrong, errors)) for pair in tids]
    troublemaker = threading.Thread(target=chaos, args=(ports, stop_chaos, counts))
    for thread in workers:
        thread.start()
    troublemaker.start()
    time.sleep(CHAOS_SECONDS)
    stop_chaos.set()
    troublemaker.join()
    stop_work.set()
    for thread in workers:
        thread.join(180)
        assert not thread.is_alive(), "a worker hung"
    assert counts["kills"] > 20 and counts["stalls"] >= 3, f"too few faults to prove anything: {counts}"
    retried = " ".join(r.getMessage() for r in caplog.records if "failed" in r.getMessage())
    # the retry policy re-sent calls that met a killed connection and a stalled server
    assert "ConnectionError" in retried and "TimeoutError" in retried, retried[-2000:]
    assert not wrong, wrong[:5]
    for tid, ids in acked.items():
        assert chain_ok(cp, tid) == ids, f"{tid}: the history is not exactly the acknowledged saves"
    assert sum(len(ids) for ids in acked.values()) >= WORKERS * 30
    print(counts, len(errors), "errors past the budget,", sum(len(ids) for ids in acked.values()), "saves")


def primaries(cluster: RedisClusterServers) -> List[int]:
    """Ports of the cluster's primaries."""
    ports = []
    for node in cluster.nodes:
        with redis.Redis(port=node.port) as client:
            if client.info("replication")["role"] == "master":
                ports.append(node.port)
    return ports


def test_soak_on_one_server(prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    with RedisServer() as server:
        cp = RedisCheckpointer.from_url(server.url, key_prefix=prefix, socket_timeout=SOCKET_TIMEOUT,
                                        retry_budget=60, segment_checkpoints=8)
        soak(cp, [server.port], caplog)
        cp.close()


@pytest.mark.cluster
def test_soak_on_a_cluster(cluster_servers: RedisClusterServers, prefix: str,
                           caplog: pytest.LogCaptureFixture) -> None:
    cp = RedisCheckpointer.from_url(cluster_servers.url, key_prefix=prefix, socket_timeout=SOCKET_TIMEOUT,
                                    retry_budget=60, segment_checkpoints=8)
    soak(cp, primaries(cluster_servers), caplog)
    cp.close()


# -- the same on one event loop, with cancellations ----------------------------------------


async def apatiently(call: Callable[[], Any], errors: List[str], deadline: float, rng: random.Random,
                     counts: Dict[str, int]) -> Any:
    """``await call()``, again after each StorageError or cancellation until it answers.
    One call in four is cancelled after 0 to 3 ms: before sending, mid-reply or after."""
    while True:
        try:
            if rng.random() < 0.25:
                return await asyncio.wait_for(call(), rng.uniform(0, 0.003))
            return await call()
        except asyncio.TimeoutError:
            counts["cancelled"] += 1
        except StorageError as exc:
            errors.append(type(exc.__cause__).__name__)
        if time.monotonic() > deadline:
            raise AssertionError("the faults went on past the deadline")


async def awork(cp: AsyncRedisCheckpointer, tids: Sequence[str], stop: threading.Event,
                acked: Dict[str, List[str]], wrong: List[str], errors: List[str], counts: Dict[str, int]) -> None:
    rng = random.Random(tids[0])
    deadline = time.monotonic() + 120
    n = 0
    while not stop.is_set() or n < 30:
        tid = tids[n % len(tids)]
        cid = f"{tid}-{n}"
        state = {"tid": tid, "n": n, "pad": os.urandom(INLINE_MAX + 100) if n % 3 == 0 else b"small"}
        await apatiently(lambda: cp.save(tid, state, checkpoint_id=cid), errors, deadline, rng, counts)
        acked[tid].append(cid)
        latest = await apatiently(lambda: cp.load(tid), errors, deadline, rng, counts)
        if latest is None or latest.id != cid or latest.state["tid"] != tid or latest.state["n"] != n:
            wrong.append(f"load({tid}) after saving {cid}: {latest and (latest.id, latest.state['tid'])}")
        older = rng.choice(acked[tid])
        got = await apatiently(lambda: cp.load(tid, older), errors, deadline, rng, counts)
        if got is None or got.state["tid"] != tid or f"{tid}-{got.state['n']}" != older:
            wrong.append(f"load({tid}, {older}): {got and (got.id, got.state['tid'])}")
        n += 1


def asoak(url: str, prefix: str, ports: Sequence[int], caplog: pytest.LogCaptureFixture) -> None:
    tids = [[f"w{w}-a", f"w{w}-b"] for w in range(WORKERS * 2)]
    acked: Dict[str, List[str]] = {tid: [] for pair in tids for tid in pair}
    wrong: List[str] = []
    errors: List[str] = []
    counts = {"kills": 0, "stalls": 0, "cancelled": 0}
    stop_chaos, stop_work = threading.Event(), threading.Event()
    troublemaker = threading.Thread(target=chaos, args=(ports, stop_chaos, counts))

    async def go() -> None:
        async with AsyncRedisCheckpointer.from_url(url, key_prefix=prefix, socket_timeout=SOCKET_TIMEOUT,
                                                   retry_budget=60, segment_checkpoints=8) as cp:
            workers = [asyncio.ensure_future(awork(cp, pair, stop_work, acked, wrong, errors, counts))
                       for pair in tids]
            troublemaker.start()
            await asyncio.sleep(CHAOS_SECONDS)
            stop_chaos.set()
            await asyncio.to_thread(troublemaker.join)
            stop_work.set()
            await asyncio.wait_for(asyncio.gather(*workers), 180)

    asyncio.run(go())
    assert counts["kills"] > 20 and counts["stalls"] >= 3, f"too few faults to prove anything: {counts}"
    assert counts["cancelled"] > 50, counts
    retried = " ".join(r.getMessage() for r in caplog.records if "failed" in r.getMessage())
    assert "ConnectionError" in retried and "TimeoutError" in retried, retried[-2000:]
    assert not wrong, wrong[:5]
    check = RedisCheckpointer.from_url(url, key_prefix=prefix)
    for tid, ids in acked.items():
        assert chain_ok(check, tid) == ids, f"{tid}: the history is not exactly the acknowledged saves"
    check.close()
    assert sum(len(ids) for ids in acked.values()) >= WORKERS * 2 * 30
    print(counts, len(errors), "errors past the budget,", sum(len(ids) for ids in acked.values()), "saves")


def test_async_soak_on_one_server(prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    with RedisServer() as server:
        asoak(server.url, prefix, [server.port], caplog)


@pytest.mark.cluster
def test_async_soak_on_a_cluster(cluster_servers: RedisClusterServers, prefix: str,
                                 caplog: pytest.LogCaptureFixture) -> None:
    asoak(cluster_servers.url, prefix, primaries(cluster_servers), caplog)
