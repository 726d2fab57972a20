"""``RedisSaver``: LangGraph's ``BaseCheckpointSaver`` on plain Redis (no modules).

Built on a :class:`~redis_checkpoint.RedisCheckpointer`'s engine: its client, retry
policy, codec, TTL, ``refresh_ttl_on_read``, ``max_checkpoints`` and
``min_replicas``. Channel values are stored once per (namespace, channel, version)
and shared by the checkpoints that list them, as LangGraph's Postgres saver does.
A thread's keys are bounded in size: checkpoints go to an active segment, sealed
when full (``docs/design.md``). Every ``put`` and ``put_writes`` is one atomic call;
reads are one call per checkpoint or page, two when part of it is in a sealed segment.

Values go through LangGraph's ``serde`` (``dumps_typed``), so LangChain
messages and the encrypted serializer work; the typed bytes are then framed
and compressed by our codec.
"""
from __future__ import annotations

import itertools
import random
import uuid
from typing import (
    TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union,
)

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from .. import keys as _keys
from ..wire import Command
from ..errors import CheckpointError, check_ids, check_int
from ..records import decode_id
from ..segments import follow_up, unlink_thread
from ..store import RedisCheckpointer
from . import copying
from .aio import AsyncMethods
from .compat import ConnStringMethods, target
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


def _thread_text(thread_id: Any) -> Any:
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


