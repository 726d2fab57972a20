"""``RedisSaver.copy_thread``: a snapshot, pages, then one commit (``langgraph/copying.py``)."""
from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any, List

import pytest
import redis
from langgraph.checkpoint.base import empty_checkpoint

from redis_checkpoint import StorageError
from redis_checkpoint.cluster import scan_keys
from redis_checkpoint.langgraph import RedisSaver, copying
from redis_checkpoint.testing import RedisServer

from .clients import AfterCall, Calls, command_calls, sleeping
from .test_langgraph_model import check_layout


def fill(saver: RedisSaver, thread: str, steps: int, value: str = "v") -> None:
    """``steps`` checkpoints in two namespaces, each with a new channel value and two writes."""
    configs = {ns: {"configurable": {"thread_id": thread, "checkpoint_ns": ns}} for ns in ("", "sub")}
    for step in range(steps):
        ns = "" if step % 3 else "sub"
        ckpt = empty_checkpoint()
        version = saver.get_next_version(None if step == 0 else f"{step}")
        ckpt.update(id=f"{step:08d}", channel_values={"a": f"{value}{step}"}, channel_versions={"a": version})
        configs[ns] = saver.put(configs[ns], ckpt, {"step": step}, {"a": version})  # type: ignore[arg-type]
        saver.put_writes(configs[ns], [("a", step), ("b", f"w{step}")], task_id=f"task{step}")


def contents(client: Any, saver: RedisSaver, thread: str) -> List[Any]:
    """Every key of the thread, sealed segments included, but the head's TTL bookkeeping
    (a copy takes its own TTL)."""
    keys = saver.keys(thread)
    head = {f: v for f, v in client.hgetall(keys.head).items() if f not in (b"x", b"st", b"rt")}
    first, end = (int(n or 0) for n in client.hmget(keys.head, "s0", "sn"))
    return [head, client.zrange(keys.ids, 0, -1), client.zrange(keys.writes, 0, -1), client.hgetall(keys.active),
            *(client.hgetall(key) for key in keys.segments(first, end))]


def leftovers(client: Any, prefix: str) -> List[bytes]:
    """Keys a copy made for itself (``keys.copy_keys``) that are still there."""
    return list(scan_keys(client, f"{prefix}:*~*"))


