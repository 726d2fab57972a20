"""Checkpoints read back from the ``lg_*.lua`` reads, checked for shape before ``serde`` sees them.

Per checkpoint a reply holds: its id, its record, ``n``, ``n`` (field, value blob)
pairs, ``k``, ``k`` write blobs; or, for a checkpoint kept in another segment than
the one read, its id and that segment's number (:class:`Elsewhere`). A value blob
the reply already holds for an earlier checkpoint comes as the integer 0: it is
decoded once per reply, and ``serde`` still loads it once per checkpoint, so no
two tuples share an object.
The script decides that layout; what the blobs hold is stored data, untrusted
(``SECURITY.md``). A blob of the wrong shape raises :class:`CorruptCheckpointError`
naming the thread and checkpoint, never a ``KeyError`` or an unpacking
``ValueError`` from deep in the saver.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from ..codec import Codec
from ..errors import CorruptCheckpointError
from ..records import decode_id

SEP = "\0"
Typed = Tuple[str, bytes]  # what serde.dumps_typed returns and loads_typed takes


@dataclass(frozen=True)
class Entry:
    checkpoint_id: str
    checkpoint: Typed
    metadata: Typed
    parent_id: Optional[str]
    values: List[Tuple[str, Typed]]  # (channel, value), empty channels left out
    writes: List[Tuple[str, str, Typed]]  # (task id, channel, value)


class Elsewhere(NamedTuple):
    """A checkpoint the reply names but holds not: it is in sealed segment ``segment``."""

    checkpoint_id: str
    segment: int


def entries(codec: Codec, thread_id: str, reply: Sequence[Any]) -> Iterator[Union[Entry, Elsewhere]]:
    seen: Dict[bytes, Typed] = {}  # value blobs decoded so far in this reply, by field
    i = 0
    while i < len(reply):
        cid = decode_id(reply[i], thread_id)
        if isinstance(reply[i + 1], int):
            yield Elsewhere(cid, reply[i + 1])
            i += 2
            continue
        record, n = reply[i + 1], int(reply[i + 2])
        blobs = reply[i + 3 : i + 3 + 2 * n]
        i += 3 + 2 * n
        k = int(reply[i])
        writes = reply[i + 1 : i + 1 + k]
        i += 1 + k
        try:
            entry = _entry(codec, cid, record, blobs, writes, seen)
        except (CorruptCheckpointError, ValueError, TypeError, KeyError) as exc:
            raise CorruptCheckpointError(
                f"bad entry: {exc}", thread_id=thread_id, checkpoint_id=cid
            ) from exc
        yield entry


def _entry(codec: Codec, cid: str, record_blob: bytes, blobs: Sequence[Any], writes: Sequence[bytes],
           seen: Dict[bytes, Typed]) -> Entry:
    record = codec.decode(record_blob)
    if not isinstance(record, dict):
        raise TypeError("record is not a map")
    parent = record["parent"]
    if parent is not None and not isinstance(parent, str):
        raise TypeError("parent is not text")
    values = []
    for field, blob in zip(blobs[::2], blobs[1::2]):
        if isinstance(blob, int):  # sent once for an earlier checkpoint of this reply
            if field not in seen:
                raise ValueError(f"value field {field[:64]!r} refers to no earlier value")
            value = seen[field]
        else:
            value = seen[field] = _typed(codec.decode(blob))
        if value[0] != "empty":
            parts = field.decode().split(SEP)  # b:<ns> SEP <channel> SEP <version>
            if len(parts) != 3:
                raise ValueError(f"bad value field {field[:64]!r}")
            values.append((parts[1], value))
    pending = []
    for blob in writes:
        write = codec.decode(blob)  # [task id, channel, type, bytes, task path]
        if not (isinstance(write, list) and len(write) == 5 and isinstance(write[0], str)
                and isinstance(write[1], str)):
            raise TypeError("write is not [task id, channel, type, bytes, path]")
        pending.append((write[0], write[1], _typed(write[2:4])))
    return Entry(cid, _typed(record["checkpoint"]), _typed(record["metadata"]), parent, values, pending)


def _typed(value: Any) -> Typed:
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], bytes)):
        raise TypeError("not a [type, bytes] pair")
    return value[0], value[1]
