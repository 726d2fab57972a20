"""LangGraph: the published conformance suite, and a real graph interrupted and resumed elsewhere."""
from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from typing import Any, List, Tuple

import fakeredis
import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.conformance import checkpointer_test, validate

from redis_checkpoint import CorruptCheckpointError, RedisCheckpointer
from redis_checkpoint.codec import Codec
from redis_checkpoint.langgraph import AsyncRedisSaver, RedisSaver
from redis_checkpoint.langgraph import operations as saver_module
from redis_checkpoint import scripts
from redis_checkpoint.testing import wait_until

from . import lg_graph
from .clients import Calls

#: Most checkpoints one call of the saver's retention or prune removes (``lua/lg_lib.lua``).
LG_TRIM = int(re.search(rb"\nlocal TRIM = (\d+)", scripts.source("lg_lib")).group(1))  # type: ignore[union-attr]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: DeltaChannel came with langgraph 1.2; the lowest langgraph-checkpoint allowed pairs with 1.1.
needs_delta_channel = pytest.mark.skipif(lg_graph.DeltaChannel is None, reason="this langgraph has no DeltaChannel")


def run_conformance(make: Any) -> Any:
    @checkpointer_test(name="redis-checkpoint")
    async def factory() -> Any:
        saver = make()
        yield saver

    async def go() -> Any:
        return await validate(factory)

    return asyncio.run(go())


def capture(report: Any) -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        report.print_report()
    return buf.getvalue()


@pytest.mark.parametrize("saver", ["RedisSaver", "AsyncRedisSaver"])
def test_conformance(client: Any, fast_path: bool, saver: str) -> None:
    """LangGraph's published conformance suite, on both savers and every backend."""
    def make() -> Any:
        prefix = f"lg{uuid.uuid4().hex[:10]}"  # a fresh store for each of the suite's tests
        if saver == "RedisSaver":
            return RedisSaver(client, key_prefix=prefix, fast_path=fast_path)
        return AsyncRedisSaver(client.async_twin(), key_prefix=prefix, fast_path=fast_path)

    report = run_conformance(make)
    assert "FULL (8/8)" in capture(report), capture(report)


def check_finished(saver: RedisSaver, thread: str) -> None:
    graph = lg_graph.build(saver)
    state = graph.get_state({"configurable": {"thread_id": thread}})
    contents = [m.content for m in state.values["messages"]]
    assert contents == ["refund order 7", "echo: refund order 7", "approved: yes", "done after 3 messages"]
    assert state.next == ()
    history = list(graph.get_state_history({"configurable": {"thread_id": thread}}))
    assert len(history) >= 4
    assert history[0].config["configurable"]["checkpoint_id"] == state.config["configurable"]["checkpoint_id"]


def interrupted(saver: RedisSaver, thread: str) -> None:
    result = lg_graph.start(saver, thread)
    assert [m.content for m in result["messages"]] == ["refund order 7"]
    state = lg_graph.build(saver).get_state({"configurable": {"thread_id": thread}}, subgraphs=True)
    assert state.next == ("review",)
    assert state.tasks[0].interrupts[0].value == {"question": "approve?", "last": "echo: refund order 7"}
    # the subgraph's checkpoints live in their own namespace
    tuples = saver.list({"configurable": {"thread_id": thread}})
    namespaces = {t.config["configurable"]["checkpoint_ns"] for t in tuples}
    assert "" in namespaces and any(ns.startswith("review:") for ns in namespaces)


def resume_elsewhere(url: str, prefix: str, thread: str) -> str:
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-m", "tests.lg_graph", url, prefix, thread, "yes"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


@pytest.mark.parametrize("backend", [
    "fakeredis",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("cluster", marks=[pytest.mark.redis, pytest.mark.cluster]),
])
def test_graph_interrupted_then_resumed_by_another_worker(backend: str, prefix: str,
                                                          request: pytest.FixtureRequest) -> None:
    """A graph stops at its interrupt; another worker (another process, on a real server)
    resumes it from the saved checkpoint and finishes it."""
    if backend == "fakeredis":
        server = fakeredis.FakeServer()
        saver = RedisSaver(fakeredis.FakeRedis(server=server), key_prefix=prefix)
        interrupted(saver, "t1")
        lg_graph.resume(RedisSaver(fakeredis.FakeRedis(server=server), key_prefix=prefix), "t1", "yes")
    else:
        url = request.getfixturevalue("cluster_servers").url if backend == "cluster" else \
            request.getfixturevalue("redis_url")
        saver = RedisSaver.from_url(url, key_prefix=prefix)
        interrupted(saver, "t1")
        out = resume_elsewhere(url, prefix, "t1")
        assert out == "refund order 7|echo: refund order 7|approved: yes|done after 3 messages"
    check_finished(saver, "t1")
    saver.close()


