"""A long thread is spread over segments of bounded size: key by key, what the layout promises.

The model tests (``test_model.py``, ``test_langgraph_model.py``) check behaviour across
segments; these check the keys themselves: which exist, how big they get, when they expire.
"""
from __future__ import annotations

import io
import os
import time
from typing import Any, Callable, List

import pytest
import redis
from langgraph.checkpoint.base import create_checkpoint, empty_checkpoint

from redis_checkpoint import RedisCheckpointer
from redis_checkpoint import transfer
from redis_checkpoint.core import INLINE_MAX
from redis_checkpoint.steps import evalsha
from redis_checkpoint.langgraph import RedisSaver

MB = 1024 * 1024


def segment_range(client: Any, head: str) -> range:
    first, end = client.hmget(head, "s0", "sn")
    return range(int(first or 0), int(end or 0))


def thread_keys_present(client: Any, cp: RedisCheckpointer, thread_id: str, most: int = 200) -> List[str]:
    """Every key of the thread that exists, sealed segments 0 to ``most`` included."""
    keys = cp.keys(thread_id)
    return [k for k in (*keys, *keys.segments(0, most)) if client.exists(k)]


def states(n: int) -> List[Any]:
    """Small states that travel inline, and every third too large to."""
    return [{"n": i, "pad": os.urandom(INLINE_MAX + 10) if i % 3 == 0 else b"x"} for i in range(n)]


def test_states_move_to_sealed_segments_and_every_one_loads(make_cp: Callable[..., RedisCheckpointer],
                                                             client: Any) -> None:
    cp = make_cp(segment_checkpoints=4)
    saved = [cp.save("t", s) for s in states(30)]
    keys = cp.keys("t")
    sealed = segment_range(client, keys.head)
    assert len(sealed) >= 5
    assert all(client.hlen(keys.sealed(n)) <= 4 for n in sealed)  # none grows past its bound
    assert client.hlen(keys.active) <= 4
    assert [m.id for m in cp.list("t")] == [m.id for m in reversed(saved)]
    for i, meta in enumerate(saved):
        got = cp.load("t", meta.id)
        assert got is not None and got.state["n"] == i and got.parent_id == meta.parent_id


def test_retention_unlinks_each_sealed_segment_once_none_of_its_checkpoints_is_left(
        make_cp: Callable[..., RedisCheckpointer], client: Any) -> None:
    cp = make_cp(segment_checkpoints=4, max_checkpoints=6)
    for s in states(40):
        cp.save("t", s)
    keys = cp.keys("t")
    live = segment_range(client, keys.head)
    present = [n for n in range(live.stop) if client.exists(keys.sealed(n))]
    assert present == list(live) and len(present) <= 3  # 6 checkpoints span at most 3 sealed segments
    assert [m.metadata for m in cp.list("t")] == [{}] * 6
    assert [cp.load("t", m.id).state["n"] for m in cp.list("t")] == list(range(39, 33, -1))  # type: ignore


@pytest.mark.sync_only  # admin.prune is blocking
def test_delete_and_prune_reach_every_sealed_segment(make_cp: Callable[..., RedisCheckpointer], client: Any) -> None:
    from redis_checkpoint import admin

    cp = make_cp(segment_checkpoints=3)
    for s in states(20):
        cp.save("a", s)
        cp.save("b", s)
    assert len(thread_keys_present(client, cp, "a")) > 5
    assert cp.delete_thread("a") is True
    assert thread_keys_present(client, cp, "a") == []
    assert admin.prune(cp, "b", 2) == 18
    keys = cp.keys("b")
    assert len([k for k in thread_keys_present(client, cp, "b") if k not in keys]) <= 1
    assert [cp.load("b", m.id).state["n"] for m in cp.list("b")] == [19, 18]  # type: ignore[union-attr]


@pytest.mark.sync_only  # export and import are blocking
def test_export_and_import_cross_segment_boundaries(make_cp: Callable[..., RedisCheckpointer]) -> None:
    source = make_cp(segment_checkpoints=3)
    written = [source.save("t", s, metadata={"i": i}) for i, s in enumerate(states(11))]
    out = io.BytesIO()
    assert transfer.export(source, "t", out, lambda _n: None) == (1, 11)
    target = make_cp(key_prefix=source.key_prefix + "copy", segment_checkpoints=4)
    assert transfer.import_(target, io.BytesIO(out.getvalue()), lambda _n: None) == (1, 11, 11)
    assert [m.id for m in target.list("t")] == [m.id for m in reversed(written)]
    for meta in written:
        a, b = source.load("t", meta.id), target.load("t", meta.id)
        assert a is not None and b is not None and (a.state, a.metadata) == (b.state, b.metadata)


@pytest.mark.redis
def test_every_key_expires_between_one_and_two_ttls_after_the_last_save(redis_url: str, prefix: str) -> None:
    ttl = 2.0
    client = redis.Redis.from_url(redis_url)
    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix, ttl_seconds=ttl, segment_checkpoints=3)

    def check() -> None:
        keys = thread_keys_present(client, cp, "t")
        assert len(keys) > 3  # sealed segments among them
        for key in keys:
            left = client.pttl(key) / 1000
            assert ttl - 0.25 <= left <= 2 * ttl, f"{key}: {left} s left"

    for s in states(8):
        cp.save("t", s)
    check()
    time.sleep(ttl * 0.6)
    cp.save("t", {"n": 8})  # the sealed segments' TTL is still over one TTL: left alone
    check()
    time.sleep(ttl * 0.6)
    cp.save("t", {"n": 9})  # now it would fall under one: set again
    check()
    cp.close()
    client.close()


