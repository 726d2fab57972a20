"""The public contract, run on fakeredis and on a real redis-server."""
from __future__ import annotations

import dataclasses
import functools
import datetime
import re
import time
import uuid
from typing import Any, Callable

import cbor2
import pytest

import redis_checkpoint.core as core_module
from redis_checkpoint import admin, retries, scripts
from redis_checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointMetadata,
    CheckpointNotFoundError,
    Checkpointer,
    ConflictError,
    CorruptCheckpointError,
    RedisCheckpointer,
    SerializationError,
    StateTooLargeError,
)

#: Most checkpoints one call of retention removes (``lua/retain.lua``).
TRIM = int(re.search(rb"\nlocal TRIM = (\d+)", scripts.source("retain")).group(1))  # type: ignore[union-attr]

TRICKY_IDS = [
    "a", "a:history", "a:thread", "a}", "{a}", "a{b}c", "}", "{", "{}", "a*", "*", "a?", "[a]",
    "a\\b", "a b", " ", "ü", "日本語", "a%7D", "a%", "%", "%25", "a\nb", "\x00", "a" * 1024,
]


def keys_of(client: Any, prefix: str) -> list:
    return sorted(k.decode() for k in client.scan_iter(match=f"{prefix}:*"))


def plant_state(cp: RedisCheckpointer, client: Any, thread_id: str, checkpoint_id: str, value: bytes) -> None:
    """Put ``value`` wherever the checkpoint's state is stored: the head's "state" when it is
    the current one, and the segment and field its record names."""
    keys = cp.keys(thread_id)
    seq = client.hget(keys.head, f"i:{checkpoint_id}")
    record = client.zrange(keys.history, seq, seq, byscore=True)[0]
    cid, segment, field, _rest = record.split(b"\n", 3)
    field = field or cid  # an empty field is the id
    if client.hget(keys.head, "cur") == checkpoint_id.encode():
        client.hset(keys.head, "state", value)
    if segment != b"h":
        active = int(client.hget(keys.head, "sn") or 0)
        client.hset(keys.active if int(segment) == active else keys.sealed(int(segment)), field, value)


def plant_record(cp: RedisCheckpointer, client: Any, thread_id: str, record: bytes) -> None:
    """Put ``record`` in place of the thread's current checkpoint's record."""
    keys = cp.keys(thread_id)
    seq = client.hget(keys.head, "seq")
    client.zremrangebyscore(keys.history, seq, seq)
    client.zadd(keys.history, {record: seq})
    client.hset(keys.head, "rec", record)


def test_save_load_list_roundtrip(cp: RedisCheckpointer) -> None:
    state = {"messages": [{"role": "user", "content": "hi"}], "step": 1, "blob": b"\x00\xff"}
    m1 = cp.save("thread-1", state, metadata={"source": "input", "step": 1})
    assert isinstance(m1, CheckpointMetadata)
    assert m1.thread_id == "thread-1" and m1.parent_id is None
    assert m1.metadata == {"source": "input", "step": 1}
    assert m1.size > 0
    assert m1.created_at.tzinfo is not None and m1.created_at.utcoffset() == datetime.timedelta(0)
    assert uuid.UUID(m1.id).version == 7

    m2 = cp.save("thread-1", {"step": 2}, metadata={"source": "loop", "step": 2})
    assert m2.parent_id == m1.id
    assert m2.created_at >= m1.created_at

    latest = cp.load("thread-1")
    assert isinstance(latest, Checkpoint)
    assert (latest.id, latest.parent_id, latest.state) == (m2.id, m1.id, {"step": 2})
    assert latest.metadata == {"source": "loop", "step": 2}
    assert latest.created_at == m2.created_at

    first = cp.load("thread-1", m1.id)
    assert first is not None and first.state == state and first.parent_id is None
    assert cp.list("thread-1") == [m2, m1]


def test_missing_things_are_none_or_empty(cp: RedisCheckpointer) -> None:
    assert cp.load("nobody") is None
    assert cp.list("nobody") == []
    assert cp.delete_thread("nobody") is False
    cp.save("t", 1)
    assert cp.load("t", "no-such-id") is None