def test_channel_values_are_stored_once_per_version(client: Any, prefix: str, fast_path: bool) -> None:
    saver = RedisSaver(client, key_prefix=prefix, fast_path=fast_path)
    graph = lg_graph.build(saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"messages": [HumanMessage(content="a")]}, config)
    graph.invoke(Command_resume("yes"), config)
    keys = saver.keys("t")
    fields = [f.decode(errors="replace") for f in client.hkeys(keys.active)]
    blobs = [f for f in fields if f.startswith("b:")]
    checkpoints = [f for f in fields if f.startswith("c:")]
    versions = {tuple(f.split("\0")[:2]) for f in blobs}
    # one blob per (namespace, channel, version); far fewer blobs than checkpoint x channel copies
    assert len(blobs) == len(set(blobs))
    assert len(checkpoints) >= 4 and len(blobs) < len(checkpoints) * len(versions)


def Command_resume(answer: str) -> Any:
    from langgraph.types import Command

    return Command(resume=answer)


def test_saver_options_retention_and_pruning(client: Any, prefix: str, fast_path: bool) -> None:
    cp = RedisCheckpointer(client, key_prefix=prefix)
    with pytest.raises(TypeError, match="only apply"):
        RedisSaver(cp, ttl_seconds=5)
    with pytest.raises(ValueError, match="max_checkpoints"):
        RedisSaver(client, max_checkpoints=0)
    with pytest.raises(ValueError, match="max_checkpoints"):  # before connecting: nothing listens there
        RedisSaver.from_url("redis://127.0.0.1:9/0", max_checkpoints=0, retry_budget=0)
    inherited = RedisSaver(RedisCheckpointer(client, key_prefix=prefix + "i", max_checkpoints=2, fast_path=fast_path))
    put_steps(inherited, "t", {"notes": "x"}, steps=4)
    assert len(list(inherited.list({"configurable": {"thread_id": "t"}}))) == 2  # the checkpointer's option
    saver = RedisSaver(client, key_prefix=prefix, max_checkpoints=2, fast_path=fast_path)
    graph = lg_graph.build(saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"messages": [HumanMessage(content="a")]}, config)
    graph.invoke(Command_resume("yes"), config)
    root = [t for t in saver.list(config) if t.config["configurable"]["checkpoint_ns"] == ""]
    assert len(root) == 2  # retention per namespace
    latest = saver.get_tuple(config)  # the latest still loads with its values
    assert latest is not None and len(latest.checkpoint["channel_values"]["messages"]) == 4
    blobs = lambda: [f for f in client.hkeys(saver.keys("t").active) if f.startswith(b"b:")]  # noqa: E731
    before = len(blobs())
    saver.prune(["t"])  # keep_latest: unreferenced channel values go too
    assert len(blobs()) < before
    after = saver.get_tuple(config)
    assert after is not None and after.checkpoint["channel_values"] == latest.checkpoint["channel_values"]
    # the kept checkpoint's parent is gone: it has none now, as in LangGraph's Postgres saver
    assert latest.parent_config is not None and after.parent_config is None
    assert [t.parent_config for t in saver.list(config)] == [None] * len(list(saver.list(config)))
    with pytest.raises(ValueError, match="strategy"):
        saver.prune(["t"], strategy="some")
    assert saver.get_next_version(None) < saver.get_next_version("00000000000000000000000000000001.5")


