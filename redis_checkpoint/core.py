"""The core operations: what each sends, and how its reply is read, written once as
steps (``steps.py``) that ``Engine.drive`` and ``AsyncEngine.drive`` run.

``RedisCheckpointer`` and ``AsyncRedisCheckpointer`` are thin shells over these; the
command line's import runs :func:`save` too, for whether a checkpoint was written.
"""
from __future__ import annotations

from typing import Any, List, Mapping, Optional, Tuple

from . import telemetry
from .base import ANY, Checkpoint, CheckpointMetadata
from .engine import EngineBase as Engine
from .errors import (
    CheckpointNotFoundError,
    ConflictError,
    CorruptCheckpointError,
    SerializationError,
    StateTooLargeError,
    StateVersionError,
    check_int,
)
from .ids import new_id, validate_id
from .records import decode_id, decode_metadata, describe, encode_metadata, metadata_of, parse_record
from .segments import follow_up, sealed_state, unlink_thread
from .steps import Call, Steps, command, evalsha, run
from .types import UnknownTypeError

PAGE = 1000  # list() reads long histories in pages of this many entries
#: States up to this many bytes go to save.lua as an argument; larger ones are written by
#: an HSET in the same transaction, so Redis does not copy them through Lua.
INLINE_MAX = 8192


def save(
    engine: Engine, thread_id: str, state: Any, metadata: Optional[Mapping[str, Any]], expected_id: Any,
    checkpoint_id: Optional[str], version: Optional[int] = None,
) -> Steps[Tuple[CheckpointMetadata, bool]]:
    """``RedisCheckpointer.save``, and whether this call wrote the checkpoint: ``False``
    when the id was already stored, a re-sent attempt finding the first one's write included.

    The state goes to the active segment under a field of this call's own, and
    ``save.lua`` points the thread at it, or deletes it (``docs/design.md``, "A save").
    Everything is checked and encoded here, before the steps run (and anything is sent).
    ``version``: the state version to record instead of the engine's (an import keeps each
    checkpoint's own).
    """
    opts = engine.options
    keys = engine.thread_keys(thread_id)
    try:
        meta, meta_blob = encode_metadata(opts.meta_codec, metadata,
                                          opts.state_version if version is None else version)
        blob = opts.codec.encode(state)
    except (SerializationError, StateTooLargeError) as exc:
        exc.thread_id, exc.operation = thread_id, "save"
        raise
    if checkpoint_id is None:
        cid = field = new_id()
    else:
        cid, field = validate_id(checkpoint_id), new_id()
    if expected_id is ANY:
        expected = ""
    elif expected_id is None:
        expected = " "
    else:
        expected = validate_id(expected_id, "expected_id")
    args = (cid, field, len(blob), expected, meta_blob, engine.save_options)
    observed = telemetry.current()
    if observed is not None:
        observed.state_bytes, observed.stored_bytes = opts.codec.body_size(blob), len(blob)
    return _save(engine, keys, thread_id, args, blob, meta, expected_id)


def _save(engine: Engine, keys: Any, thread_id: str, args: Tuple[Any, ...], blob: bytes, meta: Any,
          expected_id: Any) -> Steps[Tuple[CheckpointMetadata, bool]]:
    opts, field, script = engine.options, args[1], engine.scripts.save
    if len(blob) <= INLINE_MAX:  # it also becomes the head's "state", which loads read
        (reply,), acked = yield Call("save", thread_id, keys.head, (evalsha(script, keys, (*args, blob)),),
                                     (script,), durable=True)
    else:
        body = (("HSET", keys.active, field, blob), evalsha(script, keys, args))
        (_, reply), acked = yield Call("save", thread_id, keys.head, body, (script,), transaction=True,
                                       durable=True)
    if isinstance(reply, bytes):  # saved, with nothing more to do
        saved = describe(opts.meta_codec, thread_id, reply, meta)
    else:
        status = reply[0]
        if status == -1:
            raise ConflictError(thread_id, expected_id, decode_id(reply[1], thread_id) if reply[1] else None)
        saved = describe(opts.meta_codec, thread_id, reply[1], meta if status == 1 else None)
        if len(reply) > 2:
            yield from follow_up(engine, keys, reply[2:], thread_id)
        if status == 0:
            engine.require_replicas(acked, "save", thread_id, saved)
            return saved, False
    engine.require_replicas(acked, "save", thread_id, saved)
    return saved, True


def load(engine: Engine, thread_id: str, checkpoint_id: Optional[str]) -> Steps[Optional[Checkpoint]]:
    found = yield from fetch(engine, thread_id, checkpoint_id)
    if found is None:
        return None
    record, blob = found
    opts = engine.options
    observed = telemetry.current()
    if observed is not None:
        observed.stored_bytes = len(blob)
    meta = decode_metadata(opts.meta_codec, record.metadata, thread_id, record.id)
    current = opts.state_version
    if current is not None and (record.version > current or (record.version < current and opts.upgrade is None)):
        raise StateVersionError(record.version, current, thread_id=thread_id, checkpoint_id=record.id)
    try:
        state = opts.codec.decode(blob)
    except CorruptCheckpointError as exc:
        raise CorruptCheckpointError(str(exc), thread_id=thread_id, checkpoint_id=record.id) from exc
    except StateTooLargeError as exc:
        raise StateTooLargeError(exc.size, exc.limit, thread_id=thread_id, checkpoint_id=record.id,
                                 operation="load") from None
    except UnknownTypeError as exc:
        exc.thread_id, exc.operation = thread_id, "load"
        raise
    if current is not None and record.version < current:
        state = opts.upgrade(state, record.version)  # type: ignore[misc]  # the caller saves it, or not
    return Checkpoint(record.id, thread_id, record.parent_id, record.created_at, meta, state, record.version)