class RedisSaver(ConnStringMethods, AsyncMethods, BaseCheckpointSaver[str]):
    """LangGraph checkpoint saver on plain Redis or Redis Cluster."""

    def __init__(
        self,
        checkpointer_or_client: Any = None,
        *,
        serde: Optional[SerializerProtocol] = None,
        max_checkpoints: Optional[int] = None,
        **options: Any,
    ) -> None:
        """``checkpointer_or_client``: a ``RedisCheckpointer`` (its options apply) or a
        redis-py client (``options`` are then ``RedisCheckpointer``'s keywords); or a
        URL, ``redis_url=`` or ``redis_client=`` as langgraph-checkpoint-redis takes them
        (``compat.target``). ``max_checkpoints`` keeps the newest N checkpoints of each
        namespace; by default, the given checkpointer's ``max_checkpoints``."""
        check_int("max_checkpoints", max_checkpoints, 1, optional=True)  # before connecting
        base, options = target(checkpointer_or_client, options)
        try:
            super().__init__(serde=serde)
            if isinstance(base, RedisCheckpointer):
                if options:
                    raise TypeError(f"options {sorted(options)} only apply when a client is given")
                self.checkpointer = base
            else:
                self.checkpointer = RedisCheckpointer(base, **options)
        except BaseException:
            if base is not checkpointer_or_client:  # built here from a URL: its pool is ours
                base.close()
            raise
        self.engine = self.checkpointer.engine
        opts = self.engine.options
        self.keep = max_checkpoints or opts.keep
        self.codec = opts.codec.strict()  # every blob's shape is ours: str keys, bytes
        self._write_options = f"{opts.ttl_ms} {1 if opts.min_replicas else 0}"
        self._put_options = f"{self._write_options} {opts.segment_checkpoints} {opts.segment_bytes}"

    @classmethod
    def from_url(cls, url: str, *, serde: Optional[SerializerProtocol] = None,
                 max_checkpoints: Optional[int] = None, **options: Any) -> "RedisSaver":
        """Connect like ``RedisCheckpointer.from_url`` (``key_prefix`` default: ``"langgraph"``)."""
        return cls(None, redis_url=url, serde=serde, max_checkpoints=max_checkpoints, **options)

    def close(self) -> None:
        self.checkpointer.close()

    # -- encoding ------------------------------------------------------------

    def _dump(self, value: Any) -> bytes:
        if value is _EMPTY:
            return self.codec.encode(["empty", b""], "value")
        kind, payload = self.serde.dumps_typed(value)
        return self.codec.encode([kind, payload], "value")

    def keys(self, thread_id: Any) -> _keys.GraphKeys:
        """The Redis keys of a LangGraph thread that every put touches."""
        return self.engine.graph_keys(_thread_text(thread_id))

    # -- writes --------------------------------------------------------------

    def put(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
            new_versions: ChannelVersions) -> RunnableConfig:
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
        self.engine.warn_if_evictable()
        member = ns + SEP + cid
        args = (member, record, "\n".join(fields), self.keep, link, self._put_options)
        segment = ""
        reply = self._put(thread_id, keys, args, blobs, len(record), segment)
        if reply[0] == b"segment":  # a re-put of a checkpoint kept in a sealed segment: put it there
            segment = reply[1].decode()
            reply = self._put(thread_id, keys, args, blobs, len(record), segment)
        if reply[0] == b"need" and not segment:  # the parent is in a sealed segment: bring over
            self._rehome(thread_id, keys, ns + SEP + parent if parent else None, reply[1:])  # what it shares
            reply = self._put(thread_id, keys, args, blobs, len(record), segment)
        if reply[0] == b"need":  # no copy of them to bring: store them again from the checkpoint
            for field in reply[1:]:
                blobs += [field, self._dump(values.get(fields[field.decode()], _EMPTY))]
            reply = self._put(thread_id, keys, args, blobs, len(record), segment)
        if reply[0] in (b"need", b"segment"):
            raise CheckpointError(f"put of thread {thread_id!r}: the active segment lacks {reply[1:]!r}",
                                  thread_id=thread_id, operation="put")
        self._follow_up(thread_id, keys, reply[1:], member)
        return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": cid}}

    def _put(self, thread_id: str, keys: _keys.GraphKeys, args: Tuple[Any, ...], blobs: List[Any],
             record_bytes: int, segment: str) -> List[Any]:
        engine, script = self.engine, self.engine.scripts.lg_put
        added = record_bytes + sum(len(b) for b in blobs[1::2])
        target = (*keys, keys.sealed(segment) if segment else keys.active)
        if added <= INLINE_MAX:
            (reply,), acked = engine.call("put", thread_id, keys.head,
                                          [engine.evalsha(script, target, (*args, added, segment, *blobs))],
                                          (script,), durable=True)
        else:  # the blobs go by HSET in the same transaction, so Redis does not copy them through Lua
            body: List[Command] = [("HSET", target[4], *blobs)] if blobs else []
            body.append(engine.evalsha(script, target, (*args, added, segment)))
            replies, acked = engine.call("put", thread_id, keys.head, body, (script,), transaction=True,
                                         durable=True)
            reply = replies[-1]
        if reply[0] not in (b"need", b"segment"):
            engine.require_replicas(acked, "put", thread_id)
        return list(reply)

    def _rehome(self, thread_id: str, keys: _keys.GraphKeys, parent: Optional[str], fields: Sequence[bytes]) -> None:
        """Copy ``fields`` from the parent's sealed segment into the active one."""
        if parent is None:
            return
        engine = self.engine
        seg = engine.command("put", thread_id, keys.head, "HGET", keys.head, "s:" + parent)
        if seg is not None:
            engine.run("put", thread_id, engine.scripts.lg_rehome, (keys.head, keys.active, keys.sealed(int(seg))),
                       fields)

    def _follow_up(self, thread_id: str, keys: _keys.GraphKeys, work: Sequence[bytes], member: str = "") -> None:
        if not work:
            return
        engine, opts = self.engine, self.engine.options

        def seal(n: str) -> None:
            engine.run("seal", thread_id, engine.scripts.lg_seal, (*keys, keys.sealed(n)),
                       (n, opts.segment_checkpoints, opts.segment_bytes, member))

        follow_up(engine, keys, work, thread_id, seal)

    @staticmethod
    def _blob_field(ns: str, channel: str, version: Any) -> str:
        return f"b:{ns}{SEP}{_part('channel', channel)}{SEP}{_part('version', version)}"

    def put_writes(self, config: RunnableConfig, writes: Sequence[Tuple[str, Any]], task_id: str,
                   task_path: str = "") -> None:
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
        if not args:
            return
        engine, script = self.engine, self.engine.scripts.lg_writes
        segment, seg_key = "", keys.active
        for _ in range(3):  # the checkpoint's segment; it moves only when sealed meanwhile
            reply, acked = engine.call("put_writes", thread_id, keys.head, [engine.evalsha(
                script, (keys.head, keys.writes, seg_key), (member, segment, self._write_options, size, *args))],
                (script,), durable=True)
            if reply[0][0] != b"segment":
                engine.require_replicas(acked, "put_writes", thread_id)
                return
            segment = reply[0][1].decode()
            seg_key = keys.active if segment == "" else keys.sealed(segment)
        raise CheckpointError(f"put_writes of thread {thread_id!r}: its checkpoint keeps moving",
                              thread_id=thread_id, operation="put_writes")

    def delete_thread(self, thread_id: str) -> None:
        unlink_thread(self.engine, "delete_thread", thread_id, self.keys(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        wanted = set(check_ids("run_ids", run_ids))
        if not wanted:
            return
        engine = self.engine
        for thread_id in self.threads():
            doomed = [
                f"{t.config['configurable']['checkpoint_ns']}{SEP}{t.config['configurable']['checkpoint_id']}"
                for t in self._tuples(thread_id, None, None, with_values=False)
                if t.metadata.get("run_id") in wanted
            ]
            keys = self.keys(thread_id)
            for start in range(0, len(doomed), REMOVE_PAGE):  # bounded calls
                reply, acked = engine.call("delete_for_runs", thread_id, keys.head, [engine.evalsha(
                    engine.scripts.lg_remove, keys, (self._wait_flag, *doomed[start:start + REMOVE_PAGE]))],
                    (engine.scripts.lg_remove,), durable=True)
                engine.require_replicas(acked, "delete_for_runs", thread_id)
                self._follow_up(thread_id, keys, reply[0][1:])

    @property
    def _wait_flag(self) -> str:
        return "1" if self.engine.options.min_replicas else ""

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        # a snapshot of the source, then pages into the target's slot (copying.py)
        engine = self.engine
        source = engine.graph_keys(_thread_text(source_thread_id), "source_thread_id")
        target = engine.graph_keys(_thread_text(target_thread_id), "target_thread_id")
        copying.copy_thread(engine, _thread_text(source_thread_id), source, _thread_text(target_thread_id), target)

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest", keep_last: Optional[int] = None,
              max_results: int = 10000) -> None:
        """Keep the newest checkpoint of each namespace of each thread (``"keep_latest"``),
        or the newest ``keep_last``, or none (``"delete"``, or ``keep_last=0``: the whole
        thread goes). A kept checkpoint whose parent goes is left with no parent, as in
        LangGraph's Postgres saver. ``max_results`` is taken for code written for
        langgraph-checkpoint-redis; this saver reads a thread in pages whatever its size.
        """
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"strategy must be 'keep_latest' or 'delete', not {strategy!r}")
        check_int("keep_last", keep_last, 0, optional=True)
        check_int("max_results", max_results, 1)
        keep = keep_last if keep_last is not None else (0 if strategy == "delete" else 1)
        thread_ids = check_ids("thread_ids", thread_ids)
        for thread_id in thread_ids:  # every id checked before anything is sent
            self.keys(thread_id)
        engine = self.engine
        for thread_id in thread_ids:
            if keep == 0:
                self.delete_thread(thread_id)
                continue
            keys = self.keys(thread_id)
            touched: List[str] = []
            for page in self._namespace_pages(thread_id):  # a call takes one page of namespaces
                while True:  # and removes a bounded number, so Redis serves others in between
                    reply, acked = engine.call("prune", thread_id, keys.head, [engine.evalsha(
                        engine.scripts.lg_keep_latest, keys, (self._wait_flag, keep, *page))],
                        (engine.scripts.lg_keep_latest,), durable=True)
                    engine.require_replicas(acked, "prune", thread_id)
                    removed, more, namespaces, *work = reply[0]
                    self._follow_up(thread_id, keys, work)
                    touched += [n.decode() for n in namespaces if n.decode() not in touched]
                    if not more:
                        break
            for ns in touched:
                self._unparent_orphans(thread_id, keys, ns)

    def _unparent_orphans(self, thread_id: str, keys: _keys.GraphKeys, ns: str) -> None:
        """Clear the parent of each checkpoint of ``ns`` whose parent is gone: a
        ``parent_config`` that names a removed checkpoint leads ``get_tuple`` nowhere."""
        kept = list(self._tuples(thread_id, ns, None, with_values=False))
        ids = {t.config["configurable"]["checkpoint_id"] for t in kept}
        for t in kept:
            parent = get_checkpoint_id(t.parent_config) if t.parent_config else None
            if parent is not None and parent not in ids:
                self._unparent(thread_id, keys, ns + SEP + t.config["configurable"]["checkpoint_id"])

    def _unparent(self, thread_id: str, keys: _keys.GraphKeys, member: str) -> None:
        engine = self.engine
        segment, active = engine.command("prune", thread_id, keys.head, "HMGET", keys.head, "s:" + member, "sn")
        if segment is None:
            return
        seg_key = keys.active if segment == (active or b"0") else keys.sealed(int(segment))
        record = engine.command("prune", thread_id, keys.head, "HGET", seg_key, "c:" + member)
        if record is None:
            return
        fields = self.codec.decode(record)
        rewritten = self.codec.encode({**fields, "parent": None}, "checkpoint")
        engine.run("prune", thread_id, engine.scripts.lg_unparent, (keys.head, seg_key), (member, record, rewritten))

    def get_next_version(self, current: Optional[str], channel: None = None) -> str:
        """Zero-padded counter plus a random fraction, so versions sort as text."""
        if current is None:
            number = 0
        elif isinstance(current, int):
            number = current
        else:
            number = int(str(current).split(".")[0])
        return f"{number + 1:032}.{random.random():016}"

    # -- reads ---------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], conf.get("checkpoint_ns", "")
        keys = self.keys(thread_id)
        engine, script = self.engine, self.engine.scripts.lg_get
        reply = engine.run("get", thread_id, script, keys, (ns, get_checkpoint_id(config) or "", ""))
        if len(reply) == 2 and isinstance(reply[1], int):  # in a sealed segment: read it there
            seg = reply[1]
            reply = engine.run("get", thread_id, script, (*keys[:3], keys.sealed(seg)),
                               (ns, decode_id(reply[0], thread_id), seg))
        found = [t for t in self._parse(thread_id, ns, reply) if isinstance(t, CheckpointTuple)]
        if not found:
            return None
        self._touch(thread_id, keys)
        return found[0]

    def get_delta_channel_history(self, *, config: RunnableConfig,
                                  channels: Sequence[str]) -> Mapping[str, DeltaChannelHistory]:
        """LangGraph's walk up the parent chain for DeltaChannels, its ancestors read in one call.

        The base class reads one checkpoint per call: 46 calls for a channel 45
        steps from its snapshot. Here ``lg_chain.lua`` returns the checkpoint and up
        to ``PAGE`` ancestors through their delta links per call (within a segment),
        and ``delta.history`` walks them as the base class does.
        """
        if not check_ids("channels", channels):
            return {}
        thread_id = config["configurable"]["thread_id"]
        found = history(self._chain, config, channels)
        self._touch(thread_id, self.keys(thread_id))
        return found

    def _chain(self, config: RunnableConfig) -> List[CheckpointTuple]:
        """The checkpoint ``config`` names and its linked ancestors, nearest first: those in
        its segment, then the next one's from its own, as ``delta.history`` asks again."""
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], conf.get("checkpoint_ns", "")
        cid = get_checkpoint_id(config)
        if not cid:
            newest = self.get_tuple(config)
            if newest is None:
                return []
            cid = newest.config["configurable"]["checkpoint_id"]
        keys = self.keys(thread_id)
        engine, script = self.engine, self.engine.scripts.lg_chain
        seg: Union[int, str] = ""
        reply = engine.run("get", thread_id, script, (keys.head, keys.writes, keys.active), (ns, cid, seg, PAGE))
        if len(reply) == 2 and isinstance(reply[1], int):  # it is in a sealed segment: walk there
            seg = reply[1]
            reply = engine.run("get", thread_id, script, (keys.head, keys.writes, keys.sealed(seg)),
                               (ns, cid, seg, PAGE))
        return [t for t in self._parse(thread_id, ns, reply) if isinstance(t, CheckpointTuple)]

    def _touch(self, thread_id: str, keys: _keys.GraphKeys) -> None:
        """As the core's load: slide the TTL with ``refresh_ttl_on_read`` (no WAIT for a TTL)."""
        opts = self.engine.options
        if opts.refresh_ttl_on_read and opts.ttl_ms:
            reply = self.engine.run("get", thread_id, self.engine.scripts.touch, keys, (opts.ttl_ms,))
            self._follow_up(thread_id, keys, reply[1:])

    def list(self, config: Optional[RunnableConfig], *, filter: Optional[Dict[str, Any]] = None,
             before: Optional[RunnableConfig] = None, limit: Optional[int] = None) -> Iterator[CheckpointTuple]:
        if limit is not None and limit <= 0:
            return
        before_id = get_checkpoint_id(before) if before else None
        conf = config["configurable"] if config else {}
        wanted = conf.get("thread_id")
        thread_ids = [wanted] if wanted not in (None, "") else list(self.threads())
        count = 0
        only = conf.get("checkpoint_id")
        # without a filter every checkpoint read is returned: read no more than asked
        page = min(PAGE, limit) if limit is not None and not filter and not only else PAGE
        for thread_id in thread_ids:
            for tup in self._tuples(thread_id, conf.get("checkpoint_ns"), before_id, True, page):
                if only and tup.config["configurable"]["checkpoint_id"] != only:
                    continue
                if filter and any(tup.metadata.get(k) != v for k, v in filter.items()):
                    continue
                yield tup
                count += 1
                if limit is not None and count >= limit:
                    return

    def _namespace_pages(self, thread_id: str) -> Iterator[List[str]]:
        """The thread's namespaces in order, NS_PAGE per call: there may be thousands."""
        keys = self.keys(thread_id)
        after = ""
        while True:
            page = [n.decode() for n in self.engine.run("list", thread_id, self.engine.scripts.lg_namespaces,
                                                        (keys.ids,), (after, NS_PAGE))]
            if page:
                yield page
            if len(page) < NS_PAGE:
                return
            after = ">" + page[-1]

    def _tuples(self, thread_id: str, ns: Optional[str], before: Optional[str],
                with_values: bool, page_size: int = PAGE) -> Iterator[CheckpointTuple]:
        """Checkpoints of a thread, newest id first per namespace, a page per call (and one
        more per sealed segment the page reaches into)."""
        keys = self.keys(thread_id)
        engine = self.engine
        bare = "" if with_values else "1"
        names = [ns] if ns is not None else itertools.chain.from_iterable(self._namespace_pages(thread_id))
        for name in names:
            cursor = before or ""
            while True:
                reply = engine.run("list", thread_id, engine.scripts.lg_list, keys, (name, cursor, page_size, bare))
                items = list(self._parse(thread_id, name, reply[2:]))
                elsewhere: Dict[int, List[str]] = {}
                for item in items:
                    if isinstance(item, Elsewhere):
                        elsewhere.setdefault(item.segment, []).append(item.checkpoint_id)
                fetched: Dict[str, CheckpointTuple] = {}
                for seg, ids in elsewhere.items():
                    more = engine.run("list", thread_id, engine.scripts.lg_fetch,
                                      (keys.head, keys.writes, keys.sealed(seg)), (name, seg, bare, *ids))
                    for tup in self._parse(thread_id, name, more):
                        if isinstance(tup, CheckpointTuple):
                            fetched[tup.config["configurable"]["checkpoint_id"]] = tup
                for item in items:
                    if isinstance(item, Elsewhere):
                        if item.checkpoint_id in fetched:
                            yield fetched[item.checkpoint_id]
                    else:
                        yield item
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

    def threads(self, match: str = "*") -> Iterator[str]:
        """Ids of this saver's threads matching the glob ``match`` (``SCAN`` on every
        primary, never ``KEYS``), in no order."""
        return self.engine.scan_threads(match, _keys.GRAPH_SUFFIXES[0])
