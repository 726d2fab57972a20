"""Many threads and processes on one thread's history: nothing lost, nothing duplicated."""
from __future__ import annotations

import multiprocessing
import os
import threading
from typing import Any, List

import pytest
import redis

from redis_checkpoint import ConflictError, RedisCheckpointer

from .savers import chain_ok

pytestmark = pytest.mark.redis
fork = multiprocessing.get_context("fork")


def test_threads_share_one_instance(redis_url: str, prefix: str) -> None:
    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix, max_connections=4)
    acked: List[str] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(50):
            m = cp.save("shared", {"worker": n, "i": i})
            with lock:
                acked.append(m.id)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = chain_ok(cp, "shared")
    assert len(ids) == 400 and set(ids) == set(acked)
    cp.close()


def _save_many(url: str, prefix: str, n: int, out: Any) -> None:
    with RedisCheckpointer.from_url(url, key_prefix=prefix) as cp:
        out.put([cp.save("shared", {"proc": n, "i": i}).id for i in range(50)])


def test_processes_append_to_one_thread(redis_url: str, prefix: str) -> None:
    out = fork.Queue()
    procs = [fork.Process(target=_save_many, args=(redis_url, prefix, n, out)) for n in range(4)]
    for p in procs:
        p.start()
    acked = [i for _ in procs for i in out.get(timeout=120)]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with RedisCheckpointer.from_url(redis_url, key_prefix=prefix) as cp:
        ids = chain_ok(cp, "shared")
    assert len(ids) == 200 and set(ids) == set(acked)


def _increment(url: str, prefix: str, times: int, out: Any) -> None:
    cp = RedisCheckpointer.from_url(url, key_prefix=prefix)
    conflicts = 0
    for _ in range(times):
        while True:
            current = cp.load("counter")
            assert current is not None
            try:
                cp.save("counter", current.state + 1, expected_id=current.id)
                break
            except ConflictError:
                conflicts += 1
    out.put(conflicts)
    cp.close()


def test_compare_and_set_counter_loses_no_update(redis_url: str, prefix: str) -> None:
    with RedisCheckpointer.from_url(redis_url, key_prefix=prefix) as cp:
        cp.save("counter", 0, expected_id=None)
        out = fork.Queue()
        procs = [fork.Process(target=_increment, args=(redis_url, prefix, 25, out)) for _ in range(8)]
        for p in procs:
            p.start()
        conflicts = sum(out.get(timeout=300) for _ in procs)
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        assert cp.load("counter").state == 200  # type: ignore[union-attr]
        ids = chain_ok(cp, "counter")
        assert len(ids) == 201
        states = [cp.load("counter", i).state for i in ids]  # type: ignore[union-attr]
        assert states == list(range(201))
    print(f"compare-and-set conflicts retried: {conflicts}")


def _child_uses_inherited(cp: RedisCheckpointer, n: int, out: Any) -> None:
    ids = [cp.save("forked", {"child": n, "i": i}).id for i in range(20)]
    out.put((os.getpid(), cp.client.client_id(), kept_connection_id(cp), ids))


def kept_connection_id(cp: RedisCheckpointer) -> int:
    """CLIENT ID of the connection the engine's hot path keeps for saves and loads."""
    return int(cp.engine.command("probe", None, cp.keys("forked").head, "CLIENT", "ID"))


def test_instance_created_before_fork_works_in_children(redis_url: str, prefix: str) -> None:
    """gunicorn --preload / Celery prefork: the parent builds and uses the instance, then forks."""
    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix)
    cp.save("forked", "parent")
    parent_conn = cp.client.client_id()
    parent_kept = kept_connection_id(cp)
    out = fork.Queue()
    procs = [fork.Process(target=_child_uses_inherited, args=(cp, n, out)) for n in range(3)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    conn_ids = {r[1] for r in results}
    assert len(conn_ids) == 3 and parent_conn not in conn_ids  # no socket shared across processes
    kept_ids = {r[2] for r in results}  # nor the connection the parent's hot path kept
    assert len(kept_ids) == 3 and parent_kept not in kept_ids and not kept_ids & conn_ids
    ids = chain_ok(cp, "forked")
    assert len(ids) == 61
    assert cp.save("forked", "parent again").parent_id == ids[-1]
    admin = redis.Redis.from_url(redis_url)
    assert admin.ping()
    cp.close()