def fetch(engine: Engine, thread_id: str, checkpoint_id: Optional[str]) -> Steps[Optional[Tuple[Any, bytes]]]:
    """``(record, framed state)`` of a checkpoint, or ``None``.

    The latest is one plain ``HMGET`` of the head when its state was saved inline, and
    one more plain ``HGET`` of its segment when it was not (a script would copy the
    large state through Lua). Others go through ``load.lua``, plus one ``HGET`` when
    the state is in a sealed segment.
    """
    opts = engine.options
    keys = engine.thread_keys(thread_id)
    cid = "" if checkpoint_id is None else validate_id(checkpoint_id)
    scripts = engine.scripts
    if opts.refresh_ttl_on_read and opts.ttl_ms:
        reply = yield from run("load", thread_id, scripts.load_touch, keys, (cid, opts.ttl_ms))
    elif not cid:
        rec, state, active = yield from command("load", thread_id, keys.head, "HMGET", keys.head, "rec", "state", "sn")
        if rec is None:
            return None
        record = parse_record(rec, thread_id)
        if state is None and record.segment is not None:
            where = keys.active if record.segment == int(active or 0) else keys.sealed(record.segment)
            state = yield from command("load", thread_id, keys.head, "HGET", where, record.field)
        if state is not None:
            return record, state
        # sealed, or trimmed after newer saves, between the two reads: ask in one call
        reply = yield from run("load", thread_id, scripts.load, keys, ("",))
    else:
        reply = yield from run("load", thread_id, scripts.load, keys, (cid,))
    if reply is None or reply[0] is None:
        return None
    record = parse_record(reply[0], thread_id)
    blob = reply[1]
    if len(reply) > 2:
        yield from follow_up(engine, keys, reply[2:], thread_id)
    if blob is None:
        blob = yield from sealed_state("load", thread_id, keys, record.segment, record.field)
        if blob is None:
            return None
    return record, blob


def history(engine: Engine, thread_id: str, limit: Optional[int],
            before: Optional[str]) -> Steps[List[CheckpointMetadata]]:
    """``RedisCheckpointer.list``. A page from the newest is one plain ``ZRANGE`` of the
    history; longer listings go on from the last commit number read, ``PAGE`` at a time,
    and ``before`` goes through ``list.lua`` (the commit number of an id, then a page)."""
    keys = engine.thread_keys(thread_id)
    check_int("limit", limit, 0, optional=True)
    cursor = None if before is None else validate_id(before, "before")
    codec = engine.options.meta_codec
    if limit == 0:
        return []
    if cursor is None and limit is not None and limit <= PAGE:
        records = yield from command("list", thread_id, keys.head, "ZRANGE", keys.history, 0, limit - 1, "REV")
        return metadata_of(codec, thread_id, records)
    out: List[CheckpointMetadata] = []
    top: Any = "+inf"
    while limit is None or len(out) < limit:
        page = PAGE if limit is None else min(PAGE, limit - len(out))
        if cursor is not None:
            reply = yield from run("list", thread_id, engine.scripts.list, (keys.head, keys.history), (cursor, page))
            if reply is None:
                raise CheckpointNotFoundError(thread_id, cursor, "list")
            cursor = None
        else:
            reply = yield from command("list", thread_id, keys.head, "ZRANGE", keys.history, top, "-inf", "BYSCORE",
                                       "REV", "LIMIT", 0, page, "WITHSCORES")
        records = reply[0::2] if reply and not isinstance(reply[0], list) else [pair[0] for pair in reply]
        out.extend(metadata_of(codec, thread_id, records))
        if len(records) < page:
            break
        last = reply[-1] if not isinstance(reply[0], list) else reply[-1][1]
        top = f"({int(float(last))}"
    return out


def delete(engine: Engine, thread_id: str, current: str = "") -> Steps[bool]:
    """Delete the thread (only while ``current`` is its current checkpoint, when given);
    whether anything was deleted."""
    keys = engine.thread_keys(thread_id)
    held, unlinked = yield from unlink_thread(engine, "delete_thread", thread_id, keys, current)
    return held and unlinked > 0


def prune(engine: Engine, thread_id: str, keep: int) -> Steps[int]:
    """Remove all but the newest ``keep`` checkpoints; how many went. Each call removes a
    bounded number, so a long history takes several (Redis serves others in between)."""
    check_int("keep", keep, 1)
    keys = engine.thread_keys(thread_id)
    total = 0
    while True:
        reply = yield from run("prune", thread_id, engine.scripts.prune, keys,
                               (keep, engine.options.policy.replay_window_ms))
        total += int(reply[0])
        if len(reply) > 2:
            yield from follow_up(engine, keys, reply[2:], thread_id)
        if not reply[1]:
            return total