def test_list_limit_before_and_order(cp: RedisCheckpointer) -> None:
    metas = [cp.save("t", i) for i in range(7)]
    newest_first = metas[::-1]
    assert cp.list("t") == newest_first
    assert cp.list("t", limit=3) == newest_first[:3]
    assert cp.list("t", limit=0) == []
    assert cp.list("t", limit=100) == newest_first
    assert cp.list("t", before=metas[4].id) == newest_first[3:]
    assert cp.list("t", before=metas[4].id, limit=2) == newest_first[3:5]
    assert cp.list("t", before=metas[0].id) == []
    with pytest.raises(CheckpointNotFoundError) as err:
        cp.list("t", before="not-there")
    assert err.value.checkpoint_id == "not-there" and err.value.thread_id == "t"
    assert isinstance(err.value, CheckpointError)


def test_list_pages_through_long_histories(cp: RedisCheckpointer, monkeypatch: Any) -> None:
    monkeypatch.setattr(core_module, "PAGE", 4)
    metas = [cp.save("t", i) for i in range(11)]
    assert [m.id for m in cp.list("t")] == [m.id for m in reversed(metas)]
    assert [m.id for m in cp.list("t", limit=9)] == [m.id for m in reversed(metas)][:9]
    assert [m.id for m in cp.list("t", before=metas[9].id)] == [m.id for m in reversed(metas[:9])]


def test_list_order_is_commit_order_not_id_order(cp: RedisCheckpointer) -> None:
    # caller-chosen ids that sort the other way round: commit order still wins
    for cid in ["zzz", "mmm", "aaa"]:
        cp.save("t", cid, checkpoint_id=cid)
    assert [m.id for m in cp.list("t")] == ["aaa", "mmm", "zzz"]
    assert cp.load("t").id == "aaa"  # type: ignore[union-attr]


def test_compare_and_set(cp: RedisCheckpointer, client: Any, prefix: str) -> None:
    m1 = cp.save("t", 1, expected_id=None)
    with pytest.raises(ConflictError) as err:
        cp.save("t", 2, expected_id=None)
    assert (err.value.thread_id, err.value.expected_id, err.value.current_id) == ("t", None, m1.id)
    m2 = cp.save("t", 2, expected_id=m1.id)
    before = keys_of(client, prefix), client.hgetall(cp.keys("t").head)
    with pytest.raises(ConflictError) as err:
        cp.save("t", 3, expected_id=m1.id)
    assert (err.value.expected_id, err.value.current_id) == (m1.id, m2.id)
    assert (keys_of(client, prefix), client.hgetall(cp.keys("t").head)) == before
    with pytest.raises(ConflictError) as err:
        cp.save("empty", 1, expected_id=m1.id)
    assert err.value.current_id is None
    assert cp.load("empty") is None
    assert [m.id for m in cp.list("t")] == [m2.id, m1.id]


def test_caller_chosen_id_is_idempotent(cp: RedisCheckpointer) -> None:
    m1 = cp.save("t", {"v": 1}, metadata={"a": 1}, checkpoint_id="job-42")
    m2 = cp.save("t", {"v": 2}, metadata={"a": 2}, checkpoint_id="job-42")
    assert m2 == m1
    assert [m.id for m in cp.list("t")] == ["job-42"]
    assert cp.load("t").state == {"v": 1}  # type: ignore[union-attr]
    # a replay also wins over compare-and-set: the first call already committed
    m3 = cp.save("t", {"v": 3}, checkpoint_id="next", expected_id="job-42")
    assert cp.save("t", {"v": 3}, checkpoint_id="next", expected_id="job-42") == m3
    assert cp.load("t").parent_id == "job-42"  # type: ignore[union-attr]
    # the same id on another thread is another checkpoint
    assert cp.save("other", 0, checkpoint_id="job-42").thread_id == "other"


def test_delete_thread(cp: RedisCheckpointer, client: Any, prefix: str) -> None:
    cp.save("t", 1)
    cp.save("keep", 1)
    assert cp.delete_thread("t") is True
    assert cp.load("t") is None and cp.list("t") == []
    assert keys_of(client, prefix) == sorted(cp.keys("keep"))
    assert cp.delete_thread("t") is False


def test_thread_ids_are_isolated(cp: RedisCheckpointer, client: Any, prefix: str) -> None:
    for i, tid in enumerate(TRICKY_IDS):
        cp.save(tid, {"i": i})
    for i, tid in enumerate(TRICKY_IDS):
        ckpt = cp.load(tid)
        assert ckpt is not None and ckpt.state == {"i": i} and ckpt.thread_id == tid
        assert len(cp.list(tid)) == 1
    assert len(keys_of(client, prefix)) == 3 * len(TRICKY_IDS)
    cp.delete_thread("a")
    assert cp.load("a:history") is not None and cp.load("a}") is not None


