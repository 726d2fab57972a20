"""``export`` and ``import``: threads as one self-describing CBOR stream.

The file is a CBOR sequence (RFC 8742) that opens with the self-describe tag:

1. a header map: ``{"format": "redis-checkpoint-export", "version": 1}``;
2. one map per thread: ``{"thread": id, "checkpoints": [...]}``, oldest first, each
   ``{"id", "parent_id", "created_at", "metadata", "state"}``;
3. a trailer map: ``{"end": <number of threads>}``, so a truncated file is detected.

Import reads the whole file once before it writes, so a file that is cut short
or malformed anywhere, or that holds a checkpoint the target would refuse (over
its ``max_state_size``, or breaking the rules for large states), writes
nothing. It then saves every checkpoint in order under its own id: importing
twice, or into a thread that already has those ids, writes nothing new. Ids,
order, metadata and state are kept; ``created_at`` and ``parent_id`` are
decided again by the target at commit time (they are in the file for
reference). A checkpoint the thread no longer knows (retention removed it more
than ``retry_budget`` + 60 s ago) is saved again, as the newest.
"""
from __future__ import annotations

from typing import IO, Any, Callable, Dict, Iterator, List, Tuple

import cbor2

from . import core
from .base import ANY
from .errors import SerializationError, StateTooLargeError, check_int
from .ids import validate_id
from .keys import validate_thread_id
from .records import encode_metadata
from .store import RedisCheckpointer

FORMAT = "redis-checkpoint-export"
VERSION = 1
SELF_DESCRIBE = b"\xd9\xd9\xf7"


Entry = Tuple[str, Any, Any, int]  # checkpoint id, state, metadata, state version


class ImportFormatError(ValueError):
    """The file is not an export this version can read."""



def export(cp: RedisCheckpointer, match: str, out: IO[bytes], on_thread: Callable[[int], None]) -> Tuple[int, int]:
    """Write every thread matching ``match``; returns (threads, checkpoints)."""
    out.write(SELF_DESCRIBE)
    cbor2.dump({"format": FORMAT, "version": VERSION}, out)
    threads = checkpoints = 0
    for thread_id in cp.threads(match):
        items = []
        for meta in reversed(cp.list(thread_id)):
            found = cp.load(thread_id, meta.id)
            if found is None:  # expired or trimmed meanwhile
                continue
            items.append({
                "id": found.id, "parent_id": found.parent_id, "created_at": found.created_at,
                "metadata": found.metadata, "state": found.state, "version": found.version,
            })
        if not items:
            continue
        cp.engine.options.codec.dump({"thread": thread_id, "checkpoints": items}, out)
        threads += 1
        checkpoints += len(items)
        on_thread(threads)
    cbor2.dump({"end": threads}, out)
    return threads, checkpoints


#: The levels an entry wraps each state in (thread map, checkpoints list, checkpoint
#: map): a state as deep as a save allows must come back from its export.
WRAPPING = 3


def _items(source: IO[bytes], limits: Dict[str, Any]) -> Iterator[Any]:
    decoder = cbor2.CBORDecoder(source, **limits)
    while True:
        try:
            yield decoder.decode()
        except cbor2.CBORDecodeEOF:
            return


def _checked(item: Any, n: int) -> Tuple[str, List[Entry]]:
    """One thread entry as ``(thread id, [(id, state, metadata), ...])``, or ``ImportFormatError``."""
    if not isinstance(item, dict):
        raise ImportFormatError(f"entry {n} is a {type(item).__name__}, not a thread map")
    where = f"thread entry {n} ({item.get('thread')!r:.60})"
    cks = item.get("checkpoints", [])
    if not isinstance(cks, list):
        raise ImportFormatError(f"{where}: 'checkpoints' is not a list")
    out = []
    try:
        thread = validate_thread_id(item.get("thread"), "thread")
        for i, ck in enumerate(cks):
            if not isinstance(ck, dict) or "id" not in ck or "state" not in ck:
                raise ValueError(f"checkpoint {i} is not a map with 'id' and 'state'")
            version = ck.get("version", 0)
            check_int(f"checkpoint {i} version", version, 0)
            out.append((validate_id(ck["id"], f"checkpoint {i} id"), ck["state"], ck.get("metadata") or None,
                        version))
    except (TypeError, ValueError) as exc:
        raise ImportFormatError(f"{where}: {exc}") from None
    return thread, out


def _threads(source: IO[bytes], limits: Dict[str, Any]) -> Iterator[Tuple[str, List[Entry]]]:
    """The checked thread entries of an export, then ``ImportFormatError`` if it is cut short."""
    if source.read(3) != SELF_DESCRIBE:
        raise ImportFormatError("not a redis-checkpoint export (no CBOR self-describe tag)")
    items = _items(source, limits)
    try:
        header = next(items)
    except (StopIteration, cbor2.CBORDecodeError) as exc:
        raise ImportFormatError(f"unreadable header: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
        raise ImportFormatError(f"not a version {VERSION} redis-checkpoint export: {header!r:.80}")
    n = 0
    try:
        for item in items:
            if isinstance(item, dict) and "end" in item:
                if item["end"] != n:
                    raise ImportFormatError(f"trailer says {item['end']} threads, read {n}")
                return
            n += 1
            yield _checked(item, n)
    except cbor2.CBORDecodeError as exc:
        raise ImportFormatError(f"corrupt after {n} threads: {exc}") from None
    raise ImportFormatError(f"truncated: no trailer after {n} threads")


def _check_savable(cp: RedisCheckpointer, n: int, thread: str, cks: List[Entry]) -> None:
    """Encode each state and metadata as ``save`` will (metadata a map with str keys, the
    size limit, the rules for large states), so that a checkpoint the target would refuse
    stops the import before it writes."""
    for i, (_cid, state, metadata, _version) in enumerate(cks):
        try:
            cp.engine.options.codec.encode(state)
            encode_metadata(cp.engine.options.meta_codec, metadata)
        except (SerializationError, StateTooLargeError, TypeError) as exc:
            raise ImportFormatError(f"thread entry {n} ({thread!r:.60}): checkpoint {i}: {exc}") from None


def import_(
    cp: RedisCheckpointer, source: IO[bytes], on_thread: Callable[[int], None]
) -> Tuple[int, int, int]:
    """Save every checkpoint of the file, in order, under its id.

    Returns (threads, checkpoints, written): the file's threads and checkpoints,
    and how many of those checkpoints this import wrote. The others were already
    stored under their ids, or were written by an attempt whose reply was lost.

    A file (anything seekable) is read through once first, so one that is cut
    short or malformed anywhere writes nothing. A pipe is checked one thread
    entry at a time: what came before a bad entry is saved.
    """
    seekable = source.seekable()
    limits = cp.engine.options.codec.decoder_limits(WRAPPING)
    if seekable:
        start = source.tell()
        for n, (thread, cks) in enumerate(_threads(source, limits), 1):
            _check_savable(cp, n, thread, cks)
        source.seek(start)
    threads = checkpoints = written = 0
    for thread, cks in _threads(source, limits):
        if not seekable:  # a pipe: each entry before its first write
            _check_savable(cp, threads + 1, thread, cks)
        for cid, state, metadata, version in cks:  # each keeps the state version it was saved with
            written += cp.engine.drive(core.save(cp.engine, thread, state, metadata, ANY, cid, version))[1]
            checkpoints += 1
        threads += 1
        on_thread(threads)
    return threads, checkpoints, written
