"""The LangGraph saver against a model, driven by hypothesis, and its stored layout checked.

Channel values are shared between checkpoints and reference-counted, so a
wrong count loses a value some checkpoint still needs (or keeps one for ever).
The model never deletes a value: whatever a surviving checkpoint lists must
read back from Redis exactly as the model has it. After every step the raw
keys are also checked: every blob is counted once per checkpoint that lists it,
and nothing is left without a checkpoint to own it.
"""
from __future__ import annotations

import uuid
from collections import Counter
from typing import Any, Dict, List, Optional, Tuple

import pytest
import redis
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from langgraph.checkpoint.base import WRITES_IDX_MAP, empty_checkpoint, get_checkpoint_metadata

from redis_checkpoint.langgraph import RedisSaver

from .clients import AfterCall

THREADS = ("t1", "t2")
NAMESPACES = ("", "sub")
CHANNELS = ("a", "b", "c")
RUNS = ("r1", "r2")
TASKS = ("task1", "task2")
WRITE_CHANNELS = CHANNELS + tuple(WRITES_IDX_MAP)  # the special ones are replaced, not kept
EMPTY = object()  # a channel bumped without a value (LangGraph stores it as "empty")

Key = Tuple[str, str]  # (thread, namespace)


def check_layout(client: Any, saver: RedisSaver, thread: str) -> None:
    """The stored keys of one thread are consistent, whatever was done to it.

    Every index member has a segment in the head, and that segment holds its record
    and blob list, and every blob it lists; nothing else has a segment or a record.
    In the active segment, every blob is counted once per checkpoint there that
    lists it, and none is left that no such checkpoint lists; a sealed segment is
    counted by how many checkpoints still live in it. Every write belongs to a
    checkpoint in the index, and its value is in that checkpoint's segment.
    """
    keys = saver.keys(thread)
    head = client.hgetall(keys.head)
    members = set(client.zrange(keys.ids, 0, -1))
    write_members = set(client.zrange(keys.writes, 0, -1))
    at = {f[2:]: int(v) for f, v in head.items() if f.startswith(b"s:")}
    assert set(at) == members, "segments and index members differ"
    active = int(head.get(b"sn", 0))
    segments = {n: client.hgetall(keys.active if n == active else keys.sealed(n)) for n in set(at.values())}
    records = {m: segments[at[m]] for m in members}
    for m, seg in records.items():
        assert b"c:" + m in seg and b"v:" + m in seg, f"{m!r} has no record in segment {at[m]}"
        for field in filter(None, seg[b"v:" + m].split(b"\n")):
            assert field in seg, f"{m!r} lists {field!r}, which segment {at[m]} lacks"
    data = client.hgetall(keys.active)
    here = [m for m in members if at[m] == active]
    assert {f[2:] for f in data if f[:2] in (b"c:", b"v:")} == set(here), "records in the active segment differ"
    listed = Counter(f for m in here for f in data[b"v:" + m].split(b"\n") if f)
    counts = {f[2:]: int(v) for f, v in data.items() if f.startswith(b"r:")}
    assert counts == dict(listed), "reference counts differ from the blob lists"
    blobs = {f for f in data if f.startswith(b"b:")}
    assert blobs <= set(listed), f"blobs no checkpoint lists: {sorted(blobs - set(listed))[:3]}"
    assert int(head.get(b"sc", 0)) == len(here), "the active segment's count is off"
    for n in set(at.values()) - {active}:
        assert int(head[b"g:%d" % n]) == sum(1 for m in members if at[m] == n), f"segment {n}'s count is off"
    for w in write_members:
        ns, cid = w.split(b"\0")[:2]
        m = ns + b"\0" + cid
        assert m in members, f"write {w!r} outlived its checkpoint"
        assert b"w:" + w in segments[at[m]], f"write {w!r} has no value"