def test_compression_is_readable_both_ways(make_cp: Callable[..., RedisCheckpointer]) -> None:
    big = {"text": "the quick brown fox " * 500}
    snappy_cp = make_cp(compression="snappy", compression_threshold=64)
    plain_cp = make_cp(compression=None)
    m_c = snappy_cp.save("c", big)
    m_p = plain_cp.save("p", big)
    assert m_c.size < m_p.size / 5
    assert plain_cp.load("c").state == big  # type: ignore[union-attr]
    assert snappy_cp.load("p").state == big  # type: ignore[union-attr]
    small = make_cp(compression="snappy", compression_threshold=10**6).save("s", big)
    assert small.size == m_p.size  # under the threshold: stored raw


def test_values_round_trip(cp: RedisCheckpointer) -> None:
    import decimal

    state = {
        "none": None, "bool": True, "int": -(2**100), "float": 1.5, "str": "ü", "bytes": b"\x00",
        "list": [1, [2, [3]]], "set": {1, 2}, "when": datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2024, 5, 1), "money": decimal.Decimal("10.25"), "uuid": uuid.UUID(int=7),
        1: "int key",
    }
    cp.save("t", state)
    assert cp.load("t").state == state  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "state",
    [
        object(), {"when": datetime.datetime(2024, 1, 1)}, {"re": __import__("re").compile("x")}, {"f": len},
        # over codec.LOOSE_MAX bytes of CBOR: keys must be str/bytes, integers at most 1024 bits
        {n: "x" * 40 for n in range(1000)}, {"pad": "x" * 40_000, "n": 2**1100},
        # nested deeper than loading allows (a small body: saved, then never loadable, before)
        functools.reduce(lambda inner, _: [inner], range(300), []),
    ],
    ids=["object", "naive-datetime", "regex", "function", "large-int-keys", "large-bignum", "too-deep"],
)
def test_unencodable_state_writes_nothing(cp: RedisCheckpointer, client: Any, prefix: str, state: Any) -> None:
    with pytest.raises(SerializationError):
        cp.save("t", state)
    assert keys_of(client, prefix) == []


def test_state_over_max_size_is_refused(make_cp: Callable[..., RedisCheckpointer], client: Any, prefix: str) -> None:
    cp = make_cp(max_state_size=1000)
    with pytest.raises(StateTooLargeError, match="raise max_state_size to save it") as err:
        cp.save("t", "x" * 2000)
    assert (err.value.size, err.value.limit, err.value.thread_id, err.value.operation) == (2003, 1000, "t", "save")
    assert keys_of(client, prefix) == []


def test_a_stored_state_over_max_size_is_too_large_to_load_not_corrupt(
        make_cp: Callable[..., RedisCheckpointer]) -> None:
    m = make_cp().save("t", "x" * 2000)
    with pytest.raises(StateTooLargeError, match="raise max_state_size to load it") as err:
        make_cp(max_state_size=1000).load("t")
    assert (err.value.thread_id, err.value.checkpoint_id, err.value.limit) == ("t", m.id, 1000)
    assert make_cp().load("t").state == "x" * 2000  # type: ignore[union-attr]


def test_a_state_that_cannot_be_encoded_names_the_place_and_the_thread(
        make_cp: Callable[..., RedisCheckpointer], client: Any, prefix: str) -> None:
    with pytest.raises(SerializationError, match=r"^state\['a'\]\[1\]\['b'\]: cannot store object") as err:
        make_cp().save("t", {"a": [1, {"b": object()}]})
    assert err.value.thread_id == "t" and err.value.operation == "save"
    assert keys_of(client, prefix) == []


