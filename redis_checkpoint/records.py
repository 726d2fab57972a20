"""The per-checkpoint record, and the user metadata inside it.

``save.lua`` writes the record as ``"<id>\\n<segment>\\n<field>\\n<state bytes>\\n<seconds>
<microseconds>\\n<parent id>\\n<framed metadata>"``: the checkpoint's id; where its
state is (a segment number and a field in it, empty when the field is the id, or ``h``:
only in the thread's head); its size; the commit time as Redis ``TIME`` gave it and the
parent Redis found current; then ``v<state version>\n`` when the checkpointer has a
``state_version`` (none: version 0), and the caller's metadata in the codec's frame
(or nothing). A frame starts with ``R``, so the two cannot be confused.
"""
from __future__ import annotations

import datetime
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from .base import CheckpointMetadata
from .codec import Codec
from .errors import CorruptCheckpointError, StateTooLargeError

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class Record(NamedTuple):
    id: str
    segment: Optional[int]  # None: the state is only in the head
    field: bytes
    size: int
    created_at: datetime.datetime
    parent_id: Optional[str]
    metadata: bytes  # framed
    version: int = 0


def parse_record(rec: bytes, thread_id: str) -> Record:
    """A stored record, or :class:`CorruptCheckpointError` naming the thread (and the
    checkpoint, when its id can be read). int() refuses numbers over 4300 digits, so
    this stays cheap."""
    cid = None
    try:
        raw_id, rest = rec.split(b"\n", 1)
        cid = raw_id.decode()
        segment, field, size, created, parent, meta = rest.split(b"\n", 5)
        seconds, micros = created.split(b" ")  # Redis TIME: seconds, then microseconds
        created_at = _EPOCH + datetime.timedelta(seconds=int(seconds), microseconds=int(micros))
        version = 0
        if meta[:1] == b"v":
            number, meta = meta[1:].split(b"\n", 1)
            version = int(number)
        return Record(cid, None if segment == b"h" else int(segment), field or raw_id, int(size), created_at,
                      parent.decode() if parent else None, meta, version)
    except (ValueError, OverflowError) as exc:  # UnicodeDecodeError is a ValueError
        raise CorruptCheckpointError(
            f"bad record: {type(exc).__name__}: {exc}", thread_id=thread_id, checkpoint_id=cid
        ) from exc


def decode_id(raw: bytes, thread_id: str) -> str:
    """A checkpoint id read from Redis; :class:`CorruptCheckpointError` if it is not UTF-8."""
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        raise CorruptCheckpointError(f"checkpoint id {raw[:64]!r} is not UTF-8", thread_id=thread_id) from exc


def encode_metadata(codec: Codec, metadata: Optional[Mapping[str, Any]],
                    version: Optional[int] = None) -> Tuple[Dict[str, Any], bytes]:
    """``(metadata as a dict, the record's bytes for it)``, the state's ``version`` in front
    when there is one; raises ``TypeError`` naming ``metadata``."""
    meta, framed = _encode_metadata(codec, metadata)
    return meta, (b"v%d\n" % version + framed if version else framed)


def _encode_metadata(codec: Codec, metadata: Optional[Mapping[str, Any]]) -> Tuple[Dict[str, Any], bytes]:
    if metadata is None:
        return {}, b""
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping, not {type(metadata).__name__}")
    meta = dict(metadata)
    for k in meta:
        if not isinstance(k, str):
            raise TypeError(f"metadata keys must be str, got {type(k).__name__} {k!r}")
    return meta, (codec.encode(meta, "metadata") if meta else b"")


def decode_metadata(codec: Codec, blob: bytes, thread_id: str, checkpoint_id: str) -> Dict[str, Any]:
    if not blob:
        return {}
    try:
        meta = codec.decode(blob)
    except CorruptCheckpointError as exc:
        raise CorruptCheckpointError(
            f"metadata: {exc}", thread_id=thread_id, checkpoint_id=checkpoint_id
        ) from exc
    except StateTooLargeError as exc:
        raise StateTooLargeError(exc.size, exc.limit, what="metadata", thread_id=thread_id,
                                 checkpoint_id=checkpoint_id, operation="load") from None
    if not isinstance(meta, dict):
        raise CorruptCheckpointError("metadata is not a map", thread_id=thread_id, checkpoint_id=checkpoint_id)
    return meta


def describe(codec: Codec, thread_id: str, rec: bytes, metadata: Optional[Dict[str, Any]] = None
             ) -> CheckpointMetadata:
    """The :class:`CheckpointMetadata` a stored record describes (``metadata``, when the
    caller already has it decoded)."""
    r = parse_record(rec, thread_id)
    if metadata is None:
        metadata = decode_metadata(codec, r.metadata, thread_id, r.id)
    return CheckpointMetadata(r.id, thread_id, r.parent_id, r.created_at, metadata, r.size, r.version)


def metadata_of(codec: Codec, thread_id: str, records: Sequence[bytes]) -> List[CheckpointMetadata]:
    """Records as read from Redis (``list.lua``), decoded."""
    return [describe(codec, thread_id, rec) for rec in records]
