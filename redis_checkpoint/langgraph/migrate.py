"""Bringing threads over from langgraph-checkpoint-redis.

:func:`import_from_langgraph_redis` reads the other saver only through LangGraph's
public saver interface (``list``, with every namespace and the pending writes), never
its keys, and writes through ``RedisSaver.put`` and ``put_writes``: thread ids,
namespaces, checkpoint ids, parent links, metadata, channel values and versions, and
pending writes are kept. A checkpoint this saver already has is left as it is, so a
second run writes nothing. :func:`verify` compares both sides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from langgraph.checkpoint.base import CheckpointTuple

from ..errors import check_ids

Progress = Callable[[int], None]


@dataclass
class MigrationReport:
    """What an import found and did. ``written`` is 0 on a dry run."""

    threads: int = 0
    checkpoints: int = 0
    written: int = 0
    already_present: int = 0
    writes: int = 0
    differences: List[str] = field(default_factory=list)  # filled by verify()


def source_saver(source: Any) -> Any:
    """An incumbent saver for ``source``: a Redis URL (a ``langgraph.checkpoint.redis.RedisSaver``
    is built on it; that package and a Redis with its modules are needed) or a saver as is."""
    if not isinstance(source, str):
        if not callable(getattr(source, "list", None)):
            raise TypeError(f"source must be a Redis URL or a LangGraph saver, not {type(source).__name__}")
        return source
    try:
        from langgraph.checkpoint.redis import RedisSaver as IncumbentSaver
    except ImportError:
        raise ImportError("reading langgraph-checkpoint-redis data needs that package: "
                          "pip install langgraph-checkpoint-redis") from None
    saver = IncumbentSaver(redis_url=source)
    saver.setup()  # its search indexes: created if missing, else left alone
    return saver


def _threads(source: Any, thread_ids: Optional[Sequence[str]]) -> List[str]:
    if thread_ids is not None:
        return [str(t) for t in thread_ids]
    seen: Dict[str, None] = {}
    for t in source.list(None):
        seen.setdefault(str(t.config["configurable"]["thread_id"]), None)
    return sorted(seen)


def _checkpoints(source: Any, thread_id: str) -> List[CheckpointTuple]:
    """Every checkpoint of a thread, every namespace, parents before children. ``list``
    names them and ``get_tuple`` reads each: langgraph-checkpoint-redis's ``list`` gives
    LangChain messages as their serialized dicts, its ``get_tuple`` as messages."""
    found = []
    for listed in source.list({"configurable": {"thread_id": thread_id}}):
        conf = listed.config["configurable"]
        t = source.get_tuple(_config(thread_id, conf.get("checkpoint_ns", ""), conf["checkpoint_id"]))
        found.append(t if t is not None else listed)
    return sorted(found, key=lambda t: (t.config["configurable"].get("checkpoint_ns", ""),
                                        t.config["configurable"]["checkpoint_id"]))


def _config(thread_id: str, ns: str, checkpoint_id: Optional[str]) -> Dict[str, Any]:
    conf: Dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        conf["checkpoint_id"] = checkpoint_id
    return {"configurable": conf}


def _parent_id(t: CheckpointTuple) -> Optional[str]:
    return t.parent_config["configurable"].get("checkpoint_id") if t.parent_config else None


def import_from_langgraph_redis(source: Any, saver: Any, *, thread_ids: Optional[Sequence[str]] = None,
                                dry_run: bool = False, on_thread: Optional[Progress] = None) -> MigrationReport:
    """Copy threads from langgraph-checkpoint-redis (``source``: a Redis URL or its saver)
    into ``saver`` (a ``RedisSaver``). ``thread_ids`` limits it to those threads (default:
    every thread the source lists). ``dry_run`` reads and counts, and writes nothing.
    Checkpoints ``saver`` already holds are left as they are."""
    if thread_ids is not None:
        thread_ids = check_ids("thread_ids", thread_ids)
    for thread_id in thread_ids or ():
        saver.keys(thread_id)  # every id checked before anything is read
    source = source_saver(source)
    report = MigrationReport()
    for thread_id in _threads(source, thread_ids):
        tuples = _checkpoints(source, thread_id)
        if not tuples:
            continue
        report.threads += 1
        for t in tuples:
            report.checkpoints += 1
            ns, cid = t.config["configurable"].get("checkpoint_ns", ""), t.config["configurable"]["checkpoint_id"]
            if saver.get_tuple(_config(thread_id, ns, cid)) is not None:
                report.already_present += 1
                continue
            if dry_run:
                continue
            checkpoint = t.checkpoint
            saver.put(_config(thread_id, ns, _parent_id(t)), checkpoint, t.metadata,
                      dict(checkpoint["channel_versions"]))
            by_task: Dict[str, List[Tuple[str, Any]]] = {}
            for task_id, channel, value in t.pending_writes or ():
                by_task.setdefault(task_id, []).append((channel, value))
            for task_id, writes in by_task.items():
                saver.put_writes(_config(thread_id, ns, cid), writes, task_id)
                report.writes += len(writes)
            report.written += 1
        if on_thread is not None:
            on_thread(report.threads)
    return report


def _comparable(t: CheckpointTuple) -> Tuple[Any, ...]:
    checkpoint = {k: v for k, v in t.checkpoint.items() if k != "pending_sends"}
    return (checkpoint, dict(t.metadata or {}), _parent_id(t),
            sorted((w[0], w[1], repr(w[2])) for w in t.pending_writes or ()))


def verify(source: Any, saver: Any, *, thread_ids: Optional[Sequence[str]] = None,
           on_thread: Optional[Progress] = None) -> MigrationReport:
    """Compare every checkpoint of ``source`` with ``saver``'s: state, versions, metadata,
    parent and pending writes. ``differences`` names each one that differs or is missing."""
    source = source_saver(source)
    report = MigrationReport()
    for thread_id in _threads(source, thread_ids):
        report.threads += 1
        for t in _checkpoints(source, thread_id):
            report.checkpoints += 1
            ns, cid = t.config["configurable"].get("checkpoint_ns", ""), t.config["configurable"]["checkpoint_id"]
            ours = saver.get_tuple(_config(thread_id, ns, cid))
            where = f"thread {thread_id!r}, namespace {ns!r}, checkpoint {cid}"
            if ours is None:
                report.differences.append(f"{where}: missing")
                continue
            for name, theirs_part, ours_part in zip(("state", "metadata", "parent", "pending writes"),
                                                   _comparable(t), _comparable(ours)):
                if theirs_part != ours_part:
                    report.differences.append(f"{where}: {name} differs")
        if on_thread is not None:
            on_thread(report.threads)
    return report