class GraphModel:
    """What LangGraph's in-memory saver keeps, plus retention, removal and copies."""

    def __init__(self) -> None:
        self.saved: Dict[Key, Dict[str, Tuple[Optional[str], Dict[str, str], Dict[str, Any]]]] = {}
        self.blobs: Dict[Tuple[str, str, str, str], Any] = {}  # never deleted
        self.writes: Dict[Tuple[str, str, str], Dict[Tuple[str, int], Tuple[str, str, Any]]] = {}

    def drop(self, thread: str, ns: str, cid: str) -> None:
        self.saved[(thread, ns)].pop(cid)
        self.writes.pop((thread, ns, cid), None)

    def values(self, thread: str, ns: str, versions: Dict[str, str]) -> Dict[str, Any]:
        out = {}
        for ch, ver in versions.items():
            value = self.blobs.get((thread, ns, ch, ver), EMPTY)
            if value is not EMPTY:
                out[ch] = value
        return out


def machine_for(client: Any, **options: Any) -> type:
    class Graphs(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            prefix = f"lgmodel{uuid.uuid4().hex[:10]}"
            self.savers = {k: RedisSaver(client, key_prefix=prefix, max_checkpoints=k or None, **options)
                           for k in (0, 1, 2)}
            self.saver = self.savers[0]
            self.model = GraphModel()
            self.next_id = 0

        def existing(self) -> List[Tuple[str, str, str]]:
            return [(t, ns, cid) for (t, ns), saved in sorted(self.model.saved.items()) for cid in sorted(saved)]

        @rule(thread=st.sampled_from(THREADS), ns=st.sampled_from(NAMESPACES), keep=st.sampled_from((0, 1, 2)),
              parent=st.sampled_from(("latest", "older", "none")), reput=st.booleans(),
              changes=st.dictionaries(st.sampled_from(CHANNELS), st.one_of(st.integers(0, 9), st.just(EMPTY))),
              run=st.sampled_from(RUNS))
        def put(self, thread: str, ns: str, keep: int, parent: str, reput: bool, changes: Dict[str, Any],
                run: str) -> None:
            saved = self.model.saved.setdefault((thread, ns), {})
            ids = sorted(saved)
            parent_id = {"latest": ids[-1] if ids else None, "older": ids[0] if ids else None, "none": None}[parent]
            versions = dict(saved[parent_id][1]) if parent_id else {}
            new_versions = {ch: self.saver.get_next_version(versions.get(ch)) for ch in changes}
            versions.update(new_versions)
            values = self.model.values(thread, ns, versions)
            for ch, value in changes.items():
                values.pop(ch, None)
                if value is not EMPTY:
                    values[ch] = value
            if reput and ids:
                cid = ids[len(ids) // 2]
            else:
                self.next_id += 1
                cid = f"{self.next_id:08d}"
            ckpt = empty_checkpoint()
            ckpt.update(id=cid, channel_values=values, channel_versions=versions)
            config: Any = {"configurable": {"thread_id": thread, "checkpoint_ns": ns}}
            if parent_id:
                config["configurable"]["checkpoint_id"] = parent_id
            metadata = {"run_id": run, "step": self.next_id}
            got = self.savers[keep].put(config, ckpt, metadata, new_versions)
            assert got["configurable"]["checkpoint_id"] == cid
            for ch, ver in new_versions.items():
                self.model.blobs[(thread, ns, ch, ver)] = values.get(ch, EMPTY)
            saved[cid] = (parent_id, versions, get_checkpoint_metadata(config, metadata))
            if keep:  # the newest `keep` ids of the namespace stay
                for old in sorted(saved)[:-keep]:
                    self.model.drop(thread, ns, old)

        @precondition(lambda self: bool(self.existing()))
        @rule(data=st.data(), task=st.sampled_from(TASKS),
              writes=st.lists(st.tuples(st.sampled_from(WRITE_CHANNELS), st.integers(0, 9)), min_size=1,
                              max_size=3))
        def put_writes(self, data: Any, task: str, writes: List[Tuple[str, int]]) -> None:
            thread, ns, cid = data.draw(st.sampled_from(self.existing()))
            config: Any = {"configurable": {"thread_id": thread, "checkpoint_ns": ns, "checkpoint_id": cid}}
            self.saver.put_writes(config, writes, task, task_path=f"path-{task}")
            stored = self.model.writes.setdefault((thread, ns, cid), {})
            for idx, (channel, value) in enumerate(writes):
                key = (task, WRITES_IDX_MAP.get(channel, idx))
                if key[1] >= 0 and key in stored:
                    continue  # a regular write is never replaced
                stored[key] = (task, channel, value)

        @rule(thread=st.sampled_from(THREADS))
        def delete_thread(self, thread: str) -> None:
            self.saver.delete_thread(thread)
            self.forget(thread)

        @rule(run=st.sampled_from(RUNS))
        def delete_for_runs(self, run: str) -> None:
            self.saver.delete_for_runs([run])
            for thread, ns, cid in self.existing():
                if self.model.saved[(thread, ns)][cid][2].get("run_id") == run:
                    self.model.drop(thread, ns, cid)

        @rule(source=st.sampled_from(THREADS), dest=st.sampled_from(THREADS))
        def copy_thread(self, source: str, dest: str) -> None:
            self.saver.copy_thread(source, dest)
            if not any(self.model.saved.get((source, ns)) for ns in NAMESPACES):
                return  # nothing to copy: the target is left as it was
            saved = {ns: dict(self.model.saved.get((source, ns), {})) for ns in NAMESPACES}
            writes = {k: dict(v) for k, v in self.model.writes.items() if k[0] == source}
            blobs = {k: v for k, v in self.model.blobs.items() if k[0] == source}
            self.forget(dest)
            for ns, entries in saved.items():
                self.model.saved[(dest, ns)] = entries
            self.model.writes.update({(dest, ns, cid): w for (_, ns, cid), w in writes.items()})
            self.model.blobs.update({(dest, *k[1:]): v for k, v in blobs.items()})

        @rule(thread=st.sampled_from(THREADS), strategy=st.sampled_from(("keep_latest", "delete")),
              keep_last=st.sampled_from((None, 0, 2)))
        def prune(self, thread: str, strategy: str, keep_last: Optional[int]) -> None:
            self.saver.prune([thread], strategy=strategy, keep_last=keep_last)
            keep = keep_last if keep_last is not None else (0 if strategy == "delete" else 1)
            if keep == 0:
                self.forget(thread)
                return
            for ns in NAMESPACES:
                entries = self.model.saved.get((thread, ns), {})
                gone = sorted(entries)[:-keep]
                for old in gone:
                    self.model.drop(thread, ns, old)
                for kept, (parent, versions, metadata) in list(entries.items()):
                    if gone and parent is not None and parent not in entries:
                        # its parent is gone: it has none now, as in LangGraph's Postgres saver
                        entries[kept] = (None, versions, metadata)

        def forget(self, thread: str) -> None:
            for ns in NAMESPACES:
                self.model.saved.pop((thread, ns), None)
            self.model.writes = {k: v for k, v in self.model.writes.items() if k[0] != thread}
            self.model.blobs = {k: v for k, v in self.model.blobs.items() if k[0] != thread}

        @invariant()
        def layout_is_consistent(self) -> None:
            for thread in THREADS:
                check_layout(client, self.saver, thread)

        @invariant()
        def reads_match_the_model(self) -> None:
            for thread in THREADS:
                expected = []
                for ns in NAMESPACES:
                    saved = self.model.saved.get((thread, ns), {})
                    expected += [(ns, cid) for cid in sorted(saved, reverse=True)]
                    latest = self.saver.get_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ns}})
                    if not saved:
                        assert latest is None
                    else:
                        assert latest is not None and latest.config["configurable"]["checkpoint_id"] == max(saved)
                tuples = list(self.saver.list({"configurable": {"thread_id": thread}}))
                got = [(t.config["configurable"]["checkpoint_ns"], t.config["configurable"]["checkpoint_id"])
                       for t in tuples]
                assert got == expected
                for t, (ns, cid) in zip(tuples, expected):
                    parent, versions, metadata = self.model.saved[(thread, ns)][cid]
                    assert t.checkpoint["channel_versions"] == versions
                    assert t.checkpoint["channel_values"] == self.model.values(thread, ns, versions), (ns, cid)
                    assert t.metadata == metadata
                    assert (t.parent_config or {}).get("configurable", {}).get("checkpoint_id") == parent
                    want = sorted(self.model.writes.get((thread, ns, cid), {}).values())
                    assert sorted(t.pending_writes) == want

        def teardown(self) -> None:
            for thread in THREADS:
                self.saver.delete_thread(thread)

    return Graphs