@pytest.mark.parametrize(
    "call, exc, word",
    [
        (lambda cp: cp.save("", 1), ValueError, "thread_id"),
        (lambda cp: cp.save(123, 1), TypeError, "thread_id"),
        (lambda cp: cp.save(None, 1), TypeError, "thread_id"),
        (lambda cp: cp.save("a" * 1025, 1), ValueError, "thread_id"),
        (lambda cp: cp.save("half a pair \ud800", 1), ValueError, "thread_id"),  # no UTF-8 form
        (lambda cp: cp.advance("t", {"not": "callable"}), TypeError, "step"),
        (lambda cp: cp.save("t", 1, metadata=[("a", 1)]), TypeError, "metadata"),
        (lambda cp: cp.save("t", 1, metadata={1: "x"}), TypeError, "metadata"),
        (lambda cp: cp.save("t", 1, metadata={"x": object()}), SerializationError, "metadata"),
        (lambda cp: cp.save("t", 1, metadata={"x": {1: 2}}), SerializationError, "metadata"),  # strict
        (lambda cp: cp.save("t", 1, checkpoint_id=""), ValueError, "checkpoint_id"),
        (lambda cp: cp.save("t", 1, checkpoint_id="a b"), ValueError, "checkpoint_id"),
        (lambda cp: cp.save("t", 1, checkpoint_id="x" * 129), ValueError, "checkpoint_id is 129 char"),
        (lambda cp: cp.list("t", before="x" * 5000), ValueError, "before is 5000 char"),
        (lambda cp: cp.save("t", 1, checkpoint_id=7), TypeError, "checkpoint_id"),
        (lambda cp: cp.save("t", 1, expected_id=7), TypeError, "expected_id"),
        (lambda cp: cp.save("t", 1, expected_id="x\n"), ValueError, "expected_id"),
        (lambda cp: cp.load(""), ValueError, "thread_id"),
        (lambda cp: cp.load("t", "bad id"), ValueError, "checkpoint_id"),
        (lambda cp: cp.list("t", limit=-1), ValueError, "limit"),
        (lambda cp: cp.list("t", limit="3"), TypeError, "limit"),
        (lambda cp: cp.list("t", limit=True), TypeError, "limit"),
        (lambda cp: cp.list("t", before=""), ValueError, "before"),
        (lambda cp: cp.delete_thread(""), ValueError, "thread_id"),
        (lambda cp: cp.with_ttl(-1), ValueError, "ttl_seconds"),
        (lambda cp: cp.with_ttl("1"), TypeError, "ttl_seconds"),
        (lambda cp: cp.with_ttl(float("inf")), ValueError, "ttl_seconds"),
        (lambda cp: cp.with_ttl(float("nan")), ValueError, "ttl_seconds"),
        # beyond what Redis and a Lua number hold exactly: refused before any write
        (lambda cp: cp.with_ttl(1e15), ValueError, "ttl_seconds"),
    ],
)
def test_bad_input_names_the_argument_and_writes_nothing(
    cp: RedisCheckpointer, client: Any, prefix: str, call: Any, exc: type, word: str
) -> None:
    with pytest.raises(exc, match=word):
        call(cp)
    assert keys_of(client, prefix) == []


@pytest.mark.parametrize(
    "options, exc, word",
    [
        ({"key_prefix": ""}, ValueError, "key_prefix"),
        ({"key_prefix": "a{b}"}, ValueError, "key_prefix"),
        ({"key_prefix": 1}, TypeError, "key_prefix"),
        ({"key_prefix": "p\udc00"}, ValueError, "key_prefix"),
        ({"refresh_ttl_on_read": "false"}, TypeError, "refresh_ttl_on_read"),
        ({"ttl_seconds": 0}, ValueError, "ttl_seconds"),
        ({"ttl_seconds": float("inf")}, ValueError, "ttl_seconds"),
        ({"max_checkpoints": 0}, ValueError, "max_checkpoints"),
        ({"max_checkpoints": 1.5}, TypeError, "max_checkpoints"),
        ({"compression": "gzip"}, ValueError, "compression"),
        ({"compression_threshold": -1}, ValueError, "compression_threshold"),
        ({"max_state_size": 0}, ValueError, "max_state_size"),
        ({"fast_path": 1}, TypeError, "fast_path"),
        ({"segment_checkpoints": 1}, ValueError, "segment_checkpoints"),
        ({"segment_bytes": "1"}, TypeError, "segment_bytes"),
    ],
)
def test_bad_options(make_cp: Callable[..., RedisCheckpointer], options: dict, exc: type, word: str) -> None:
    with pytest.raises(exc, match=word):
        make_cp(**options)


@pytest.mark.parametrize(
    "url, options",
    [
        ("redis://127.0.0.1:9/0", {}),  # cluster=None: it would ask the server
        ("redis://127.0.0.1:9/0", {"cluster": False}),  # lazy: it would connect at the first save
        ("unix:///nonexistent.sock", {"cluster": False}),
        ("redis+sentinel://127.0.0.1:9/mymaster", {}),
    ],
)
def test_from_url_refuses_a_misspelt_connection_option_before_connecting(url: str, options: dict) -> None:
    # Nothing listens at these addresses: the error must come from the keyword itself, at
    # once, not from a connection attempt or from the first save.
    with pytest.raises(TypeError, match="health_check_intervall"):
        RedisCheckpointer.from_url(url, health_check_intervall=30, retry_budget=0, **options)
    cp = RedisCheckpointer.from_url(url, health_check_interval=30, retry_budget=0, cluster=False)
    cp.close()  # spelt right, the option is taken, and nothing is connected yet