@pytest.mark.parametrize("segments", [None, 7], ids=["one-segment", "sealed-segments"])
def test_copy_goes_page_by_page_and_is_exact(
    client: Any, prefix: str, monkeypatch: pytest.MonkeyPatch, segments: Any
) -> None:
    monkeypatch.setattr(copying, "FIELDS_PER_PAGE", 4)
    monkeypatch.setattr(copying, "MEMBERS_PER_PAGE", 3)
    options = {"segment_checkpoints": segments} if segments else {}
    saver = RedisSaver(client, key_prefix=prefix, ttl_seconds=300, **options)
    fill(saver, "src", 30)  # 180 hash fields: past 128, Redis stores a hash as a table, which HSCAN pages
    fill(saver, "dst", 5, value="old")  # replaced whole, not merged
    calls = Calls(saver.engine)
    saver.copy_thread("src", "dst")
    assert contents(client, saver, "dst") == contents(client, saver, "src")
    check_layout(client, saver, "dst")
    stages = [(argv[0], len(argv) - 2) for name, argv, _ in calls.log if name == "lg_copy_stage"]
    fields = [n // 2 for kind, n in stages if kind == b"hash" or kind == "hash"]
    keys = saver.keys("src")
    first, end = (int(n or 0) for n in client.hmget(keys.head, "s0", "sn"))
    src_fields = sum(client.hlen(k) for k in (keys.head, keys.active, *keys.segments(first, end)))
    assert sum(fields) == src_fields and len(fields) > 5, stages
    # HSCAN's COUNT (4) is a hint: a hash small enough to be one listpack (at most 128
    # fields) comes whole, a larger one in pages never 10 times over
    assert max(fields) <= 128 and sorted(fields)[-2] <= 40, stages
    members = [n for kind, n in stages if kind in (b"zset", "zset")]
    assert sum(members) == 30 + 60 and max(members) == 3  # index and writes members, 3 a page
    assert leftovers(client, prefix) == []
    assert 0 < client.pttl(saver.keys("dst").ids) <= 300_000
    if segments:
        assert client.exists(saver.keys("dst").sealed(0)) and 300_000 < client.pttl(saver.keys("dst").sealed(0))
    dst = saver.get_tuple({"configurable": {"thread_id": "dst", "checkpoint_ns": ""}})
    assert dst is not None and dst.checkpoint["channel_values"] == {"a": "v29"}
    assert sorted(w[1:] for w in dst.pending_writes) == [("a", 29), ("b", "w29")]  # type: ignore[union-attr]


def test_copy_onto_itself_and_of_nothing(client: Any, prefix: str) -> None:
    saver = RedisSaver(client, key_prefix=prefix)
    fill(saver, "t", 4)
    before = contents(client, saver, "t")
    saver.copy_thread("t", "t")
    assert contents(client, saver, "t") == before
    saver.copy_thread("empty", "t")  # nothing to copy: the target stays
    assert contents(client, saver, "t") == before
    assert leftovers(client, prefix) == []


@pytest.mark.redis
def test_a_copy_missing_a_page_changes_nothing(redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The snapshot goes away mid-copy (as if it expired): the commit must refuse,
    not put a partial copy in the target's place."""
    tokens = iter(["snap", "stage"])
    monkeypatch.setattr(copying, "secrets", SimpleNamespace(token_hex=lambda _n: next(tokens)))
    copier = redis.Redis.from_url(redis_url)
    admin = redis.Redis.from_url(redis_url)
    saver = RedisSaver(copier, key_prefix=prefix)
    try:
        fill(saver, "src", 6)
        fill(saver, "dst", 2, value="old")
        before = contents(admin, saver, "dst")
        snapshot = f"{saver.keys('src').active}~snap"
        hook = AfterCall(saver.engine, saver.engine.scripts.lg_copy_snapshot, snapshot,
                         lambda: admin.unlink(snapshot))  # right after the snapshot is taken
        with pytest.raises(StorageError, match="copy incomplete"):
            saver.copy_thread("src", "dst")
        assert hook.ran, "the hook did not run"
        assert contents(admin, saver, "dst") == before
        assert leftovers(admin, prefix) == []
    finally:
        copier.close()
        admin.close()


def test_a_lost_commit_reply_is_replayed_harmlessly(
    fault_server: RedisServer, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit runs but its reply is lost; redis-py re-sends it. The re-sent
    commit finds the copy's mark and changes nothing: no error, and the target is
    the copy (not emptied, not refused as incomplete)."""
    admin = redis.Redis(port=fault_server.port)
    saver = RedisSaver.from_url(fault_server.url, key_prefix=prefix, socket_timeout=0.4)
    fill(saver, "src", 5)
    engine = saver.engine
    call, calls = engine.call, itertools.count()
    seen: List[int] = []

    def lose_the_reply(op: str, *args: Any, **kwargs: Any) -> Any:  # the commit only
        if op != "copy_thread" or args[2][0][1] != engine.scripts.lg_copy_commit.sha:
            return call(op, *args, **kwargs)
        seen.append(command_calls(admin, "evalsha"))
        sleeper = sleeping(fault_server.port, 1.5)
        try:
            return call(op, *args, **kwargs)
        finally:
            sleeper.join()
            next(calls)

    monkeypatch.setattr(engine, "call", lose_the_reply)
    saver.copy_thread("src", "dst")
    assert next(calls) == 1
    assert command_calls(admin, "evalsha") - seen[0] >= 2, "the commit was not re-sent: the test proved nothing"
    assert contents(admin, saver, "dst") == contents(admin, saver, "src")
    assert leftovers(admin, prefix) == []
    saver.close()
    admin.close()


def test_a_bad_thread_id_names_its_argument_and_writes_nothing(client: Any, prefix: str) -> None:
    saver = RedisSaver(client, key_prefix=prefix)
    fill(saver, "t", 2)
    with pytest.raises(ValueError, match="target_thread_id"):
        saver.copy_thread("t", "")
    with pytest.raises(TypeError, match="source_thread_id"):
        saver.copy_thread(None, "u")  # type: ignore[arg-type]
    assert list(scan_keys(client, f"{prefix}:*")) and not list(scan_keys(client, f"{prefix}:{{u}}*"))
    assert leftovers(client, prefix) == []
