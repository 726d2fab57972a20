"""``copy_thread`` in pages, never the whole thread through Lua.

1. ``lg_copy_snapshot.lua`` copies the source's keys (head, index, writes, active
   segment, sealed segments) inside the source's slot, under keys of this copy
   (``keys.copy_keys``), so a ``put`` on the source meanwhile is in the copy whole or
   not at all. ``COPY`` runs in C.
2. The snapshot is read in pages (``HSCAN``, ``ZRANGE``), and each page is written
   with ``lg_copy_stage.lua`` into keys of this copy in the target's slot. The two
   threads may sit on different cluster nodes, so the pages pass through the client.
3. ``lg_copy_commit.lua`` checks that the staged keys hold all the snapshot held,
   then unlinks the target's keys and renames the staged ones in their place, in one call.

If the copy stops half-way, the target is left as it was and the copy's keys are
unlinked (or, when the copy could not get that far, cancelled say, expire after
``STAGING_TTL_MS``). The snapshot costs the source's memory again
until the copy ends.
"""
from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, Sequence, Tuple

from .. import keys as _keys
from ..errors import StorageError
from ..steps import Call, Emit, Steps, Stream, collect, command, evalsha, run

if TYPE_CHECKING:
    from ..engine import EngineBase as Engine

FIELDS_PER_PAGE = 200  # HSCAN's COUNT: a page holds about this many fields
MEMBERS_PER_PAGE = 1000
STAGING_TTL_MS = 3_600_000  # a copy's own keys outlive a copy that stopped by an hour
OP = "copy_thread"


def copy_thread(engine: "Engine", source_id: str, source: _keys.GraphKeys, target_id: str,
                target: _keys.GraphKeys) -> Steps[None]:
    """Make ``target`` a copy of ``source``; nothing when ``source`` is empty."""
    scripts = engine.scripts
    # two tokens: a thread copied onto itself stages beside its snapshot
    token, stage_token = secrets.token_hex(8), secrets.token_hex(8)
    first, end = yield from _range(source_id, source)
    snapshot: Tuple[str, ...] = ()
    staged: Tuple[str, ...] = ()
    try:
        while True:
            keys = (*source, *source.segments(first, end))
            snapshot = _keys.copy_keys(keys, token)
            counts = yield from run(OP, source_id, scripts.lg_copy_snapshot, (*keys, *snapshot),
                                    (first, end, STAGING_TTL_MS))
            if counts[0] != -1:
                break
            yield from _discard(source_id, snapshot)
            first, end = (int(n) for n in counts[1:3])
        if not counts[1]:
            yield from _discard(source_id, snapshot)
            return  # no checkpoint to copy: the target is left as it was
        staged = _keys.copy_keys((*target, *target.segments(first, end)), stage_token)
        for snap, stage in zip(snapshot, staged):
            for kind, page in (yield from collect(_pages(source_id, source.head, snap))):
                yield from run(OP, target_id, scripts.lg_copy_stage, (stage,), (kind, STAGING_TTL_MS, *page))
        opts = engine.options
        mark = _keys.copy_mark(target, stage_token)
        t_first, t_end = yield from _range(target_id, target)
        while True:
            names = target.segments(first, end)
            keys = (*target, *target.segments(t_first, t_end), *staged, *names, mark)
            args = (t_first, t_end, first, end, opts.ttl_ms, opts.policy.replay_window_ms,
                    "1" if opts.min_replicas else "", *counts)
            (reply,), acked = yield Call(OP, target_id, target.head, (evalsha(
                scripts.lg_copy_commit, keys, args),), (scripts.lg_copy_commit,), durable=True)
            if not (isinstance(reply, list) and reply[0] == -1):
                break
            t_first, t_end = (int(n) for n in reply[1:3])
        engine.require_replicas(acked, OP, target_id)
    except Exception:
        yield from _clean(source_id, snapshot, target_id, staged, target, stage_token)
        raise
    yield from _clean(source_id, snapshot, target_id, staged, target, stage_token)


def _clean(source_id: str, snapshot: Sequence[str], target_id: str, staged: Sequence[str],
           target: _keys.GraphKeys, stage_token: str) -> Steps[None]:
    """Unlink the copy's own keys; the mark too, as no replay of the commit can follow."""
    yield from _discard(source_id, snapshot)
    yield from _discard(target_id, staged)
    if staged:
        yield from _discard(target_id, (_keys.copy_mark(target, stage_token),))


def _range(thread_id: str, keys: _keys.GraphKeys) -> Steps[Tuple[int, int]]:
    first, end = yield from command(OP, thread_id, keys.head, "HMGET", keys.head, "s0", "sn")
    return int(first or 0), int(end or 0)


def _pages(thread_id: str, route: str, key: str) -> Stream:
    """The snapshot key ``key``, a page at a time: ``("hash", [field, value, ...])`` or
    ``("zset", [member, ...])``. The snapshot does not change, so HSCAN returns every field."""
    kind = yield from command(OP, thread_id, route, "TYPE", key)
    if kind in (b"hash", "hash"):
        cursor: Any = 0
        while True:
            cursor, found = yield from command(OP, thread_id, route, "HSCAN", key, cursor, "COUNT", FIELDS_PER_PAGE)
            if found:
                pairs = list(found) if isinstance(found, list) else [p for kv in found.items() for p in kv]
                yield Emit(("hash", pairs))
            if int(cursor) == 0:
                return
    elif kind in (b"zset", "zset"):
        start = 0
        while True:
            members = yield from command(OP, thread_id, route, "ZRANGE", key, start, start + MEMBERS_PER_PAGE - 1)
            if members:
                yield Emit(("zset", list(members)))
            if len(members) < MEMBERS_PER_PAGE:
                return
            start += MEMBERS_PER_PAGE


def _discard(thread_id: str, keys: Sequence[str]) -> Steps[None]:
    """Unlink a copy's own keys; if that fails, they expire."""
    if not keys:
        return
    try:
        yield from command(OP, thread_id, keys[0], "UNLINK", *keys)
    except StorageError:
        pass