def test_from_url_takes_every_checkpointer_keyword_for_the_checkpointer() -> None:
    """``from_url`` sends every keyword of ``__init__`` to the checkpointer, the rest to the pool."""
    from redis_checkpoint.store import OWN_OPTIONS, take_own

    assert OWN_OPTIONS[:2] == ("key_prefix", "ttl_seconds") and "segment_bytes" in OWN_OPTIONS
    options = {"key_prefix": "p", "fast_path": False, "socket_timeout": 1}
    assert take_own(options) == {"key_prefix": "p", "fast_path": False} and options == {"socket_timeout": 1}


def test_client_must_return_bytes() -> None:
    import fakeredis

    with pytest.raises(ValueError, match="decode_responses"):
        RedisCheckpointer(fakeredis.FakeRedis(decode_responses=True))
    with pytest.raises(TypeError, match="client"):
        RedisCheckpointer(object())


def test_corrupt_blob_names_thread_and_checkpoint(cp: RedisCheckpointer, client: Any) -> None:
    m = cp.save("t", {"ok": True})
    plant_state(cp, client, "t", m.id, b"R\x10\xff\xff\xff")
    with pytest.raises(CorruptCheckpointError) as err:
        cp.load("t")
    assert err.value.thread_id == "t" and err.value.checkpoint_id == m.id
    assert m.id in str(err.value)
    with pytest.raises(CorruptCheckpointError):
        cp.load("t", m.id)
    cp.save("t", {"next": 1})  # m is now an older checkpoint
    plant_state(cp, client, "t", m.id, b"garbage")
    with pytest.raises(CorruptCheckpointError, match="header") as err:
        cp.load("t", m.id)
    assert err.value.checkpoint_id == m.id


@pytest.mark.parametrize(
    "rest",
    [b"garbage", b"0\nf\n2\n", b"0\nf\n1\nx\n\n", b"0\nf\n" + b"9" * 5000 + b"\n1 0\n\n",
     b"0\nf\n1\n" + b"9" * 30 + b" 0\n\n", b"0\nf\n1\n1 0\n\xff\n", b"x\nf\n1\n1 0\n\n"],
    ids=["no-fields", "too-few-fields", "bad-time", "huge-size", "time-overflow", "parent-not-utf8", "bad-segment"],
)
def test_planted_bad_record_is_corrupt(cp: RedisCheckpointer, client: Any, rest: bytes) -> None:
    m = cp.save("t", 1)
    plant_record(cp, client, "t", m.id.encode() + b"\n" + rest)
    for read in (lambda: cp.load("t"), lambda: cp.load("t", m.id), lambda: cp.list("t")):
        with pytest.raises(CorruptCheckpointError, match="bad record") as err:
            read()
        assert err.value.thread_id == "t" and err.value.checkpoint_id == m.id


def test_planted_checkpoint_id_not_utf8_is_corrupt(cp: RedisCheckpointer, client: Any) -> None:
    cp.save("t", 1)
    plant_record(cp, client, "t", b"\xff\n0\nf\n1\n1 0\n\n")
    for read in (lambda: cp.load("t"), lambda: cp.list("t")):
        with pytest.raises(CorruptCheckpointError, match="bad record") as err:
            read()
        assert err.value.thread_id == "t" and err.value.checkpoint_id is None


def test_planted_colliding_keys_are_corrupt_not_slow(cp: RedisCheckpointer, client: Any) -> None:
    """Keys sharing one hash make a dict quadratic to build; stored ones are refused instead.

    A metadata record is decoded under the strict rules at any size (``list`` reads
    up to 1000 of them a call), a state over ``codec.LOOSE_MAX`` bytes.
    """
    m = cp.save("t", {"ok": True}, metadata={"by": "a"})
    colliding = cbor2.dumps({1 + k * (2**61 - 1): 0 for k in range(3000)})  # 36 KB
    plant_state(cp, client, "t", m.id, b"R\x10" + colliding)
    with pytest.raises(CorruptCheckpointError, match="map key") as err:
        cp.load("t")
    assert err.value.checkpoint_id == m.id
    record = client.hget(cp.keys("t").head, "rec")
    plant_record(cp, client, "t", record.rsplit(b"\n", 1)[0] + b"\n" + b"R\x10" + cbor2.dumps({1: 0, 2: 0}))
    with pytest.raises(CorruptCheckpointError, match="metadata"):
        cp.list("t")


