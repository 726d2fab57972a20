"""Payload codec: CBOR (cbor2), optionally snappy-compressed, in a versioned frame.

Frame layout (2 header bytes, then the payload)::

    byte 0   0x52 ("R"), the magic
    byte 1   high nibble: format version (1); low nibble: 0 = raw CBOR,
             1 = snappy (raw format) of CBOR
    byte 2-  payload

Every blob carries the header, so a checkpointer with ``compression=None``
reads compressed blobs and the reverse; switching needs no migration.

Decoding treats the bytes as untrusted (see ``docs/design.md``): the declared
snappy length is checked against ``max_state_size`` before anything is
allocated, CBOR is decoded without indefinite-length items or duplicate keys,
with a depth limit, and only the tags in :data:`ALLOWED_TAGS` are decoded, plus
``types.TYPE_TAG``: a value of a class registered with ``types=`` (``types.py``),
built only from the registered classes, from content decoded under the same limits.
A body over :data:`LOOSE_MAX` bytes is also decoded under :data:`STRICT_LIMITS`,
and ``encode`` checks such a body against them, so whatever saves also loads.
"""
from __future__ import annotations

import dataclasses
import email.message
import re
import reprlib
from typing import Any, Callable, Dict, Optional

import cbor2
import cramjam
import snappy

from .errors import CorruptCheckpointError, SerializationError, StateTooLargeError, check_int
from .types import TYPE_TAG, Registry, UnknownTypeError

MAGIC = 0x52
VERSION = 1
RAW = 0
SNAPPY = 1
_HEADERS = {RAW: bytes((MAGIC, VERSION << 4 | RAW)), SNAPPY: bytes((MAGIC, VERSION << 4 | SNAPPY))}

DEFAULT_MAX_STATE_SIZE = 64 * 1024 * 1024
MAX_DEPTH = 256

#: Tags decoded: those cbor2 writes for the supported standard-library types.
#: 0/1 datetime, 2/3 big integers, 4 Decimal, 30 Fraction, 37 UUID, 52/54 IPv4/IPv6
#: addresses, 100/1004 date, 258 set, 260/261 IP networks and interfaces.
ALLOWED_TAGS = frozenset({0, 1, 2, 3, 4, 30, 37, 52, 54, 100, 258, 260, 261, 1004})
#: Tags cbor2 6.x decodes by itself that we refuse: 5 bigfloat (a CPU bomb),
#: 25/256 string references, 28/29 shared and cyclic references, 35 regular
#: expressions, 36 MIME messages, 55799 the self-describe marker. Every other tag
#: is refused by the tag hook. ``tests/test_codec.py`` probes cbor2 so that a new
#: built-in tag fails a test instead of being decoded silently.
DENIED_BUILTIN_TAGS = frozenset({5, 25, 28, 29, 35, 36, 256, 55799})

_SUPPORTED = (
    "None, bool, int, float, str, bytes, list, tuple, dict, set, frozenset, "
    "timezone-aware datetime, date, Decimal, Fraction, UUID and ipaddress types"
)
# Header bytes of tags 35 (regex) and 36 (MIME): seeing one in an encoded body
# sends the value through the strict (and 3x slower) encoder, which refuses it.
_SUSPECT = (b"\xd8\x23", b"\xd8\x24")
# Every byte but the initial bytes of arrays (0x80-0x9F), maps (0xA0-0xBF) and tags
# (0xC0-0xDF): what is left of a body after deleting these bounds its nesting depth.
_NOT_NESTING = bytes(b for b in range(256) if not 0x80 <= b <= 0xDF)


def _suspect(body: bytes) -> bool:
    """Whether ``body`` holds a tag 35 or 36 header. 0xD8 is rare, and a one-byte find is
    memchr-fast where a two-byte search scans slowly: hop over the first few 0xD8s."""
    at = body.find(b"\xd8")
    for _ in range(32):
        if at < 0:
            return False
        if body[at + 1:at + 2] in (b"#", b"$"):
            return True
        at = body.find(b"\xd8", at + 1)
    return _SUSPECT[0] in body or _SUSPECT[1] in body


def _refuse_type(encoder: Any, value: Any) -> None:
    cls = type(value)
    raise TypeError(f"cannot store {cls.__name__} ({cls.__module__}.{cls.__qualname__}): register the class "
                    f"with types=[...] (dataclasses, Enums, NamedTuples, pydantic models); supported as they "
                    f"are: {_SUPPORTED}")


def _refuse_tag(value: Any, immutable: bool) -> Any:
    raise ValueError("CBOR tag not allowed")


def _bignum(value: Any, immutable: bool) -> int:
    """Tag 2 in a strict body: a big integer of at most :data:`MAX_BIGNUM_BYTES` bytes."""
    if not isinstance(value, bytes):
        raise ValueError("big integer content is not a byte string")
    if len(value) > MAX_BIGNUM_BYTES:
        raise ValueError(f"big integer of {len(value)} bytes, over {MAX_BIGNUM_BYTES * 8} bits")
    return int.from_bytes(value, "big")


