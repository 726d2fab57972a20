"""Operator views of a checkpointer's data: what the command line shows and changes.

Thin functions over a :class:`RedisCheckpointer` and its engine (same key layout,
same error wrapping); applications use the checkpointer itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from . import core
from .base import CheckpointMetadata
from .ids import validate_id
from .store import RedisCheckpointer


@dataclass(frozen=True)
class ThreadInfo:
    """One thread at a glance: how many checkpoints, the latest, bytes in Redis, TTL left."""

    thread_id: str
    checkpoints: int
    latest: Optional[CheckpointMetadata]
    memory_bytes: int
    ttl_seconds: Optional[float]


def thread_info(cp: RedisCheckpointer, thread_id: str) -> Optional[ThreadInfo]:
    """``None`` when the thread has no checkpoint."""
    count, latest = count_and_latest(cp, thread_id)
    if count == 0:
        return None
    engine = cp.engine
    keys = cp.keys(thread_id)
    first, end = segment_range(cp, thread_id)
    memory = sum(int(engine.command("info", thread_id, keys.head, "MEMORY", "USAGE", key) or 0)
                 for key in (*keys, *keys.segments(first, end)))
    return ThreadInfo(thread_id, count, latest, memory, ttl_left(cp, thread_id))


def count_and_latest(cp: RedisCheckpointer, thread_id: str) -> Tuple[int, Optional[CheckpointMetadata]]:
    """How many checkpoints the thread has, and its latest (two round trips; ``(0, None)``
    for no thread). What ``prune`` needs of :func:`thread_info`, without its sizes."""
    keys = cp.keys(thread_id)
    count = int(cp.engine.command("info", thread_id, keys.head, "ZCARD", keys.history) or 0)
    if count == 0:
        return 0, None
    latest = cp.list(thread_id, limit=1)
    return count, (latest[0] if latest else None)


def segment_range(cp: RedisCheckpointer, thread_id: str) -> Tuple[int, int]:
    """The numbers of the thread's sealed segments: ``range(*segment_range(...))``."""
    head = cp.keys(thread_id).head
    first, end = cp.engine.command("info", thread_id, head, "HMGET", head, "s0", "sn")
    return int(first or 0), int(end or 0)


def ttl_left(cp: RedisCheckpointer, thread_id: str) -> Optional[float]:
    """Seconds until the thread expires (at least 0.001), or ``None`` if it never does or is gone."""
    head = cp.keys(thread_id).head
    pttl = int(cp.engine.command("info", thread_id, head, "PTTL", head))
    return max(pttl, 1) / 1000 if pttl >= 0 else None


def frame(cp: RedisCheckpointer, thread_id: str, checkpoint_id: Optional[str] = None) -> Optional[bytes]:
    """The stored bytes of a checkpoint's state (the codec's frame), undecoded."""
    found = cp.engine.drive(core.fetch(cp.engine, thread_id, checkpoint_id))
    return None if found is None else found[1]


def prune(cp: RedisCheckpointer, thread_id: str, keep: int) -> int:
    """Remove all but the newest ``keep`` checkpoints; how many went.

    The same retention code as a save with ``max_checkpoints``, so a save replayed
    after this still finds its id. It runs over ``maxmemory`` too (``prune.lua`` is
    flagged ``allow-oom``). Each call is atomic and removes a bounded number (so
    Redis serves other clients in between); a longer history takes several calls.
    """
    return cp.engine.drive(core.prune(cp.engine, thread_id, keep))


def delete_if_current(cp: RedisCheckpointer, thread_id: str, checkpoint_id: str) -> bool:
    """Delete the thread only if ``checkpoint_id`` is still its current checkpoint.

    One script call, so a save that lands after the caller looked at the thread
    is never deleted with it. ``False`` when the thread moved on or is gone.
    """
    return cp.engine.drive(core.delete(cp.engine, thread_id, validate_id(checkpoint_id)))
