"""Operator views of a checkpointer's data: what the command line shows and changes.

Thin functions over a :class:`RedisCheckpointer` (same key layout, same error
wrapping); applications use the checkpointer itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from .base import CheckpointMetadata
from .errors import check_int
from .ids import validate_id
from .scripts import TRIM, save_args
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
    memory = sum(int(cp._run("info", thread_id, cp.client.memory_usage, k) or 0) for k in cp.keys(thread_id))
    return ThreadInfo(thread_id, count, latest, memory, ttl_left(cp, thread_id))


def count_and_latest(cp: RedisCheckpointer, thread_id: str) -> Tuple[int, Optional[CheckpointMetadata]]:
    """How many checkpoints the thread has, and its latest (two round trips; ``(0, None)``
    for no thread). What ``prune`` needs of :func:`thread_info`, without its sizes."""
    # checkpoints score 1 and up; ids kept for replays score below 0 (see save.lua)
    count = int(cp._run("info", thread_id, cp.client.zcount, cp.keys(thread_id).history, "(0", "+inf"))
    if count == 0:
        return 0, None
    latest = cp.list(thread_id, limit=1)
    return count, (latest[0] if latest else None)


def ttl_left(cp: RedisCheckpointer, thread_id: str) -> Optional[float]:
    """Seconds until the thread expires (at least 0.001), or ``None`` if it never does or is gone."""
    pttl = int(cp._run("info", thread_id, cp.client.pttl, cp.keys(thread_id).thread))
    return max(pttl, 1) / 1000 if pttl >= 0 else None


def frame(cp: RedisCheckpointer, thread_id: str, checkpoint_id: Optional[str] = None) -> Optional[bytes]:
    """The stored bytes of a checkpoint's state (the codec's frame), undecoded."""
    found = cp._fetch(thread_id, checkpoint_id)
    return None if found is None else found[2]


def prune(cp: RedisCheckpointer, thread_id: str, keep: int) -> int:
    """Remove all but the newest ``keep`` checkpoints; how many went.

    It is ``save.lua`` with no checkpoint: the same retention code as a save
    with ``max_checkpoints``, so a save replayed after this still finds its id.
    It runs as ``scripts.freeing_source("save")``, which Redis accepts over ``maxmemory``.
    Each call is atomic and removes at most ``scripts.TRIM`` (so Redis serves other
    clients in between); a longer history takes several calls.
    """
    check_int("keep", keep, 1)
    keys = cp.keys(thread_id)
    args = save_args("", "", "", b"", b"", 0, keep, False, cp._policy.replay_window_ms)
    total = 0
    while True:
        removed = int(cp._run("prune", thread_id, cp._scripts.retain, keys, args))
        total += removed
        if removed < TRIM:
            return total


def delete_if_current(cp: RedisCheckpointer, thread_id: str, checkpoint_id: str) -> bool:
    """Delete the thread only if ``checkpoint_id`` is still its current checkpoint.

    One script call, so a save that lands after the caller looked at the thread
    is never deleted with it. ``False`` when the thread moved on or is gone.
    """
    keys = cp.keys(thread_id)
    return bool(cp._run("delete", thread_id, cp._scripts.delete_if, keys, (validate_id(checkpoint_id),)))