def test_saver_matches_its_model(client: Any, fast_path: bool) -> None:
    run_state_machine_as_test(
        machine_for(client, fast_path=fast_path),
        settings=settings(max_examples=50, stateful_step_count=30, deadline=None),
    )


def test_saver_matches_its_model_across_segments(client: Any, fast_path: bool) -> None:
    """The same, with segments sealed every few checkpoints: puts whose parent went to a
    sealed segment, reads and writes of checkpoints there, removals and copies over them."""
    run_state_machine_as_test(
        machine_for(client, segment_checkpoints=3, segment_bytes=2000, fast_path=fast_path),
        settings=settings(max_examples=50, stateful_step_count=30, deadline=None),
    )


@pytest.mark.redis
@pytest.mark.parametrize("keep", [None, 1])
def test_copy_thread_is_a_snapshot_while_the_source_is_written(
    redis_url: str, prefix: str, keep: Optional[int]
) -> None:
    """A put on the source while ``copy_thread`` reads it must not tear the copy.

    The put lands right after the copy's first read of the source. A copy read
    in several calls got the new checkpoint's index entry without its record
    (the copy's newest checkpoint then did not load), or with retention the
    record of a checkpoint no longer in the index.
    """
    copier = redis.Redis.from_url(redis_url)
    other = redis.Redis.from_url(redis_url)
    saver = RedisSaver(copier, key_prefix=prefix, max_checkpoints=keep)
    writer = RedisSaver(other, key_prefix=prefix, max_checkpoints=keep)
    try:
        config: Any = {"configurable": {"thread_id": "src", "checkpoint_ns": ""}}
        versions: Dict[str, str] = {}
        ids = []

        def put(step: int) -> None:
            nonlocal config
            new = {"a": writer.get_next_version(versions.get("a"))}
            versions.update(new)
            ckpt = empty_checkpoint()
            ckpt.update(id=f"{step:08d}", channel_values={"a": step}, channel_versions=dict(versions))
            config = writer.put(config, ckpt, {"step": step}, new)
            ids.append(ckpt["id"])

        put(1)
        put(2)
        hook = AfterCall(saver.engine, "HMGET", saver.keys("src").head, lambda: put(3))
        saver.copy_thread("src", "dst")
        assert hook.ran, "the hook did not run"
        check_layout(other, saver, "dst")
        copied = [t.config["configurable"]["checkpoint_id"] for t in saver.list({"configurable": {"thread_id": "dst"}})]
        newest_first = ids[::-1]  # the copy holds the source before the put, or after it
        assert copied in (newest_first[1:][: keep or 2], newest_first[: keep or 3])
        latest = saver.get_tuple({"configurable": {"thread_id": "dst", "checkpoint_ns": ""}})
        assert latest is not None and latest.config["configurable"]["checkpoint_id"] == copied[0]
        assert latest.checkpoint["channel_values"] == {"a": int(copied[0])}
    finally:
        saver.delete_thread("src")
        saver.delete_thread("dst")
        copier.close()
        other.close()