def test_retention_keeps_newest(make_cp: Callable[..., RedisCheckpointer], client: Any) -> None:
    cp = make_cp(max_checkpoints=3)
    metas = [cp.save("t", i) for i in range(10)]
    assert [m.id for m in cp.list("t")] == [m.id for m in metas[:-4:-1]]
    keys = cp.keys("t")
    fields = {f.decode() for f in client.hkeys(keys.head)}
    assert {f for f in fields if f[:2] in ("i:", "t:", "q:")} == (
        {f"i:{m.id}" for m in metas[-3:]}  # the ids kept
        | {f"t:{m.id}" for m in metas[:-3]} | {f"q:{n}" for n in range(1, 8)}  # the removed, for replays
    )
    assert [r.split(b"\n")[0].decode() for r in client.zrange(keys.history, 0, -1)] == [m.id for m in metas[-3:]]
    assert client.hlen(keys.active) == 3  # only the states kept
    assert [cp.load("t", m.id).state for m in metas[-3:]] == [7, 8, 9]
    assert cp.load("t", metas[0].id) is None


@pytest.mark.sync_only  # admin.prune is blocking
def test_one_call_removes_a_bounded_number(make_cp: Callable[..., RedisCheckpointer], client: Any) -> None:
    """Retention lowered on a long thread catches up over the next saves, at most
    TRIM per save, so no call blocks Redis for long; prune makes as many calls as it needs."""
    many = make_cp(max_checkpoints=TRIM + 200, segment_checkpoints=100)
    saved = [many.save("big", i).id for i in range(TRIM + 100)]
    one = make_cp(max_checkpoints=1, segment_checkpoints=100)
    last = one.save("big", "last").id
    assert [m.id for m in many.list("big")] == [last] + saved[:TRIM - 1:-1]  # TRIM went, in chunks of 500
    again = one.save("big", "again").id
    assert [m.id for m in many.list("big")] == [again]
    keys = many.keys("big")
    live = [f for f in client.hkeys(keys.head) if f.startswith(b"i:")]
    # one checkpoint left, its state in the head only: a save that keeps one writes it nowhere else
    assert len(live) == 1 and client.zcard(keys.history) == 1 and client.hlen(keys.active) == 0
    assert client.exists(*keys.segments(0, 20)) == 0  # every sealed segment went with its checkpoints
    # prune: calls until nothing more is due (here TRIM, then 100)
    for i in range(TRIM + 101):
        many.save("other", i)
    assert admin.prune(many, "other", 1) == TRIM + 100
    assert len(many.list("other")) == 1


def test_save_replayed_after_retention_writes_nothing(make_cp: Callable[..., RedisCheckpointer]) -> None:
    """A save re-sent after retention removed its checkpoint must not commit it again.

    The real-Redis version with a lost reply is in test_real_redis.py; here the
    replay is the same call made again.
    """
    cp = make_cp(max_checkpoints=1)
    first = cp.save("t", "x", checkpoint_id="X", metadata={"by": "a"})
    second = cp.save("t", "y", checkpoint_id="Y")  # removes X
    assert cp.save("t", "x", checkpoint_id="X", expected_id=None) == first  # no conflict either
    assert [(m.id, m.parent_id) for m in cp.list("t")] == [("Y", "X")]
    assert cp.load("t").state == "y" and cp.load("t", "X") is None  # type: ignore[union-attr]
    assert second.parent_id == "X"


def test_replay_window_follows_the_budget_up_to_a_day(make_cp: Callable[..., RedisCheckpointer]) -> None:
    assert make_cp().engine.policy.replay_window_ms == 70_000
    assert make_cp(retry_budget=0).engine.policy.replay_window_ms == 60_000
    endless = make_cp(retry_budget=float("inf"), max_checkpoints=1)
    assert endless.engine.policy.replay_window_ms == 86_400_000
    first = endless.save("t", 1)
    endless.save("t", 2)
    assert endless.save("t", 1, checkpoint_id=first.id) == first  # removed, still known


