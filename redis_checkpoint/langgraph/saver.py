"""``RedisSaver``: LangGraph's ``BaseCheckpointSaver`` on plain Redis (no modules).

Built on a :class:`~redis_checkpoint.RedisCheckpointer`: its client, retry
policy, codec, TTL, ``refresh_ttl_on_read``, ``max_checkpoints`` and
``min_replicas``. Layout (``keys.graph_keys``): three
keys per thread, all in one hash slot; channel values are stored once per
(namespace, channel, version) and shared by the checkpoints that list them, as
LangGraph's Postgres saver does. Every ``put`` and ``put_writes`` is one atomic
script call (``lua/lg_write.lua``); reads are one call per checkpoint or page
(``lua/lg_read.lua``), and ``get_tuple`` makes a second (``lua/touch.lua``) to
slide the TTL when ``refresh_ttl_on_read`` is on.

Values go through LangGraph's ``serde`` (``dumps_typed``), so LangChain
messages and the encrypted serializer work; the typed bytes are then framed
and compressed by our codec.
"""
from __future__ import annotations

import itertools
import random
import uuid
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

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
from ..errors import ReplicationError, check_int
from ..records import decode_id
from ..scripts import LG_TRIM
from ..store import RedisCheckpointer
from . import copying
from .aio import AsyncMethods
from .compat import ConnStringMethods, target
from .delta import delta_link, history
from .entries import SEP, entries

if TYPE_CHECKING:  # langgraph-checkpoint before 4.1 has no DeltaChannelHistory
    from langgraph.checkpoint.base import DeltaChannelHistory

