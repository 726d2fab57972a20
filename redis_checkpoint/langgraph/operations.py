"""What the LangGraph savers send and how they read the replies, written once as steps.

:class:`Operations` is mixed into ``RedisSaver`` (which runs each operation with
``Engine.drive``) and ``AsyncRedisSaver`` (``AsyncEngine.drive``, on the event loop).
Channel values are stored once per (namespace, channel, version) and shared by the
checkpoints that list them, as LangGraph's Postgres saver does. A thread's keys are
bounded in size: checkpoints go to an active segment, sealed when full
(``docs/design.md``). Every ``put`` and ``put_writes`` is one atomic call; reads are
one call per checkpoint or page, two when part of it is in a sealed segment.

Values go through LangGraph's ``serde`` (``dumps_typed``), so LangChain messages
and the encrypted serializer work; the typed bytes are then framed and compressed
by our codec.
"""
from __future__ import annotations

import random
import uuid
from typing import (
    TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, Union,
)

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_checkpoint_metadata,
)

from .. import keys as _keys
from .. import telemetry
from ..codec import Codec
from ..engine import EngineBase
from ..errors import CheckpointError, check_ids, check_int
from ..records import decode_id
from ..segments import follow_up, unlink_thread
from ..steps import Call, Emit, Steps, Stream, collect, command, evalsha, relay, run
from ..wire import Command
from . import copying
from .delta import delta_link, history
from .entries import SEP, Elsewhere, Entry, entries

if TYPE_CHECKING:  # langgraph-checkpoint before 4.1 has no DeltaChannelHistory
    from langgraph.checkpoint.base import DeltaChannelHistory

PAGE = 100
NS_PAGE = 100  # namespaces read per call (lg_namespaces.lua)
REMOVE_PAGE = 250  # checkpoints delete_for_runs removes per call
INLINE_MAX = 8192  # new blobs up to this many bytes in all go to lg_put.lua as arguments
_IDX_OFFSET = 10**9  # write indexes may be negative (WRITES_IDX_MAP): offset, then pad
_EMPTY = object()


def thread_text(thread_id: Any) -> Any:
    """An int or UUID thread id as its text, as LangGraph's other savers take it: thread 7
    and thread "7" are one thread. Anything else is left for ``validate_thread_id``."""
    if isinstance(thread_id, uuid.UUID) or (isinstance(thread_id, int) and not isinstance(thread_id, bool)):
        return str(thread_id)
    return thread_id


def _part(name: str, value: Any) -> str:
    text = str(value)
    if SEP in text or "\n" in text:
        raise ValueError(f"{name} must not contain NUL or newline characters: {text!r}")
    return text