@pytest.mark.sync_only  # admin.prune is blocking
def test_removed_records_go_after_the_replay_window(
    make_cp: Callable[..., RedisCheckpointer], client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retries, "REPLAY_MARGIN", 0.0)
    cp = make_cp(max_checkpoints=2, retry_budget=0.05)  # a 50 ms window
    for i in range(5):
        cp.save("t", i, checkpoint_id=f"c{i}")
    def marks(kind: bytes) -> list:
        return sorted(f.decode() for f in client.hkeys(cp.keys("t").head) if f.startswith(kind))

    def removed() -> list:  # the ids of the marks, in the order they go
        return sorted(client.hget(cp.keys("t").head, f).decode() for f in marks(b"q:"))

    def tombstones() -> list:
        return marks(b"t:")

    assert removed() == ["c0", "c1", "c2"]
    time.sleep(0.1)
    cp.save("t", 5, checkpoint_id="c5")  # removes c3 and drops the three past their window
    assert removed() == ["c3"] and tombstones() == ["t:c3"]
    time.sleep(0.1)
    assert admin.prune(cp, "t", 1) == 1  # the CLI's prune: same code, same cleanup
    assert removed() == ["c4"] and tombstones() == ["t:c4"]
    assert [m.id for m in cp.list("t")] == ["c5"]
    with pytest.raises(CheckpointNotFoundError):
        cp.list("t", before="c4")
    # past the window a removed id is unknown again: saving it makes a new checkpoint
    time.sleep(0.1)
    again = cp.save("t", "again", checkpoint_id="c4")
    assert again.parent_id == "c5" and [m.id for m in cp.list("t")] == ["c4", "c5"]
    assert tombstones() == [] and removed() == []


@pytest.mark.sync_only  # admin.prune is blocking
def test_ttl_applies_to_every_key(make_cp: Callable[..., RedisCheckpointer], client: Any) -> None:
    cp = make_cp(ttl_seconds=100, max_checkpoints=1)

    def keys() -> list:  # with one checkpoint kept, its state is in the head: no active segment
        return [k for k in cp.keys("t") if client.exists(k)]

    cp.save("t", 0)
    cp.save("t", 1)  # retention: the thread also holds a tombstone
    assert len(keys()) == 2 and all(0 < client.pttl(k) <= 100_000 for k in keys())
    cp.with_ttl(None).save("t", 2)  # the latest save's policy applies to the whole thread
    assert len(keys()) == 2 and all(client.pttl(k) == -1 for k in keys())
    cp.with_ttl(5).save("t", 3)
    assert len(keys()) == 2 and all(0 < client.pttl(k) <= 5000 for k in keys())
    # the CLI's prune leaves the thread's TTL on every key
    plain = make_cp(ttl_seconds=100)
    plain.save("p", 1)
    plain.save("p", 2)
    assert admin.prune(plain, "p", 1) == 1
    assert all(0 < client.pttl(k) <= 100_000 for k in plain.keys("p"))


@pytest.mark.sync_only  # compares with a RedisCheckpointer on the same client
def test_with_ttl_shares_client_and_scripts(cp: RedisCheckpointer, client: Any) -> None:
    other = cp.with_ttl(60)
    assert other.client is cp.client and other.engine.scripts is cp.engine.scripts
    assert other.ttl_seconds == 60 and cp.ttl_seconds is None
    assert RedisCheckpointer(client, key_prefix="x").engine.scripts is cp.engine.scripts
    other.close()  # does not own the client
    cp.save("t", 1)


