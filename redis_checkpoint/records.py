"""The per-checkpoint metadata record and the user metadata inside it.

``save.lua`` writes the record as ``"<created µs>\\n<state bytes>\\n<parent id>\\n<framed
metadata>"``: the first three fields are decided inside Redis at commit time,
the last is the caller's metadata in the codec's frame (or empty).
"""
from __future__ import annotations

import datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .base import CheckpointMetadata
from .codec import Codec
from .errors import CorruptCheckpointError

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def parse_record(
    rec: bytes, thread_id: str, checkpoint_id: str
) -> Tuple[datetime.datetime, int, Optional[str], bytes]:
    """``(created_at, size, parent_id, framed metadata)`` of a stored record.

    Raises :class:`CorruptCheckpointError` naming the checkpoint for bytes that are
    not a record (int() refuses numbers over 4300 digits, so this stays cheap).
    """
    try:
        created, size, parent, meta = rec.split(b"\n", 3)
        created_at = _EPOCH + datetime.timedelta(microseconds=int(created))
        return created_at, int(size), (parent.decode() if parent else None), meta
    except (ValueError, OverflowError) as exc:  # UnicodeDecodeError is a ValueError
        raise CorruptCheckpointError(
            f"bad record: {type(exc).__name__}: {exc}", thread_id=thread_id, checkpoint_id=checkpoint_id
        ) from exc


def decode_id(raw: bytes, thread_id: str) -> str:
    """A checkpoint id read from Redis; :class:`CorruptCheckpointError` if it is not UTF-8."""
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        raise CorruptCheckpointError(f"checkpoint id {raw[:64]!r} is not UTF-8", thread_id=thread_id) from exc


def encode_metadata(codec: Codec, metadata: Optional[Mapping[str, Any]]) -> Tuple[Dict[str, Any], bytes]:
    """``(metadata as a dict, framed bytes)``; raises ``TypeError`` naming ``metadata``."""
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
    if not isinstance(meta, dict):
        raise CorruptCheckpointError("metadata is not a map", thread_id=thread_id, checkpoint_id=checkpoint_id)
    return meta


def metadata_of(codec: Codec, thread_id: str, pairs: Sequence[bytes]) -> List[CheckpointMetadata]:
    """``[id1, record1, id2, record2, ...]`` as read from Redis (``list.lua``), decoded."""
    out = []
    for i in range(0, len(pairs), 2):
        cid = decode_id(pairs[i], thread_id)
        created, size, parent, meta_blob = parse_record(pairs[i + 1], thread_id, cid)
        meta = decode_metadata(codec, meta_blob, thread_id, cid)
        out.append(CheckpointMetadata(cid, thread_id, parent, created, meta, size))
    return out