class Operations:
    """The savers' operations as steps, on ``self.engine`` (sync or async) with
    ``self.serde`` (set by ``BaseCheckpointSaver``). Call :meth:`bind` once."""

    engine: EngineBase
    serde: Any

    def bind(self, engine: EngineBase, max_checkpoints: Optional[int]) -> None:
        self.engine = engine
        opts = engine.options
        self.keep = max_checkpoints or opts.keep
        self.codec: Codec = opts.codec.strict()  # every blob's shape is ours: str keys, bytes
        self._write_options = f"{opts.ttl_ms} {1 if opts.min_replicas else 0}"
        self._put_options = f"{self._write_options} {opts.segment_checkpoints} {opts.segment_bytes}"

    def _observe(self, name: str, config: Optional[RunnableConfig], current: bool = True) -> Any:
        """The telemetry of one saver operation on ``config``'s thread, with its namespace."""
        conf = (config or {}).get("configurable", {})
        op = telemetry.operation(name, self.engine, conf.get("thread_id"), current)
        op.namespace = conf.get("checkpoint_ns")
        return op

    def get_next_version(self, current: Optional[str], channel: None = None) -> str:
        """Zero-padded counter plus a random fraction, so versions sort as text."""
        if current is None:
            number = 0
        elif isinstance(current, int):
            number = current
        else:
            number = int(str(current).split(".")[0])
        return f"{number + 1:032}.{random.random():016}"

    def _dump(self, value: Any) -> bytes:
        if value is _EMPTY:
            return self.codec.encode(["empty", b""], "value")
        kind, payload = self.serde.dumps_typed(value)
        return self.codec.encode([kind, payload], "value")

    def keys(self, thread_id: Any) -> _keys.GraphKeys:
        """The Redis keys of a LangGraph thread that every put touches."""
        return self.engine.graph_keys(thread_text(thread_id))

    # -- writes --------------------------------------------------------------

    def put_steps(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
                  new_versions: ChannelVersions) -> Steps[RunnableConfig]:
        """``put``: everything is checked and encoded here, before the steps run."""
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], _part("checkpoint_ns", conf.get("checkpoint_ns", ""))
        cid = _part("checkpoint id", checkpoint["id"])
        keys = self.keys(thread_id)
        values = checkpoint["channel_values"]
        stored = {k: v for k, v in checkpoint.items() if k != "channel_values"}
        fields = {self._blob_field(ns, ch, ver): ch for ch, ver in checkpoint["channel_versions"].items()}
        blobs: List[Any] = []
        for ch, ver in new_versions.items():
            blobs += [self._blob_field(ns, ch, ver), self._dump(values.get(ch, _EMPTY))]
        full_metadata, parent = get_checkpoint_metadata(config, metadata), conf.get("checkpoint_id")
        record = self.codec.encode({
            "checkpoint": list(self.serde.dumps_typed(stored)),
            "metadata": list(self.serde.dumps_typed(full_metadata)),
            "parent": parent,
        }, "checkpoint")
        link = delta_link(full_metadata, _part("checkpoint id", parent or ""))
        member = ns + SEP + cid
        args = (member, record, "\n".join(fields), self.keep, link, self._put_options)
        return self._put_all(thread_id, ns, cid, keys, args, blobs, record, fields, values, parent, member)

    def _put_all(self, thread_id: str, ns: str, cid: str, keys: _keys.GraphKeys, args: Tuple[Any, ...],
                 blobs: List[Any], record: bytes, fields: Dict[str, str], values: Mapping[str, Any],
                 parent: Optional[str], member: str) -> Steps[RunnableConfig]:
        segment = ""
        reply = yield from self._put(thread_id, keys, args, blobs, len(record), segment)
        if reply[0] == b"segment":  # a re-put of a checkpoint kept in a sealed segment: put it there
            segment = reply[1].decode()
            reply = yield from self._put(thread_id, keys, args, blobs, len(record), segment)
        if reply[0] == b"need" and not segment:  # the parent is in a sealed segment: bring over
            yield from self._rehome(thread_id, keys, ns + SEP + parent if parent else None, reply[1:])
            reply = yield from self._put(thread_id, keys, args, blobs, len(record), segment)
        if reply[0] == b"need":  # no copy of them to bring: store them again from the checkpoint
            for field in reply[1:]:
                blobs += [field, self._dump(values.get(fields[field.decode()], _EMPTY))]
            reply = yield from self._put(thread_id, keys, args, blobs, len(record), segment)
        if reply[0] in (b"need", b"segment"):
            raise CheckpointError(f"put of thread {thread_id!r}: the active segment lacks {reply[1:]!r}",
                                  thread_id=thread_id, operation="put")
        yield from self._follow_up(thread_id, keys, reply[1:], member)
        return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": cid}}

    def _put(self, thread_id: str, keys: _keys.GraphKeys, args: Tuple[Any, ...], blobs: List[Any],
             record_bytes: int, segment: str) -> Steps[List[Any]]:
        engine, script = self.engine, self.engine.scripts.lg_put
        added = record_bytes + sum(len(b) for b in blobs[1::2])
        target = (*keys, keys.sealed(segment) if segment else keys.active)
        if added <= INLINE_MAX:
            (reply,), acked = yield Call("put", thread_id, keys.head,
                                         (evalsha(script, target, (*args, added, segment, *blobs)),),
                                         (script,), durable=True)
        else:  # the blobs go by HSET in the same transaction, so Redis does not copy them through Lua
            body: List[Command] = [("HSET", target[4], *blobs)] if blobs else []
            body.append(evalsha(script, target, (*args, added, segment)))
            replies, acked = yield Call("put", thread_id, keys.head, body, (script,), transaction=True,
                                        durable=True)
            reply = replies[-1]
        if reply[0] not in (b"need", b"segment"):
            engine.require_replicas(acked, "put", thread_id)
        return list(reply)

    def _rehome(self, thread_id: str, keys: _keys.GraphKeys, parent: Optional[str],
                fields: Sequence[bytes]) -> Steps[None]:
        """Copy ``fields`` from the parent's sealed segment into the active one."""
        if parent is None:
            return
        seg = yield from command("put", thread_id, keys.head, "HGET", keys.head, "s:" + parent)
        if seg is not None:
            yield from run("put", thread_id, self.engine.scripts.lg_rehome,
                           (keys.head, keys.active, keys.sealed(int(seg))), fields)

    def _follow_up(self, thread_id: str, keys: _keys.GraphKeys, work: Sequence[bytes],
                   member: str = "") -> Steps[None]:
        if not work:
            return
        engine, opts = self.engine, self.engine.options

        def seal(n: str) -> Steps[Any]:
            return run("seal", thread_id, engine.scripts.lg_seal, (*keys, keys.sealed(n)),
                       (n, opts.segment_checkpoints, opts.segment_bytes, member))

        yield from follow_up(engine, keys, work, thread_id, seal)

    @staticmethod
    def _blob_field(ns: str, channel: str, version: Any) -> str:
        return f"b:{ns}{SEP}{_part('channel', channel)}{SEP}{_part('version', version)}"

    def put_writes_steps(self, config: RunnableConfig, writes: Sequence[Tuple[str, Any]], task_id: str,
                         task_path: str = "") -> Steps[None]:
        """``put_writes``: checked and encoded here, before the steps run."""
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], _part("checkpoint_ns", conf.get("checkpoint_ns", ""))
        member = ns + SEP + _part("checkpoint id", conf["checkpoint_id"])
        keys = self.keys(thread_id)
        args: List[Any] = []
        size = 0
        for idx, (channel, value) in enumerate(writes):
            slot = WRITES_IDX_MAP.get(channel, idx)
            wmember = SEP.join([member, _part("task_path", task_path), _part("task_id", task_id),
                                f"{slot + _IDX_OFFSET:011d}"])
            blob = self.codec.encode([task_id, channel, *self.serde.dumps_typed(value), task_path], "write")
            size += len(blob)
            args += [wmember, blob, "1" if slot < 0 else ""]
        return self._put_writes(thread_id, keys, member, size, args)

    def _put_writes(self, thread_id: str, keys: _keys.GraphKeys, member: str, size: int,
                    args: List[Any]) -> Steps[None]:
        if not args:
            return
        engine, script = self.engine, self.engine.scripts.lg_writes
        segment, seg_key = "", keys.active
        for _ in range(3):  # the checkpoint's segment; it moves only when sealed meanwhile
            reply, acked = yield Call("put_writes", thread_id, keys.head, (evalsha(
                script, (keys.head, keys.writes, seg_key), (member, segment, self._write_options, size, *args)),),
                (script,), durable=True)
            if reply[0][0] != b"segment":
                engine.require_replicas(acked, "put_writes", thread_id)
                return
            segment = reply[0][1].decode()
            seg_key = keys.active if segment == "" else keys.sealed(segment)
        raise CheckpointError(f"put_writes of thread {thread_id!r}: its checkpoint keeps moving",
                              thread_id=thread_id, operation="put_writes")

    def delete_thread_steps(self, thread_id: str) -> Steps[Any]:
        return unlink_thread(self.engine, "delete_thread", thread_id, self.keys(thread_id))

    def remove_runs_steps(self, thread_id: str, wanted: Set[str]) -> Steps[None]:
        """``delete_for_runs`` on one thread: its checkpoints of those runs."""
        engine = self.engine
        doomed = [
            f"{t.config['configurable']['checkpoint_ns']}{SEP}{t.config['configurable']['checkpoint_id']}"
            for t in (yield from collect(self._tuples(thread_id, None, None, with_values=False)))
            if t.metadata.get("run_id") in wanted
        ]
        keys = self.keys(thread_id)
        for start in range(0, len(doomed), REMOVE_PAGE):  # bounded calls
            reply, acked = yield Call("delete_for_runs", thread_id, keys.head, (evalsha(
                engine.scripts.lg_remove, keys, (self._wait_flag, *doomed[start:start + REMOVE_PAGE])),),
                (engine.scripts.lg_remove,), durable=True)
            engine.require_replicas(acked, "delete_for_runs", thread_id)
            yield from self._follow_up(thread_id, keys, reply[0][1:])

    @property
    def _wait_flag(self) -> str:
        return "1" if self.engine.options.min_replicas else ""

    def copy_thread_steps(self, source_thread_id: str, target_thread_id: str) -> Steps[None]:
        # a snapshot of the source, then pages into the target's slot (copying.py)
        engine = self.engine
        source = engine.graph_keys(thread_text(source_thread_id), "source_thread_id")
        target = engine.graph_keys(thread_text(target_thread_id), "target_thread_id")
        return copying.copy_thread(engine, thread_text(source_thread_id), source,
                                   thread_text(target_thread_id), target)

    def prune_steps(self, thread_ids: Sequence[str], strategy: str, keep_last: Optional[int],
                    max_results: int) -> Steps[None]:
        """``prune``: every argument and id checked here, before the steps run."""
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"strategy must be 'keep_latest' or 'delete', not {strategy!r}")
        check_int("keep_last", keep_last, 0, optional=True)
        check_int("max_results", max_results, 1)
        keep = keep_last if keep_last is not None else (0 if strategy == "delete" else 1)
        thread_ids = check_ids("thread_ids", thread_ids)
        for thread_id in thread_ids:
            self.keys(thread_id)
        return self._prune(thread_ids, keep)

    def _prune(self, thread_ids: Sequence[str], keep: int) -> Steps[None]:
        engine = self.engine
        for thread_id in thread_ids:
            if keep == 0:
                yield from self.delete_thread_steps(thread_id)
                continue
            keys = self.keys(thread_id)
            touched: List[str] = []
            after: Optional[str] = ""
            while after is not None:  # a call takes one page of namespaces
                page, after = yield from self._namespace_page(thread_id, after)
                while page:  # and removes a bounded number, so Redis serves others in between
                    reply, acked = yield Call("prune", thread_id, keys.head, (evalsha(
                        engine.scripts.lg_keep_latest, keys, (self._wait_flag, keep, *page)),),
                        (engine.scripts.lg_keep_latest,), durable=True)
                    engine.require_replicas(acked, "prune", thread_id)
                    removed, more, namespaces, *work = reply[0]
                    yield from self._follow_up(thread_id, keys, work)
                    touched += [n.decode() for n in namespaces if n.decode() not in touched]
                    if not more:
                        break
            for ns in touched:
                yield from self._unparent_orphans(thread_id, keys, ns)

    def _unparent_orphans(self, thread_id: str, keys: _keys.GraphKeys, ns: str) -> Steps[None]:
        """Clear the parent of each checkpoint of ``ns`` whose parent is gone: a
        ``parent_config`` that names a removed checkpoint leads ``get_tuple`` nowhere."""
        kept = yield from collect(self._tuples(thread_id, ns, None, with_values=False))
        ids = {t.config["configurable"]["checkpoint_id"] for t in kept}
        for t in kept:
            parent = get_checkpoint_id(t.parent_config) if t.parent_config else None
            if parent is not None and parent not in ids:
                yield from self._unparent(thread_id, keys, ns + SEP + t.config["configurable"]["checkpoint_id"])

    def _unparent(self, thread_id: str, keys: _keys.GraphKeys, member: str) -> Steps[None]:
        engine = self.engine
        segment, active = yield from command("prune", thread_id, keys.head, "HMGET", keys.head, "s:" + member, "sn")
        if segment is None:
            return
        seg_key = keys.active if segment == (active or b"0") else keys.sealed(int(segment))
        record = yield from command("prune", thread_id, keys.head, "HGET", seg_key, "c:" + member)
        if record is None:
            return
        fields = self.codec.decode(record)
        rewritten = self.codec.encode({**fields, "parent": None}, "checkpoint")
        yield from run("prune", thread_id, engine.scripts.lg_unparent, (keys.head, seg_key),
                       (member, record, rewritten))

    # -- reads ---------------------------------------------------------------

    def get_tuple_steps(self, config: RunnableConfig) -> Steps[Optional[CheckpointTuple]]:
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], conf.get("checkpoint_ns", "")
        keys = self.keys(thread_id)
        script = self.engine.scripts.lg_get
        reply = yield from run("get", thread_id, script, keys, (ns, get_checkpoint_id(config) or "", ""))
        if len(reply) == 2 and isinstance(reply[1], int):  # in a sealed segment: read it there
            seg = reply[1]
            reply = yield from run("get", thread_id, script, (*keys[:3], keys.sealed(seg)),
                                   (ns, decode_id(reply[0], thread_id), seg))
        found = [t for t in self._parse(thread_id, ns, reply) if isinstance(t, CheckpointTuple)]
        if not found:
            return None
        yield from self._touch(thread_id, keys)
        return found[0]

    def delta_history_steps(self, config: RunnableConfig,
                            channels: Sequence[str]) -> Steps[Mapping[str, DeltaChannelHistory]]:
        """LangGraph's walk up the parent chain for DeltaChannels, its ancestors read in one call.

        The base class reads one checkpoint per call: 46 calls for a channel 45
        steps from its snapshot. Here ``lg_chain.lua`` returns the checkpoint and up
        to ``PAGE`` ancestors through their delta links per call (within a segment),
        and ``delta.history`` walks them as the base class does.
        """
        if not check_ids("channels", channels):
            return {}
        thread_id = config["configurable"]["thread_id"]
        found = yield from history(self._chain, config, channels)
        yield from self._touch(thread_id, self.keys(thread_id))
        return found

    def _chain(self, config: RunnableConfig) -> Steps[List[CheckpointTuple]]:
        """The checkpoint ``config`` names and its linked ancestors, nearest first: those in
        its segment, then the next one's from its own, as ``delta.history`` asks again."""
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], conf.get("checkpoint_ns", "")
        cid = get_checkpoint_id(config)
        if not cid:
            newest = yield from self.get_tuple_steps(config)
            if newest is None:
                return []
            cid = newest.config["configurable"]["checkpoint_id"]
        keys = self.keys(thread_id)
        script = self.engine.scripts.lg_chain
        seg: Union[int, str] = ""
        reply = yield from run("get", thread_id, script, (keys.head, keys.writes, keys.active), (ns, cid, seg, PAGE))
        if len(reply) == 2 and isinstance(reply[1], int):  # it is in a sealed segment: walk there
            seg = reply[1]
            reply = yield from run("get", thread_id, script, (keys.head, keys.writes, keys.sealed(seg)),
                                   (ns, cid, seg, PAGE))
        return [t for t in self._parse(thread_id, ns, reply) if isinstance(t, CheckpointTuple)]

    def _touch(self, thread_id: str, keys: _keys.GraphKeys) -> Steps[None]:
        """As the core's load: slide the TTL with ``refresh_ttl_on_read`` (no WAIT for a TTL)."""
        opts = self.engine.options
        if opts.refresh_ttl_on_read and opts.ttl_ms:
            reply = yield from run("get", thread_id, self.engine.scripts.touch, keys, (opts.ttl_ms,))
            yield from self._follow_up(thread_id, keys, reply[1:])

    def list_stream(self, config: Optional[RunnableConfig], thread_ids: Sequence[Any],
                    filter: Optional[Dict[str, Any]], before: Optional[RunnableConfig],
                    limit: Optional[int]) -> Stream:
        """``list`` over ``thread_ids`` (the config's, or every thread's)."""
        if limit is not None and limit <= 0:
            return
        before_id = get_checkpoint_id(before) if before else None
        conf = config["configurable"] if config else {}
        only = conf.get("checkpoint_id")
        # without a filter every checkpoint read is returned: read no more than asked
        page = min(PAGE, limit) if limit is not None and not filter and not only else PAGE
        left = [limit]

        def wanted(tup: CheckpointTuple) -> Tuple[bool, bool]:
            if only and tup.config["configurable"]["checkpoint_id"] != only:
                return False, False
            if filter and any(tup.metadata.get(k) != v for k, v in filter.items()):
                return False, False
            if left[0] is not None:
                left[0] -= 1
            return True, left[0] == 0

        for thread_id in thread_ids:
            yield from relay(self._tuples(thread_id, conf.get("checkpoint_ns"), before_id, True, page), wanted)
            if left[0] == 0:
                return

    def _namespace_page(self, thread_id: str, after: str) -> Steps[Tuple[List[str], Optional[str]]]:
        """A page of the thread's namespaces in order, NS_PAGE per call (there may be
        thousands), from ``after`` ("" first); and where the next starts (``None``: done)."""
        keys = self.keys(thread_id)
        page = [n.decode() for n in (yield from run("list", thread_id, self.engine.scripts.lg_namespaces,
                                                    (keys.ids,), (after, NS_PAGE)))]
        return page, (">" + page[-1] if len(page) == NS_PAGE else None)

    def _tuples(self, thread_id: str, ns: Optional[str], before: Optional[str],
                with_values: bool, page_size: int = PAGE) -> Stream:
        """Checkpoints of a thread, newest id first per namespace, a page per call (and one
        more per sealed segment the page reaches into)."""
        keys = self.keys(thread_id)
        bare = "" if with_values else "1"
        after: Optional[str] = ""
        while after is not None:
            if ns is not None:
                names, after = [ns], None
            else:
                names, after = yield from self._namespace_page(thread_id, after)
            yield from self._namespace_tuples(thread_id, keys, names, before, bare, page_size)

    def _namespace_tuples(self, thread_id: str, keys: _keys.GraphKeys, names: List[str], before: Optional[str],
                          bare: str, page_size: int) -> Stream:
        engine = self.engine
        for name in names:
            cursor = before or ""
            while True:
                reply = yield from run("list", thread_id, engine.scripts.lg_list, keys, (name, cursor, page_size, bare))
                items = list(self._parse(thread_id, name, reply[2:]))
                elsewhere: Dict[int, List[str]] = {}
                for item in items:
                    if isinstance(item, Elsewhere):
                        elsewhere.setdefault(item.segment, []).append(item.checkpoint_id)
                fetched: Dict[str, CheckpointTuple] = {}
                for seg, ids in elsewhere.items():
                    more = yield from run("list", thread_id, engine.scripts.lg_fetch,
                                          (keys.head, keys.writes, keys.sealed(seg)), (name, seg, bare, *ids))
                    for tup in self._parse(thread_id, name, more):
                        if isinstance(tup, CheckpointTuple):
                            fetched[tup.config["configurable"]["checkpoint_id"]] = tup
                for item in items:
                    if isinstance(item, Elsewhere):
                        if item.checkpoint_id in fetched:
                            yield Emit(fetched[item.checkpoint_id])
                    else:
                        yield Emit(item)
                if reply[0] < page_size:  # index members read: fewer than asked, none left
                    break
                cursor = decode_id(reply[1], thread_id)

    def _parse(self, thread_id: str, ns: str, reply: List[Any]) -> Iterator[Union[CheckpointTuple, Elsewhere]]:
        """Tuples from an ``lg_*.lua`` read (a records-only reply has no values or writes);
        checkpoints kept in another segment pass as :class:`Elsewhere`."""
        loads = self.serde.loads_typed
        for e in entries(self.codec, thread_id, reply):
            if not isinstance(e, Entry):
                yield e
                continue
            cid, parent = e.checkpoint_id, e.parent_id
            values: Dict[str, Any] = {channel: loads(value) for channel, value in e.values}
            pending = [(task_id, channel, loads(value)) for task_id, channel, value in e.writes]
            yield CheckpointTuple(
                config={"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": cid}},
                checkpoint={**loads(e.checkpoint), "channel_values": values},  # type: ignore[typeddict-item]
                metadata=loads(e.metadata),
                parent_config=(
                    {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": parent}}
                    if parent else None
                ),
                pending_writes=pending,
            )
