"""The admin API: what the command line (and ``manage.py checkpoints``) shows and changes,
for Python code. The command line calls these functions and nothing else.

* :func:`stats` — threads, checkpoints, bytes in Redis, compression, TTL coverage;
* :func:`thread_info` — one thread at a glance;
* :func:`prune` — trim histories and delete stale threads (or trim one thread);
* :func:`export` and :func:`import_` — threads to and from a CBOR file (``transfer.py``).

Each takes a :class:`RedisCheckpointer` and works through its engine (same key layout,
same retries, same errors). Those that walk many threads take ``progress``, called
with the number of threads done so far after each one.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import IO, Callable, Dict, List, Optional, Tuple, Union

from . import core, transfer
from .base import CheckpointMetadata
from .errors import check_int, check_number
from .ids import validate_id
from .store import RedisCheckpointer

Progress = Optional[Callable[[int], None]]


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


@dataclass(frozen=True)
class Stats:
    """What :func:`stats` finds. ``compression_ratio`` (CBOR bytes over stored bytes, of
    each thread's latest state) and ``ttl_coverage`` (the share of threads that expire)
    are ``None`` when there is no thread."""

    threads: int
    checkpoints: int
    memory_bytes: int
    compression_ratio: Optional[float]
    ttl_coverage: Optional[float]


def stats(cp: RedisCheckpointer, match: str = "*", progress: Progress = None) -> Stats:
    """Totals over the threads whose ids match the glob ``match`` (``SCAN``, never ``KEYS``)."""
    threads = checkpoints = memory = with_ttl = cbor_total = stored_total = 0
    for thread_id in cp.threads(match):
        info = thread_info(cp, thread_id)
        if info is None:
            continue
        threads += 1
        checkpoints += info.checkpoints
        memory += info.memory_bytes
        with_ttl += info.ttl_seconds is not None
        stored = frame(cp, thread_id)
        if stored is not None:  # compression measured on the latest states, without decoding them
            cbor_total += cp.engine.options.codec.body_size(stored)
            stored_total += len(stored)
        if progress is not None:
            progress(threads)
    return Stats(threads, checkpoints, memory, (cbor_total / stored_total) if stored_total else None,
                 (with_ttl / threads) if threads else None)


@dataclass(frozen=True)
class PruneReport:
    """What :func:`prune` over many threads did (or, with ``dry_run``, would do)."""

    dry_run: bool
    deleted_threads: List[str] = field(default_factory=list)
    removed_checkpoints: Dict[str, int] = field(default_factory=dict)


def prune(cp: RedisCheckpointer, thread_id: Optional[str] = None, keep: Optional[int] = None, *,
          match: str = "*", older_than: Union[None, float, datetime.timedelta] = None, dry_run: bool = False,
          progress: Progress = None) -> Union[int, PruneReport]:
    """Trim histories and delete stale threads.

    With ``thread_id``: remove all but its newest ``keep`` checkpoints, and return how
    many went. Otherwise, for every thread matching ``match``: delete it if its latest
    save is older than ``older_than`` (seconds or a ``timedelta``) and nothing was saved
    since it was looked at, else trim it to ``keep``; return a :class:`PruneReport`.
    ``dry_run`` changes nothing and reports what would go.

    Trimming is the same retention code as a save with ``max_checkpoints``, so a save
    replayed after it still finds its id. It runs over ``maxmemory`` too (``prune.lua``
    is flagged ``allow-oom``). Each call is atomic and removes a bounded number (so
    Redis serves other clients in between); a longer history takes several calls.
    """
    if thread_id is not None:
        check_int("keep", keep, 1)
        return cp.engine.drive(core.prune(cp.engine, thread_id, keep))  # type: ignore[arg-type]
    if keep is None and older_than is None:
        raise ValueError("prune needs keep, older_than, or both")
    check_int("keep", keep, 1, optional=True)
    cutoff = older_than.total_seconds() if isinstance(older_than, datetime.timedelta) else older_than
    if cutoff is not None:
        cutoff = check_number("older_than (seconds, or a timedelta)", cutoff, 0)
    now = datetime.datetime.now(datetime.timezone.utc)
    report = PruneReport(dry_run)
    for n, tid in enumerate(cp.threads(match), 1):
        count, latest = count_and_latest(cp, tid)  # two round trips per thread
        if latest is not None:
            if cutoff is not None and (now - latest.created_at).total_seconds() > cutoff:
                # only if nothing was saved since we looked: a resumed thread is not stale
                if dry_run or delete_if_current(cp, tid, latest.id):
                    report.deleted_threads.append(tid)
            elif keep is not None and count > keep:
                report.removed_checkpoints[tid] = (
                    count - keep if dry_run else cp.engine.drive(core.prune(cp.engine, tid, keep)))
        if progress is not None:
            progress(n)
    report.deleted_threads.sort()
    return report


def export(cp: RedisCheckpointer, fileobj: IO[bytes], match: str = "*",
           progress: Progress = None) -> Tuple[int, int]:
    """Write the threads matching ``match`` to ``fileobj`` (``transfer.py``'s format);
    ``(threads, checkpoints)`` written."""
    return transfer.export(cp, match, fileobj, progress or (lambda _n: None))


def import_(cp: RedisCheckpointer, fileobj: IO[bytes], ttl_seconds: Optional[float] = None,
            progress: Progress = None) -> Tuple[int, int, int]:
    """Save every checkpoint of an export under its id; ``(threads, checkpoints, written)``.

    A seekable file is checked whole before anything is written: one that is cut short,
    malformed, or holds a checkpoint this checkpointer would refuse writes nothing
    (``transfer.ImportFormatError``). Importing again writes nothing new.
    ``ttl_seconds``: the imported threads expire that long after the import.
    """
    target = cp if ttl_seconds is None else cp.with_ttl(ttl_seconds)
    return transfer.import_(target, fileobj, progress or (lambda _n: None))


def delete_if_current(cp: RedisCheckpointer, thread_id: str, checkpoint_id: str) -> bool:
    """Delete the thread only if ``checkpoint_id`` is still its current checkpoint.

    One script call, so a save that lands after the caller looked at the thread
    is never deleted with it. ``False`` when the thread moved on or is gone.
    """
    return cp.engine.drive(core.delete(cp.engine, thread_id, validate_id(checkpoint_id)))