PAGE = 100
NS_PAGE = 100  # namespaces read per call (lg_read.lua's "namespaces")
_REMOVALS = ("keep_latest", "remove")  # lg_write.lua operations that only delete
_IDX_OFFSET = 10**9  # write indexes may be negative (WRITES_IDX_MAP): offset, then pad


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
        self._keep = max_checkpoints or self.checkpointer._keep
        self._codec = self.checkpointer._codec.strict()  # every blob's shape is ours: str keys, bytes

    @classmethod
    def from_url(cls, url: str, *, serde: Optional[SerializerProtocol] = None,
                 max_checkpoints: Optional[int] = None, **options: Any) -> "RedisSaver":
        """Connect like ``RedisCheckpointer.from_url`` (``key_prefix`` default: ``"langgraph"``)."""
        return cls(None, redis_url=url, serde=serde, max_checkpoints=max_checkpoints, **options)

    def close(self) -> None:
        self.checkpointer.close()

    # -- encoding ------------------------------------------------------------

    def _dump(self, value: Any) -> bytes:
        kind, payload = self.serde.dumps_typed(value)
        return self._codec.encode([kind, payload], "value")

    def _keys(self, thread_id: Any) -> _keys.GraphKeys:
        return _keys.graph_keys(self.checkpointer.key_prefix, _keys.validate_thread_id(_thread_text(thread_id)))

    def _read(self, op: str, thread_id: str, *args: Any) -> Any:
        cp = self.checkpointer
        return cp._run(op, thread_id, cp._scripts.lg_read, self._keys(thread_id), args)

    def _write(self, op: str, thread_id: str, *args: Any) -> int:
        cp = self.checkpointer
        head = (op, cp._ttl_ms, "1" if cp._min_replicas else "")
        # removals free memory: their copy of the script runs over maxmemory (scripts.freeing_source)
        script = cp._scripts.lg_remove if op in _REMOVALS else cp._scripts.lg_write
        removed, acked = cp._write(op, thread_id, script, self._keys(thread_id), head + args)
        if acked < cp._min_replicas:
            raise ReplicationError(None, acked, cp._min_replicas, thread_id=thread_id, operation=op)
        return int(removed)

    # -- writes --------------------------------------------------------------

    def put(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
            new_versions: ChannelVersions) -> RunnableConfig:
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], _part("checkpoint_ns", conf.get("checkpoint_ns", ""))
        cid = _part("checkpoint id", checkpoint["id"])
        values = dict(checkpoint["channel_values"])
        stored = {k: v for k, v in checkpoint.items() if k != "channel_values"}
        fields = [self._blob_field(ns, ch, ver) for ch, ver in checkpoint["channel_versions"].items()]
        blobs: List[Any] = []
        for ch, ver in new_versions.items():
            value = self._dump(values[ch]) if ch in values else self._codec.encode(["empty", b""], "value")
            blobs += [self._blob_field(ns, ch, ver), value]
        full_metadata, parent = get_checkpoint_metadata(config, metadata), conf.get("checkpoint_id")
        record = self._codec.encode({
            "checkpoint": list(self.serde.dumps_typed(stored)),
            "metadata": list(self.serde.dumps_typed(full_metadata)),
            "parent": parent,
        }, "checkpoint")
        link = delta_link(full_metadata, _part("checkpoint id", parent or ""))
        self.checkpointer._warn_if_evictable()
        self._write("put", thread_id, ns + SEP + cid, record, "\n".join(fields), self._keep, link, *blobs)
        return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": cid}}

    @staticmethod
    def _blob_field(ns: str, channel: str, version: Any) -> str:
        return f"b:{ns}{SEP}{_part('channel', channel)}{SEP}{_part('version', version)}"

    def put_writes(self, config: RunnableConfig, writes: Sequence[Tuple[str, Any]], task_id: str,
                   task_path: str = "") -> None:
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], _part("checkpoint_ns", conf.get("checkpoint_ns", ""))
        member = ns + SEP + _part("checkpoint id", conf["checkpoint_id"])
        args: List[Any] = []
        for idx, (channel, value) in enumerate(writes):
            slot = WRITES_IDX_MAP.get(channel, idx)
            wmember = SEP.join([member, _part("task_path", task_path), _part("task_id", task_id),
                                f"{slot + _IDX_OFFSET:011d}"])
            blob = self._codec.encode([task_id, channel, *self.serde.dumps_typed(value), task_path], "write")
            args += [wmember, blob, "1" if slot < 0 else ""]
        if args:
            self._write("writes", thread_id, member, *args)

    def delete_thread(self, thread_id: str) -> None:
        self.checkpointer._run("delete_thread", thread_id, self.checkpointer.client.unlink,
                               *self._keys(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        wanted = set(run_ids)
        if not wanted:
            return
        for thread_id in self._thread_ids():
            doomed = [
                f"{t.config['configurable']['checkpoint_ns']}{SEP}{t.config['configurable']['checkpoint_id']}"
                for t in self._tuples(thread_id, None, None, with_values=False)
                if t.metadata.get("run_id") in wanted
            ]
            for start in range(0, len(doomed), LG_TRIM):  # bounded calls, as keep_latest
                self._write("remove", thread_id, *doomed[start:start + LG_TRIM])

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        # a snapshot of the source, then pages into the target's slot (copying.py)
        source = _keys.validate_thread_id(_thread_text(source_thread_id), "source_thread_id")
        target = _keys.validate_thread_id(_thread_text(target_thread_id), "target_thread_id")
        copying.copy_thread(self.checkpointer, source, target)

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"strategy must be 'keep_latest' or 'delete', not {strategy!r}")
        for thread_id in thread_ids:
            if strategy == "delete":
                self.delete_thread(thread_id)
            else:  # a call takes one page of namespaces and removes at most LG_TRIM,
                for page in self._namespace_pages(thread_id):  # so Redis serves others in between
                    while self._write("keep_latest", thread_id, *page) >= LG_TRIM:
                        pass

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
        found = self._lookup(config, "get")
        if not found:
            return None
        self._touch(config["configurable"]["thread_id"])
        return found[0]

    def get_delta_channel_history(self, *, config: RunnableConfig,
                                  channels: Sequence[str]) -> Mapping[str, DeltaChannelHistory]:
        """LangGraph's walk up the parent chain for DeltaChannels, its ancestors read in one call.

        The base class reads one checkpoint per call: 46 calls for a channel 45
        steps from its snapshot. Here ``lg_read.lua`` ("chain") returns the
        checkpoint and up to ``PAGE`` ancestors through their delta links per call,
        and ``delta.history`` walks them as the base class does.
        """
        if not channels:
            return {}
        found = history(lambda at: self._lookup(at, "chain", PAGE), config, channels)
        self._touch(config["configurable"]["thread_id"])
        return found

    def _lookup(self, config: RunnableConfig, mode: str, *extra: Any) -> List[CheckpointTuple]:
        """What ``lg_read.lua``'s "get" or "chain" finds at the checkpoint ``config`` names
        (its newest when it names none): that checkpoint first, or nothing."""
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], conf.get("checkpoint_ns", "")
        reply = self._read("get", thread_id, mode, ns, get_checkpoint_id(config) or "", *extra)
        return list(self._parse(thread_id, ns, reply[2:]))

    def _touch(self, thread_id: str) -> None:
        """As the core's load: slide the TTL with ``refresh_ttl_on_read`` (no WAIT for a TTL)."""
        cp = self.checkpointer
        if cp._refresh and cp._ttl_ms:
            cp._run("get", thread_id, cp._scripts.touch, self._keys(thread_id), (cp._ttl_ms,))

    def list(self, config: Optional[RunnableConfig], *, filter: Optional[Dict[str, Any]] = None,
             before: Optional[RunnableConfig] = None, limit: Optional[int] = None) -> Iterator[CheckpointTuple]:
        if limit is not None and limit <= 0:
            return
        before_id = get_checkpoint_id(before) if before else None
        conf = config["configurable"] if config else {}
        wanted = conf.get("thread_id")
        thread_ids = [wanted] if wanted not in (None, "") else list(self._thread_ids())
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
        after = ""
        while True:
            page = [n.decode() for n in self._read("list", thread_id, "namespaces", after, NS_PAGE)]
            if page:
                yield page
            if len(page) < NS_PAGE:
                return
            after = ">" + page[-1]

    def _tuples(self, thread_id: str, ns: Optional[str], before: Optional[str],
                with_values: bool, page_size: int = PAGE) -> Iterator[CheckpointTuple]:
        """Checkpoints of a thread, newest id first per namespace, a page per call."""
        names = [ns] if ns is not None else itertools.chain.from_iterable(self._namespace_pages(thread_id))
        for name in names:
            cursor = before or ""
            while True:
                reply = self._read("list", thread_id, "list", name, cursor, page_size,
                                   "" if with_values else "1")
                yield from list(self._parse(thread_id, name, reply[2:]))
                if reply[0] < page_size:  # index members read: fewer than asked, none left
                    break
                cursor = decode_id(reply[1], thread_id)

    def _parse(self, thread_id: str, ns: str, reply: List[Any]) -> Iterator[CheckpointTuple]:
        """Tuples from an ``lg_read.lua`` reply (a records-only reply has no values or writes)."""
        loads = self.serde.loads_typed
        for e in entries(self._codec, thread_id, reply):
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

    def _thread_ids(self) -> Iterator[str]:
        return self.checkpointer._scan_threads("*", _keys.GRAPH_SUFFIXES[1])