def _negative_bignum(value: Any, immutable: bool) -> int:
    return -1 - _bignum(value, immutable)


def _unknown_tag(tag: Any, immutable: bool) -> Any:
    raise ValueError(f"CBOR tag {tag.tag} not allowed")


_STRICT_ENCODERS: Dict[type, Callable[[Any, Any], None]] = {
    re.Pattern: _refuse_type,
    email.message.Message: _refuse_type,
}
_DECODERS = {t: _refuse_tag for t in DENIED_BUILTIN_TAGS}
#: Keywords for cbor2's decoder: the limits every decode in the package uses.
DECODER_LIMITS: Dict[str, Any] = dict(
    max_depth=MAX_DEPTH,
    allow_indefinite=False,
    allow_duplicate_keys=False,
    semantic_decoders=_DECODERS,
    tag_hook=_unknown_tag,
)
#: CBOR bodies up to this many bytes decode under DECODER_LIMITS alone. Larger ones
#: also under STRICT_LIMITS, which close two ways to make decoding take time
#: quadratic in the body's size: map keys or set members whose hashes collide
#: (ints, tuples, Decimals and UUIDs hash predictably; str and bytes hashes are
#: salted per process), and Decimal or Fraction built from huge integers. Up to this
#: size the worst stays short (docs/design.md, "Large states").
LOOSE_MAX = 32 * 1024
#: Largest big integer (CBOR tags 2 and 3) in a strict body: 128 bytes, 1024 bits.
MAX_BIGNUM_BYTES = 128
STRICT_LIMITS: Dict[str, Any] = dict(
    DECODER_LIMITS,
    strict_hashable_types=True,  # map keys and set members: str or bytes only
    semantic_decoders={**_DECODERS, 2: _bignum, 3: _negative_bignum},
)