@pytest.mark.redis
def test_a_thread_of_6000_checkpoints_keeps_every_key_under_8_mb(redis_url: str, prefix: str) -> None:
    """About 24 MB of incompressible 4 KB states: no key of the thread holds more than 8 MB."""
    client = redis.Redis.from_url(redis_url)
    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix)
    for i in range(6000):
        cp.save("long", {"i": i, "pad": os.urandom(4000)})
    keys = thread_keys_present(client, cp, "long", most=1000)
    sizes = [client.memory_usage(k, samples=0) for k in keys]
    assert sum(sizes) > 24 * MB and len(keys) > 4
    assert max(sizes) <= 8 * MB, dict(zip(keys, sizes))

    saver = RedisSaver(cp)
    config = {"configurable": {"thread_id": "long", "checkpoint_ns": ""}}
    checkpoint = empty_checkpoint()
    for step in range(6000):
        checkpoint = create_checkpoint(checkpoint, None, step)
        checkpoint["channel_values"] = {"pad": os.urandom(4000)}
        checkpoint["channel_versions"] = {"pad": step + 1}
        config = saver.put(config, checkpoint, {"step": step}, {"pad": step + 1})
    graph = saver.keys("long")
    graph_keys = [k for k in (*graph, *graph.segments(0, 1000)) if client.exists(k)]
    sizes = [client.memory_usage(k, samples=0) for k in graph_keys]
    assert sum(sizes) > 24 * MB and len(graph_keys) > 5
    assert max(sizes) <= 8 * MB, dict(zip(graph_keys, sizes))
    assert saver.get_tuple(config).checkpoint["channel_values"]["pad"] == checkpoint["channel_values"]["pad"]  # type: ignore[union-attr]
    cp.close()
    client.close()


@pytest.mark.sync_only  # sends through the blocking engine
@pytest.mark.parametrize("between", ["sealed", "trimmed"])
def test_a_large_save_resent_after_its_segment_moved_on_leaves_no_stray_state(
        make_cp: Callable[..., RedisCheckpointer], client: Any, between: str) -> None:
    """A large state goes in by an HSET under the call's own field, ahead of the script. When
    a save's reply is lost and the call is sent again after its segment was sealed (or its
    checkpoint trimmed), that HSET lands in the new active segment: the script takes it out."""
    cp = make_cp(segment_checkpoints=2, max_checkpoints=2 if between == "trimmed" else None)
    engine, keys = cp.engine, cp.keys("t")
    state = {"pad": os.urandom(INLINE_MAX * 2)}
    blob = engine.options.codec.encode(state)
    args = ("X", "call-field", len(blob), "", b"", engine.save_options)
    body = [("HSET", keys.active, "call-field", blob), evalsha(engine.scripts.save, keys, args)]
    for attempt in range(2):  # the same call twice, as a retry re-sends it
        engine.call("save", "t", keys.head, body, (engine.scripts.save,), transaction=True)
        if attempt == 0:
            for i in range(3):
                cp.save("t", {"i": i})
            assert client.hget(keys.head, "sn") != b"0"
    assert not client.hexists(keys.active, "call-field")
    if between == "sealed":  # still there, in its sealed segment
        got = cp.load("t", "X")
        assert got is not None and got.state == state
    else:  # and not saved anew: the replay window answers for it
        assert "X" not in [m.id for m in cp.list("t")]


def test_a_large_langgraph_put_resent_after_its_segment_was_sealed_leaves_no_stray_blob(
        client: Any, prefix: str, fast_path: bool) -> None:
    """The same for the LangGraph saver: a put re-sent (same checkpoint, same large blobs)
    after its segment was sealed goes to that sealed segment, and the blobs its first try
    wrote into the active segment, which nothing counts, are deleted."""
    from .test_langgraph_model import check_layout

    saver = RedisSaver(client, key_prefix=prefix, segment_checkpoints=2, fast_path=fast_path)
    config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    first = create_checkpoint(empty_checkpoint(), None, 0)
    first["channel_values"] = {"big": os.urandom(INLINE_MAX * 2)}
    first["channel_versions"] = {"big": 1}
    put_first = lambda: saver.put(config, first, {"step": 0}, {"big": 1})  # noqa: E731
    latest = put_first()
    checkpoint = first
    for step in range(1, 4):  # the first checkpoint's segment fills up and is sealed
        checkpoint = create_checkpoint(checkpoint, None, step)
        checkpoint["channel_versions"] = {"n": step}  # the big blob is the first one's alone
        checkpoint["channel_values"] = {"n": step}
        latest = saver.put(latest, checkpoint, {"step": step}, {"n": step})
    keys = saver.keys("t")
    assert client.hget(keys.head, "s:\0" + first["id"]) == b"0" != client.hget(keys.head, "sn")
    put_first()  # the re-sent put
    check_layout(client, saver, "t")
    got = saver.get_tuple({"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": first["id"]}})
    assert got is not None and got.checkpoint["channel_values"]["big"] == first["channel_values"]["big"]


@pytest.mark.sync_only  # wraps the blocking engine's calls
def test_a_latest_load_that_races_a_trim_returns_the_newer_latest(
        make_cp: Callable[..., RedisCheckpointer]) -> None:
    """A large latest state is read in two plain commands (its record, then its field). When
    retention removes it in between, the load answers with the checkpoint now current."""
    from .clients import AfterCall

    cp = make_cp(max_checkpoints=1)
    big = [{"i": i, "pad": os.urandom(INLINE_MAX * 2)} for i in range(3)]
    cp.save("t", big[0])
    hook = AfterCall(cp.engine, "HMGET", cp.keys("t").head, lambda: [cp.save("t", s) for s in big[1:]])
    got = cp.load("t")
    assert hook.ran and got is not None and got.state == big[2]