def test_retention_prune_and_delete_for_runs_remove_a_bounded_number_per_call(client: Any, prefix: str,
                                                                              fast_path: bool) -> None:
    """No call removes more than LG_TRIM checkpoints, so a long thread never
    blocks Redis for long (0.43 s for 20,000 in one call before): retention lowered
    on it catches up over the next puts; prune and delete_for_runs call as often as needed."""
    saver = RedisSaver(client, key_prefix=prefix, fast_path=fast_path)
    config = {"configurable": {"thread_id": "t"}}
    count = lambda thread: len(list(saver.list({"configurable": {"thread_id": thread}})))  # noqa: E731
    put_steps(saver, "t", {"n": 1}, steps=LG_TRIM + 30)
    trimmer = RedisSaver(client, key_prefix=prefix, max_checkpoints=1, fast_path=fast_path)
    put_steps(trimmer, "t", {"n": 2}, steps=1)
    assert count("t") == 31  # LG_TRIM went with that put
    put_steps(trimmer, "t", {"n": 3}, steps=1)
    assert count("t") == 1
    latest = saver.get_tuple(config)
    assert latest is not None and latest.checkpoint["channel_values"] == {"n": 3}

    put_steps(saver, "u", {"n": 1}, steps=2 * LG_TRIM + 4)
    calls = Calls(saver.engine)

    def removed() -> List[int]:
        return [reply[0] for name, _, reply in calls.log if name in ("lg_keep_latest", "lg_remove")]

    saver.prune(["u"])
    assert removed() == [LG_TRIM, LG_TRIM, 3] and count("u") == 1
    calls.clear()
    put_steps(saver, "v", {"n": 1}, steps=LG_TRIM + 5, metadata={"run_id": "r1"})
    saver.delete_for_runs(["r1"])
    assert removed() == [saver_module.REMOVE_PAGE, LG_TRIM + 5 - saver_module.REMOVE_PAGE] and count("v") == 0


def test_thousands_of_namespaces_are_read_and_pruned_a_bounded_number_per_call(client: Any, prefix: str,
                                                                                fast_path: bool) -> None:
    """A subgraph's namespace names its task, so a long thread may hold thousands:
    ``list`` and ``prune`` go a page of namespaces per call, never all at once."""
    from langgraph.checkpoint.base import empty_checkpoint

    saver = RedisSaver(client, key_prefix=prefix, fast_path=fast_path)
    spaces = [f"child:{i:04d}" for i in range(1234)]
    for i, ns in enumerate(spaces):
        for step in range(2 if i % 100 == 0 else 1):  # a few namespaces have an old checkpoint
            ckpt = empty_checkpoint()
            ckpt["id"] = f"{step}-{ns}"
            saver.put({"configurable": {"thread_id": "t", "checkpoint_ns": ns}}, ckpt, {}, {})
    calls = Calls(saver.engine)

    def pages() -> List[Tuple[Any, ...]]:
        return [tuple(argv) for name, argv, _ in calls.log if name == "lg_namespaces"]

    first = list(saver.list({"configurable": {"thread_id": "t"}}, limit=3))
    assert [t.config["configurable"]["checkpoint_ns"] for t in first] == [spaces[0], spaces[0], spaces[1]]
    assert pages() == [("", saver_module.NS_PAGE)]
    everything = list(saver.list({"configurable": {"thread_id": "t"}}))
    assert len(everything) == 1234 + 13
    assert len(pages()) == 14 and pages()[2] == (">" + spaces[saver_module.NS_PAGE - 1], saver_module.NS_PAGE)
    calls.clear()
    saver.prune(["t"])
    page = saver_module.NS_PAGE
    # a page read, then pruned (drop.lua frees the sealed segments left without checkpoints)
    assert calls.names("lg_namespaces", "lg_keep_latest") == ["lg_namespaces", "lg_keep_latest"] * 13
    pruned = [(list(argv[2:]), reply[0]) for name, argv, reply in calls.log if name == "lg_keep_latest"]
    assert [names for names, _ in pruned] == [spaces[i:i + page] for i in range(0, 1234, page)]
    assert [removed for _, removed in pruned] == [1] * 13
    assert len(list(saver.list({"configurable": {"thread_id": "t"}}))) == 1234


@needs_delta_channel
def test_retention_and_prune_keep_what_delta_channels_are_rebuilt_from(client: Any, prefix: str) -> None:
    """LangGraph's DeltaChannel stores a value every N updates and rebuilds it from
    the ancestors' writes in between. Retention and prune spare that chain (its
    length is in the checkpoint's counters_since_delta_snapshot), across a fork;
    before, max_checkpoints=3 rebuilt ``items`` as 4 values instead of 30, silently."""
    from langgraph.checkpoint.memory import InMemorySaver

    memory = InMemorySaver()
    expected = lg_graph.run_delta(memory, "t")
    assert len(expected["items"]) == 30
    past = [h.values for h in lg_graph.build_delta(memory).get_state_history({"configurable": {"thread_id": "t"}})]
    unbounded = RedisSaver(client, key_prefix=prefix)
    assert lg_graph.run_delta(unbounded, "all") == expected
    for keep in (1, 3, 8):
        saver = RedisSaver(client, key_prefix=prefix, max_checkpoints=keep)
        assert lg_graph.run_delta(saver, f"keep{keep}") == expected, keep
        config = {"configurable": {"thread_id": f"keep{keep}"}}
        kept = len(list(saver.list(config)))
        assert keep <= kept < 48  # 48 without retention: the chain is kept, not everything
        # every checkpoint retention keeps reads back whole, not only the newest
        history = [h.values for h in lg_graph.build_delta(saver).get_state_history(config)]
        assert history[:keep] == past[:keep], keep
        saver.prune([f"keep{keep}"])
        assert lg_graph.build_delta(saver).get_state(config).values == expected
    unbounded.prune(["all"])
    assert lg_graph.build_delta(unbounded).get_state({"configurable": {"thread_id": "all"}}).values == expected
    assert len(list(unbounded.list({"configurable": {"thread_id": "all"}}))) < 48