class Codec:
    """Encode and decode framed payloads. Immutable and thread-safe.

    Bodies over ``loose_max`` bytes of CBOR are decoded, and checked on encoding,
    under :data:`STRICT_LIMITS`; :meth:`strict` gives a codec that does so for
    every body (metadata, and blobs whose shape this package decides).
    """

    __slots__ = ("compression", "compression_threshold", "max_state_size", "loose_max", "types",
                 "_encoders", "_strict_encoders", "_limits", "_strict_limits")

    def __init__(
        self,
        compression: Optional[str] = "snappy",
        compression_threshold: int = 1024,
        max_state_size: int = DEFAULT_MAX_STATE_SIZE,
        loose_max: int = LOOSE_MAX,
        types: Optional[Registry] = None,
    ) -> None:
        if compression not in ("snappy", None):
            raise ValueError(f"compression must be 'snappy' or None, not {compression!r}")
        check_int("compression_threshold", compression_threshold, 0)
        check_int("max_state_size", max_state_size, 1)
        check_int("loose_max", loose_max, 0)
        self.compression = compression
        self.compression_threshold = compression_threshold
        self.max_state_size = max_state_size
        self.loose_max = loose_max
        self.types = types
        registry = types if types is not None else Registry()
        self._encoders = registry.encoders() or None
        self._strict_encoders = {**_STRICT_ENCODERS, **registry.encoders()}
        # TYPE_TAG is always decoded: without registered types it names the type it holds
        tagged = {TYPE_TAG: registry.decode}
        self._limits = dict(DECODER_LIMITS, semantic_decoders={**DECODER_LIMITS["semantic_decoders"], **tagged})
        self._strict_limits = dict(STRICT_LIMITS, semantic_decoders={**STRICT_LIMITS["semantic_decoders"], **tagged})

    def strict(self) -> "Codec":
        """This codec with :data:`STRICT_LIMITS` for bodies of every size."""
        return Codec(self.compression, self.compression_threshold, self.max_state_size, loose_max=0,
                     types=self.types)

    def encode(self, value: Any, what: str = "state") -> bytes:
        """CBOR-encode ``value`` and frame it. Raises :class:`SerializationError`."""
        try:
            if self._encoders is None:
                body = cbor2.dumps(value, default=_refuse_type)
            else:
                body = cbor2.dumps(value, encoders=self._encoders, default=_refuse_type)
            if _suspect(body):
                body = cbor2.dumps(value, encoders=self._strict_encoders, default=_refuse_type)
        except Exception as exc:  # cbor2 raises CBOREncodeError, TypeError, ValueError...
            raise SerializationError(f"{locate(value, what, self._strict_encoders)}: {_reason(exc)}") from exc
        if len(body) > self.max_state_size:
            raise StateTooLargeError(len(body), self.max_state_size, what=what)
        # It must load under the rules decode() will apply: decode it once when it might not.
        limits: Optional[Dict[str, Any]] = None
        if len(body) > self.loose_max:
            where = f" ({len(body)} bytes of CBOR, over {self.loose_max})" if self.loose_max else ""
            limits, rules = self._strict_limits, (
                f"{where}: dict keys and set members must be str or bytes, integers "
                f"at most {MAX_BIGNUM_BYTES * 8} bits, nesting at most {MAX_DEPTH} deep")
        elif len(body) > MAX_DEPTH and len(body.translate(None, _NOT_NESTING)) > MAX_DEPTH:
            # Every array, map and tag opens with one byte in 0x80-0xDF, so a body with
            # at most MAX_DEPTH such bytes cannot nest too deep for decode(), and counting
            # them is far cheaper than decoding.
            limits, rules = self._limits, (
                f" nests lists, dicts and sets more than {MAX_DEPTH} deep, which loading refuses")
        if limits is not None:
            try:
                cbor2.loads(body, **limits)
            except Exception as exc:
                raise SerializationError(f"{what}{rules}: {_reason(exc)}") from exc
        if self.compression is not None and len(body) >= self.compression_threshold:
            packed: bytes = snappy.compress(body)
            if len(packed) < len(body):
                return _HEADERS[SNAPPY] + packed
        return _HEADERS[RAW] + body

    def dump(self, value: Any, fp: Any) -> None:
        """Write ``value`` as CBOR to ``fp`` (no frame), registered types included."""
        cbor2.dump(value, fp, encoders=self._strict_encoders, default=_refuse_type)

    def decoder_limits(self, extra_depth: int = 0) -> Dict[str, Any]:
        """cbor2 decoder keywords with this codec's rules (registered types included),
        ``extra_depth`` more levels for what wraps a state (an export's entries)."""
        return dict(self._limits, max_depth=MAX_DEPTH + extra_depth)

    def body_size(self, blob: bytes) -> int:
        """Bytes of CBOR a frame holds, read from the frame without decompressing.

        For a snappy frame this is the length snappy declares up front, which
        ``decode`` checks before allocating anything. Raises
        :class:`CorruptCheckpointError` for a frame that is not ours.
        """
        if len(blob) < 2 or blob[0] != MAGIC or blob[1] >> 4 != VERSION:
            raise CorruptCheckpointError("not a redis-checkpoint frame (bad header)")
        kind = blob[1] & 0x0F
        if kind == RAW:
            return len(blob) - 2
        if kind != SNAPPY:
            raise CorruptCheckpointError(f"unknown compression {kind}")
        try:
            return int(cramjam.snappy.decompress_raw_len(blob[2:]))
        except Exception as exc:
            raise CorruptCheckpointError(f"cannot decode: {type(exc).__name__}: {exc}") from exc

    def decode(self, blob: bytes) -> Any:
        """Decode a framed blob. Raises :class:`CorruptCheckpointError` (no context)."""
        size = self.body_size(blob)
        compressed = blob[1] & 0x0F == SNAPPY
        if size > self.max_state_size:
            raise StateTooLargeError(size, self.max_state_size, operation="load")
        try:
            body = snappy.decompress(blob[2:]) if compressed else blob[2:]
            return cbor2.loads(body, **(self._limits if len(body) <= self.loose_max else self._strict_limits))
        except Exception as exc:  # any decoder failure is corruption, never a crash
            unknown = exc if isinstance(exc, UnknownTypeError) else exc.__cause__
            if isinstance(unknown, UnknownTypeError):  # not corrupt: a class this code did not register
                raise unknown from None
            raise CorruptCheckpointError(f"cannot decode: {type(exc).__name__}: {_reason(exc)}") from exc


def locate(value: Any, name: str, encoders: Optional[Dict[type, Any]] = None) -> str:
    """Where in ``value`` (called ``name``) the first part that cannot be encoded is, as
    Python would index it: ``state['a'][1]['b']``. Used only once encoding has failed,
    so trying each part on its own costs nothing on the way that works."""
    path = name
    for _ in range(32):  # a path deeper than this, or around a cycle, ends in "..."
        if isinstance(value, dict):
            parts = [(f" (a key: {reprlib.repr(k)})", k) for k in value]
            parts += [(f"[{reprlib.repr(k)}]", v) for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            parts = [(f"[{i}]", v) for i, v in enumerate(value)]
        elif isinstance(value, (set, frozenset)):
            parts = [(" (a member)", v) for v in value]
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            parts = [(f".{f.name}", getattr(value, f.name)) for f in dataclasses.fields(value)]
        elif hasattr(type(value), "model_fields"):  # a pydantic model
            parts = [(f".{n}", getattr(value, n)) for n in type(value).model_fields]
        else:
            return path
        for step, part in parts:
            try:
                cbor2.dumps(part, encoders=encoders or _STRICT_ENCODERS, default=_refuse_type)
            except Exception:
                path, value = path + step, part
                break
        else:
            return path  # each part encodes alone: the whole is at fault (too deep, say)
    return path + "..."


def _reason(exc: BaseException) -> str:
    """cbor2's message, with the message of what it wraps (a semantic decoder's error)."""
    cause = exc.__cause__
    return f"{exc} ({cause})" if cause is not None else str(exc)