@pytest.mark.sync_only  # Checkpointer is the blocking base class
def test_value_types_and_base_class(cp: RedisCheckpointer) -> None:
    assert isinstance(cp, Checkpointer)
    m = cp.save("t", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.id = "x"  # type: ignore[misc]
    with cp as same:
        assert same is cp
    assert "password" not in repr(cp)


def test_threads_lists_every_thread_by_glob(cp: RedisCheckpointer, make_cp: Callable[..., Any]) -> None:
    tids = ["a", "ab", "{x}", "a*b", "user:1", "user:22", "ü"]
    for tid in tids:
        cp.save(tid, 1)
        cp.save(tid, 2)
    assert sorted(cp.threads()) == sorted(tids)
    assert sorted(cp.threads("a*")) == ["a", "a*b", "ab"]
    assert sorted(cp.threads("a\\*b")) == ["a*b"]  # an escaped glob character is literal
    assert sorted(cp.threads("{*")) == ["{x}"]
    assert sorted(cp.threads("user:[0-9]")) == ["user:1"]
    other = make_cp(key_prefix=cp.key_prefix + "x")
    assert list(other.threads()) == []
    with pytest.raises(ValueError, match="match"):
        list(cp.threads(""))


def test_threads_glob_reads_thread_ids_not_their_escaped_keys(cp: RedisCheckpointer) -> None:
    """``50%`` is stored as ``50%25`` and ``a*`` as ``a%2A``: no glob may see those digits
    or letters, and ``?`` is one character of the id, however many bytes it takes in a key."""
    tids = ["50%", "a*", "x{y}", "*", "%", "\u00e9", "b", "25"]
    for tid in tids:
        cp.save(tid, 1)
    assert sorted(cp.threads("*2*")) == ["25"]
    assert sorted(cp.threads("*A")) == []
    assert sorted(cp.threads("*7*")) == []
    assert sorted(cp.threads("?")) == sorted(["*", "%", "\u00e9", "b"])
    assert sorted(cp.threads("[^b]")) == sorted(["*", "%", "\u00e9"])
    assert sorted(cp.threads("[%*{]*")) == sorted(["*", "%"])
    assert sorted(cp.threads("x{?}")) == ["x{y}"]


@pytest.mark.sync_only  # admin is blocking
def test_delete_if_current_deletes_only_the_thread_it_was_told_of(cp: RedisCheckpointer, client: Any) -> None:
    first = cp.save("t", 1)
    second = cp.save("t", 2)
    assert admin.delete_if_current(cp, "t", first.id) is False  # the thread moved on
    assert cp.load("t").id == second.id  # type: ignore[union-attr]
    assert admin.delete_if_current(cp, "t", second.id) is True
    assert cp.load("t") is None and client.exists(*cp.keys("t")) == 0
    assert admin.delete_if_current(cp, "t", second.id) is False  # gone already
    with pytest.raises(ValueError, match="checkpoint_id"):
        admin.delete_if_current(cp, "t", "")


def test_threads_skips_stray_keys(cp: RedisCheckpointer, client: Any) -> None:
    """Keys under the prefix that escape() could not have written are not threads."""
    cp.save("a}b", 1)
    p = cp.key_prefix.encode()
    for stray in (b"{\xff}", b"{%zz}", b"{%41}", b"{a}b}", b"{}"):
        client.set(p + b":" + stray + b":head", b"x")
    assert list(cp.threads()) == ["a}b"]


def test_advance_loads_computes_and_saves_with_compare_and_set(cp: RedisCheckpointer) -> None:
    calls = []

    def step(state: Any) -> Any:
        calls.append(state)
        return (state or 0) + 1

    first = cp.advance("t", step)
    second = cp.advance("t", step, checkpoint_id="job-1", metadata={"by": "job"})
    assert calls == [None, 1] and cp.load("t").state == 2  # type: ignore[union-attr]
    assert second.parent_id == first.id and second.metadata == {"by": "job"}
    again = cp.advance("t", step, checkpoint_id="job-1")  # a retried job: not applied again
    assert again.id == "job-1" and calls == [None, 1] and cp.load("t").state == 2  # type: ignore[union-attr]


def test_advance_of_a_job_retention_removed_is_not_applied_again(
    make_cp: Callable[..., RedisCheckpointer]
) -> None:
    """Within the replay window a redelivered job finds its removed checkpoint's tombstone."""
    cp = make_cp(max_checkpoints=1)
    first = cp.advance("t", lambda s: (s or 0) + 1, checkpoint_id="job-1")
    cp.advance("t", lambda s: s + 10, checkpoint_id="job-2")  # removes job-1
    assert cp.load("t", "job-1") is None
    again = cp.advance("t", lambda s: s + 1, checkpoint_id="job-1")  # the step runs, is not applied
    assert again == first
    assert [m.id for m in cp.list("t")] == ["job-2"] and cp.load("t").state == 11  # type: ignore[union-attr]


@pytest.mark.sync_only  # its step saves from inside advance; tests/test_async.py races tasks instead
def test_advance_retries_conflicts_then_gives_up(cp: RedisCheckpointer) -> None:
    cp.save("t", 0)

    def racing(state: Any) -> Any:  # another writer always gets in first
        cp.save("t", -1)
        return state + 1

    with pytest.raises(ConflictError):
        cp.advance("t", racing, max_conflicts=3)
    assert len(cp.list("t")) == 4  # only the three racing saves landed
    attempts = []

    def lose_once(state: Any) -> Any:
        if not attempts:
            attempts.append(1)
            cp.save("t", 100)
        return state + 1

    assert cp.advance("t", lose_once).id == cp.load("t").id  # type: ignore[union-attr]
    assert cp.load("t").state == 101  # type: ignore[union-attr]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="max_conflicts"):
            cp.advance("t", lose_once, max_conflicts=bad)  # type: ignore[arg-type]