@needs_delta_channel
def test_delta_channel_history_reads_the_chain_in_one_call(
    client: Any, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The override gives what LangGraph's own walk (one get_tuple per ancestor)
    gives, for every checkpoint of a forked thread, from one read when the delta
    links reach the seeds, and falls back to get_tuple past a missing link."""
    from langgraph.checkpoint.base import BaseCheckpointSaver

    saver = RedisSaver(client, key_prefix=prefix)
    lg_graph.run_delta(saver, "t")
    history = list(saver.list({"configurable": {"thread_id": "t"}}))
    calls = Calls(saver.engine)
    for tup in history:
        # what LangGraph asks for: the channels not snapshotted in this checkpoint
        pending = sorted(tup.metadata.get("counters_since_delta_snapshot") or {})
        for channels in (pending, ["items", "other"], ["other"], ["items", "missing"]):
            calls.clear()
            ours = saver.get_delta_channel_history(config=tup.config, channels=channels)
            if channels == pending and pending:
                assert calls.names() == ["lg_chain"]  # one call to Redis
            assert ours == BaseCheckpointSaver.get_delta_channel_history(saver, config=tup.config, channels=channels)
    assert asyncio.run(saver.aget_delta_channel_history(config=history[0].config, channels=["items"])) == (
        saver.get_delta_channel_history(config=history[0].config, channels=["items"]))
    # a chain longer than one call reads: the next stretch comes from the next call
    monkeypatch.setattr(saver_module, "PAGE", 3)
    deep = max(history, key=lambda t: max((pair[1] for pair in (
        t.metadata.get("counters_since_delta_snapshot") or {}).values()), default=0))
    pending = sorted(deep.metadata["counters_since_delta_snapshot"])
    calls.clear()
    ours = saver.get_delta_channel_history(config=deep.config, channels=pending)
    assert len(calls.names()) > 1 and set(calls.names()) == {"lg_chain"}
    assert ours == BaseCheckpointSaver.get_delta_channel_history(saver, config=deep.config, channels=pending)
    monkeypatch.undo()
    # a link removed in the middle of the chain: the walk reads on from the next parent
    links = sorted(f for f in client.hkeys(saver.keys("t").head) if f.startswith(b"p:"))
    client.hdel(saver.keys("t").head, links[len(links) // 2])
    for tup in history:
        expected = BaseCheckpointSaver.get_delta_channel_history(saver, config=tup.config, channels=["items"])
        assert saver.get_delta_channel_history(config=tup.config, channels=["items"]) == expected
    assert saver.get_delta_channel_history(config={"configurable": {"thread_id": "none"}}, channels=["items"]) == {
        "items": {"writes": []}}
    assert saver.get_delta_channel_history(config=history[0].config, channels=[]) == {}


def test_delta_link_reads_langgraph_counters() -> None:
    from redis_checkpoint.langgraph.delta import MAX_DELTA_DEPTH, delta_link

    counters = {"a": [3, 7], "b": (1, 2), "bad": "x", "short": [1]}
    assert delta_link({"counters_since_delta_snapshot": counters}, "p1") == "7\np1"
    assert delta_link({"counters_since_delta_snapshot": counters}, "") == ""  # the first checkpoint
    assert delta_link({"counters_since_delta_snapshot": {}}, "p1") == ""  # all snapshotted here
    assert delta_link({"step": 1}, "p1") == "" and delta_link(None, "p1") == ""
    assert delta_link({"counters_since_delta_snapshot": {"a": [0, 10**9]}}, "p") == f"{MAX_DELTA_DEPTH}\np"


def put_steps(saver: RedisSaver, thread: str, values: Any, steps: int = 3,
              metadata: Any = None) -> Any:
    from langgraph.checkpoint.base import empty_checkpoint

    config: Any = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    version = None
    for step in range(steps):
        ckpt = empty_checkpoint()
        version = saver.get_next_version(version)
        ckpt["channel_values"] = dict(values)
        ckpt["channel_versions"] = {k: version for k in values}
        config = saver.put(config, ckpt, {"step": step, **(metadata or {})}, {k: version for k in values})
    return config


def test_alist_reads_a_page_at_a_time(client: Any, prefix: str, fast_path: bool) -> None:
    """An async consumer that stops early stops the reading; a long history is never read whole."""
    saver = RedisSaver(client, key_prefix=prefix, fast_path=fast_path)
    put_steps(saver, "t", {"n": 1}, steps=250)
    calls = Calls(saver.engine)

    async def take(n: Any) -> Any:
        out = []
        async for tup in saver.alist({"configurable": {"thread_id": "t"}}):
            out.append(tup.config["configurable"]["checkpoint_id"])
            if len(out) == n:
                break
        return out

    assert len(asyncio.run(take(5))) == 5 and calls.names() == ["lg_namespaces", "lg_list"]
    calls.clear()
    everything = asyncio.run(take(None))
    assert everything == [t.config["configurable"]["checkpoint_id"]
                          for t in saver.list({"configurable": {"thread_id": "t"}})]
    assert len(everything) == 250 and calls.names()[:4] == ["lg_namespaces", "lg_list", "lg_list", "lg_list"]


def test_encrypted_serializer_round_trips_and_stores_no_plaintext(client: Any, prefix: str) -> None:
    from langgraph.checkpoint.serde.encrypted import EncryptedSerializer

    serde = EncryptedSerializer.from_pycryptodome_aes(key=b"0123456789abcdef")
    saver = RedisSaver(client, key_prefix=prefix, serde=serde)
    config = put_steps(saver, "t", {"notes": "the launch code is 0000"})
    assert saver.get_tuple(config).checkpoint["channel_values"]["notes"] == "the launch code is 0000"  # type: ignore[union-attr]
    stored = b"".join(v for key in saver.keys("t")[::3] for v in client.hgetall(key).values())
    assert b"launch code" not in stored


@pytest.mark.redis
def test_ttl_retention_and_compression_as_in_the_core(redis_url: str, prefix: str, real_client: Any) -> None:
    import time

    saver = RedisSaver.from_url(redis_url, key_prefix=prefix, ttl_seconds=0.5, compression_threshold=100)
    put_steps(saver, "t", {"text": "refund order seven " * 200})
    keys = saver.keys("t")
    assert all(0 < real_client.pttl(k) <= 500 for k in (keys.head, keys.ids, keys.active))  # no writes key yet
    blobs = [v for f, v in real_client.hgetall(keys.active).items() if f.startswith(b"b:")]
    assert blobs and all(b[1] & 0x0F == 1 for b in blobs)  # snappy frames (codec.py)
    assert sum(len(b) for b in blobs) < len("refund order seven " * 200)
    time.sleep(0.8)
    assert real_client.exists(*keys) == 0 and saver.get_tuple({"configurable": {"thread_id": "t"}}) is None
    saver.close()


@pytest.mark.redis
@pytest.mark.parametrize("refresh", [True, False])
def test_refresh_ttl_on_read_slides_the_ttl_on_get_tuple(
    redis_url: str, prefix: str, real_client: Any, refresh: bool
) -> None:
    """As the core's load: ``get_tuple`` slides the TTL of every key of the thread."""
    import time

    saver = RedisSaver.from_url(redis_url, key_prefix=prefix, ttl_seconds=5, refresh_ttl_on_read=refresh)
    config = put_steps(saver, "t", {"text": "x"})
    saver.put_writes(config, [("text", "y")], task_id="task")
    keys = saver.keys("t")
    time.sleep(1.0)
    assert all(0 < real_client.pttl(k) <= 4000 for k in keys)
    assert saver.get_tuple({"configurable": {"thread_id": "t"}}) is not None
    left = [real_client.pttl(k) for k in keys]
    assert all(4500 < t <= 5000 for t in left) if refresh else all(0 < t <= 4000 for t in left), left
    assert saver.get_tuple({"configurable": {"thread_id": "other"}}) is None
    assert real_client.exists(*saver.keys("other")) == 0  # nothing is created for a missing thread
    saver.delete_thread("t")
    saver.close()


@pytest.mark.parametrize("kind", ["c:", "b:", "w:"], ids=["record", "value", "write"])
@pytest.mark.parametrize(
    "planted",
    [b"garbage", {"no": "fields"}, [1, 2], ["msgpack"], {"checkpoint": 1, "metadata": 2, "parent": 3},
     {1 + k * (2**61 - 1): 0 for k in range(40)}],
    ids=["not-a-frame", "map", "ints", "short-list", "wrong-types", "int-keys"],
)
def test_planted_blobs_are_corrupt(kind: str, planted: Any) -> None:
    """Stored bytes of the wrong shape end in CorruptCheckpointError naming the checkpoint."""
    client = fakeredis.FakeRedis()
    saver = RedisSaver(client)
    config = put_steps(saver, "t", {"notes": "x"}, steps=1)
    saver.put_writes(config, [("notes", "y")], task_id="task")
    data = saver.keys("t").active
    fields = [f for f in client.hkeys(data) if f.startswith(kind.encode())]
    assert fields
    blob = planted if isinstance(planted, bytes) else Codec().encode(planted)  # any CBOR
    client.hset(data, mapping={f: blob for f in fields})
    cid = config["configurable"]["checkpoint_id"]
    for read in (lambda: saver.get_tuple(config), lambda: list(saver.list(config))):
        with pytest.raises(CorruptCheckpointError) as err:
            read()
        assert err.value.thread_id == "t" and err.value.checkpoint_id == cid


def test_a_value_shared_by_a_page_is_sent_once(client: Any, prefix: str, fast_path: bool) -> None:
    """A channel value that several listed checkpoints share crosses the wire once.

    Each tuple still gets its own copy: changing one does not change another.
    """
    from langgraph.checkpoint.base import empty_checkpoint

    from redis_checkpoint.langgraph.entries import entries

    saver = RedisSaver(client, key_prefix=prefix, fast_path=fast_path)
    config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    versions: Any = {}
    for step in range(3):
        new = {"msgs": saver.get_next_version(versions.get("msgs"))}
        if step == 0:
            new["docs"] = saver.get_next_version(None)
        versions.update(new)
        ckpt = empty_checkpoint()
        ckpt.update(id=f"{step:04d}", channel_values={"msgs": [step], "docs": ["d"] * 50},
                    channel_versions=dict(versions))
        config = saver.put(config, ckpt, {"step": step}, new)
    engine = saver.engine
    reply = engine.run("list", "t", engine.scripts.lg_list, saver.keys("t"), ("", "", 10, ""))[2:]
    docs = [reply[i + 1] for i, x in enumerate(reply) if isinstance(x, bytes) and x.startswith(b"b:\0docs\0")]
    assert [isinstance(d, bytes) for d in docs] == [True, False, False]  # newest first; then 0
    tuples = list(saver.list({"configurable": {"thread_id": "t"}}))
    assert [t.checkpoint["channel_values"] for t in tuples] == [
        {"msgs": [step], "docs": ["d"] * 50} for step in (2, 1, 0)]
    tuples[0].checkpoint["channel_values"]["docs"].append("changed")
    assert tuples[1].checkpoint["channel_values"]["docs"] == ["d"] * 50
    # a reference to a value the reply never sent is corruption, not a KeyError
    first = reply.index(docs[0])
    planted = reply[:first] + [0] + reply[first + 1:]
    with pytest.raises(CorruptCheckpointError, match="refers to no earlier value") as err:
        list(entries(saver.codec, "t", planted))
    assert err.value.checkpoint_id == "0002"


def test_index_entries_without_a_record_are_skipped_and_reading_goes_on(client: Any, prefix: str,
                                                                       fast_path: bool) -> None:
    """A half-evicted or damaged thread: get_tuple and list pass over such entries."""
    saver = RedisSaver(client, key_prefix=prefix, fast_path=fast_path)
    put_steps(saver, "t", {"n": 1}, steps=3)
    thread: Any = {"configurable": {"thread_id": "t"}}
    ids = [t.config["configurable"]["checkpoint_id"] for t in saver.list(thread)]
    newest = saver.get_tuple(thread)
    client.zadd(saver.keys("t").ids, {"\x00" + ids[1] + "x": 0})  # between the two newest
    client.zadd(saver.keys("t").ids, {f"\x00{ids[0]}{n:02d}": 0 for n in range(12)})  # 12 newer
    again = saver.get_tuple(thread)
    assert again is not None and newest is not None and again.config == newest.config
    for limit in (1, 2, 3):  # pages of `limit` entries, some pages with no checkpoint at all
        listed = [t.config["configurable"]["checkpoint_id"] for t in saver.list(thread, limit=limit)]
        assert listed == ids[:limit]


stored_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.binary(max_size=5),
    lambda kids: st.lists(kids, max_size=6) | st.dictionaries(st.text(max_size=10), kids, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(stored_values, stored_values, stored_values, st.binary(max_size=12))
def test_any_stored_blobs_read_back_or_are_corrupt(record: Any, value: Any, write: Any, field: bytes) -> None:
    """Whatever CBOR sits in a record, value or write blob: an Entry, or CorruptCheckpointError."""
    from redis_checkpoint.langgraph.entries import entries

    codec = Codec().strict()
    blob = lambda v: Codec().encode(v)  # noqa: E731
    reply = [b"cid", blob(record), 1, b"b:" + field, blob(value), 1, blob(write)]
    try:
        (entry,) = entries(codec, "t", reply)
    except CorruptCheckpointError as exc:
        assert exc.checkpoint_id == "cid"
    else:
        assert isinstance(entry.checkpoint[1], bytes) and all(isinstance(v[1], bytes) for _, v in entry.values)


@pytest.mark.redis
def test_from_conn_string_opens_as_other_savers_do_and_closes_what_it_opened(redis_url: str, real_client: Any) -> None:
    """The code written for langgraph-checkpoint-redis or LangGraph's SQL savers runs unchanged."""
    name, thread = f"lg-{uuid.uuid4().hex[:10]}", f"t-{uuid.uuid4().hex[:10]}"

    def connected() -> bool:
        return any(c.get("name") == name for c in real_client.client_list())

    with RedisSaver.from_conn_string(redis_url, connection_args={"client_name": name}) as saver:
        saver.setup()
        put_steps(saver, thread, {"n": 1}, steps=2)
        assert connected()
    # its pool was closed on the way out (the server may take a moment to notice)
    wait_until(lambda: not connected(), 10, "the saver's connection is still open")
    client = redis.Redis.from_url(redis_url)
    with RedisSaver.from_conn_string(redis_client=client) as again:  # same default key prefix
        found = again.get_tuple({"configurable": {"thread_id": thread}})
        assert found is not None and found.metadata["step"] == 1
        before = client.client_id()
    # a client that was given is never closed: its connections stay open
    assert before in {int(c["id"]) for c in real_client.client_list()} and client.ping()
    # and the constructor keywords of langgraph-checkpoint-redis
    for saver in (RedisSaver(redis_client=client), RedisSaver(redis_url=redis_url), RedisSaver(redis_url)):
        found = saver.get_tuple({"configurable": {"thread_id": thread}})
        assert found is not None and found.metadata["step"] == 1
        saver.close()
    client.close()


def test_from_conn_string_with_async_with_and_bad_arguments() -> None:
    from redis_checkpoint.langgraph import AsyncRedisSaver  # the name langgraph-checkpoint-redis uses

    async def go() -> Any:
        async with AsyncRedisSaver.from_conn_string(redis_client=fakeredis.FakeAsyncRedis(), key_prefix="x") as saver:
            await saver.setup()  # awaited, as that package documents it
            await saver.aget_tuple({"configurable": {"thread_id": "t"}})  # the saver's loop is this one
            await asyncio.to_thread(put_steps, saver, "t", {"n": 1}, steps=3)  # blocking calls, from a thread
            return await saver.aget_tuple({"configurable": {"thread_id": "t"}})

    found = asyncio.run(go())
    assert found is not None and found.metadata["step"] == 2
    with pytest.raises(ValueError, match="exactly one of .*redis_url and redis_client; got none"):
        RedisSaver.from_conn_string()
    with pytest.raises(ValueError, match="exactly one of .*got \\['redis_url', 'redis_client'\\]"):
        RedisSaver.from_conn_string("redis://127.0.0.1:9/0", redis_client=fakeredis.FakeRedis())
    with pytest.raises(ValueError, match="exactly one of"):
        RedisSaver(fakeredis.FakeRedis(), redis_client=fakeredis.FakeRedis())
    with pytest.raises(ValueError, match="connection_args"):
        RedisSaver.from_conn_string(redis_client=fakeredis.FakeRedis(), connection_args={"db": 1})
    with pytest.raises(ValueError, match="socket_timeout"):
        RedisSaver.from_conn_string("redis://127.0.0.1:9/0", connection_args={"socket_timeout": 1}, socket_timeout=2)


def test_from_conn_string_reads_the_ttl_dict_of_langgraph_checkpoint_redis() -> None:
    client = fakeredis.FakeRedis()
    with RedisSaver.from_conn_string(redis_client=client, ttl={"default_ttl": 2, "refresh_on_read": True}) as saver:
        # minutes, as it reads them
        assert saver.checkpointer.ttl_seconds == 120 and saver.engine.options.refresh_ttl_on_read
        put_steps(saver, "t", {"n": 1}, steps=1)
        keys = saver.keys("t")
        assert all(110_000 < client.pttl(key) <= 120_000 for key in (keys.head, keys.ids, keys.active))
    for bad, exc in (({"default_ttl": 2, "sweep": 1}, ValueError), ([2], ValueError),
                     ({"default_ttl": "2"}, TypeError)):
        with pytest.raises(exc, match="ttl"):
            RedisSaver.from_conn_string(redis_client=client, ttl=bad)
    with pytest.raises(ValueError, match="ttl_seconds"):
        RedisSaver.from_conn_string(redis_client=client, ttl={"default_ttl": 2}, ttl_seconds=5)
    assert RedisSaver.from_conn_string(redis_client=client, ttl=None).checkpointer.ttl_seconds is None


def test_int_and_uuid_thread_ids_are_taken_as_other_savers_take_them() -> None:
    """LangGraph's SQL savers read a thread id through str(): 7, "7" and a UUID's text name threads."""
    saver = RedisSaver(fakeredis.FakeRedis())
    for thread in (7, 0, uuid.UUID(int=5)):
        lg_graph.start(saver, thread)  # type: ignore[arg-type]
        lg_graph.resume(saver, thread, "yes")  # type: ignore[arg-type]
        check_finished(saver, thread)  # type: ignore[arg-type]
        same = saver.get_tuple({"configurable": {"thread_id": str(thread)}})
        assert same is not None and same.metadata["step"] >= 2
    assert sorted(saver.threads()) == ["0", "00000000-0000-0000-0000-000000000005", "7"]
    saver.delete_thread(7)  # type: ignore[arg-type]
    assert saver.get_tuple({"configurable": {"thread_id": "7"}}) is None
    with pytest.raises(TypeError, match="thread_id"):
        saver.get_tuple({"configurable": {"thread_id": True}})


def test_code_written_for_langgraph_checkpoint_redis_runs_with_the_import_changed(redis_url: str,
                                                                                  prefix: str) -> None:
    """Its prune(keep_last=), its key prefix keyword, and its ShallowRedisSaver."""
    from redis_checkpoint.langgraph import AsyncRedisSaver, AsyncShallowRedisSaver, ShallowRedisSaver

    saver = RedisSaver(redis_url=redis_url, checkpoint_prefix=prefix, checkpoint_write_prefix=prefix + "_write")
    assert saver.engine.options.key_prefix == prefix
    put_steps(saver, "t", {"n": 1}, steps=6)
    saver.prune(["t"], keep_last=3, max_results=10)
    kept = list(saver.list({"configurable": {"thread_id": "t"}}))
    assert len(kept) == 3 and kept[-1].parent_config is None and kept[0].parent_config is not None
    saver.prune(["t"], keep_last=0)
    assert list(saver.list({"configurable": {"thread_id": "t"}})) == []
    with pytest.raises(ValueError, match="keep_last"):
        saver.prune(["t"], keep_last=-1)
    with pytest.raises(ValueError, match="checkpoint_prefix and key_prefix"):
        RedisSaver(redis_url=redis_url, checkpoint_prefix="a", key_prefix="b")
    saver.close()
    for shallow in (ShallowRedisSaver(redis_url=redis_url, key_prefix=prefix + "s"),
                    ShallowRedisSaver.from_url(redis_url, key_prefix=prefix + "s")):
        put_steps(shallow, "t", {"n": 1}, steps=3)
        assert len(list(shallow.list({"configurable": {"thread_id": "t"}}))) == 1
        shallow.close()
    assert issubclass(AsyncShallowRedisSaver, AsyncRedisSaver)
    assert AsyncShallowRedisSaver(redis_url=redis_url, key_prefix=prefix + "s").keep == 1
