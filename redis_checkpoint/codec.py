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
with a depth limit, and only the tags in :data:`ALLOWED_TAGS` are decoded.
"""
from __future__ import annotations

import email.message
import fractions
import ipaddress
import re
from typing import Any, Callable, Dict, Optional

import cbor2
import cramjam
import snappy

from .errors import CorruptCheckpointError, SerializationError

MAGIC = 0x52
VERSION = 1
RAW = 0
SNAPPY = 1
_HEADERS = {RAW: bytes((MAGIC, VERSION << 4 | RAW)), SNAPPY: bytes((MAGIC, VERSION << 4 | SNAPPY))}

DEFAULT_MAX_STATE_SIZE = 64 * 1024 * 1024
MAX_DEPTH = 256

#: Tags the encoder writes for the supported types, and the only ones decoded:
#: 0/1 datetime, 2/3 big integers, 4 Decimal, 37 UUID, 100/1004 date, 258 set.
ALLOWED_TAGS = frozenset({0, 1, 2, 3, 4, 37, 100, 258, 1004})
#: Tags cbor2 6.x decodes by itself that we refuse (bigfloat, string and value
#: references, rationals, regex, MIME, IP addresses, self-describe marker).
#: ``tests/test_codec.py`` probes cbor2 so that a new built-in tag fails a test.
DENIED_BUILTIN_TAGS = frozenset({5, 25, 28, 29, 30, 35, 36, 52, 54, 256, 260, 261, 55799})

_SUPPORTED = (
    "None, bool, int, float, str, bytes, list, tuple, dict, set, frozenset, "
    "timezone-aware datetime, date, Decimal and UUID"
)


def _refuse_type(encoder: Any, value: Any) -> None:
    raise TypeError(f"cannot store {type(value).__name__}; supported: {_SUPPORTED}")


def _refuse_tag(decoder: Any) -> Any:
    raise ValueError("CBOR tag not allowed")


def _unknown_tag(tag: Any, immutable: bool) -> Any:
    raise ValueError(f"CBOR tag {tag.tag} not allowed")


_ENCODERS: Dict[type, Callable[[Any, Any], None]] = {
    t: _refuse_type
    for t in (
        fractions.Fraction,
        re.Pattern,
        email.message.Message,
        ipaddress.IPv4Address,
        ipaddress.IPv6Address,
        ipaddress.IPv4Network,
        ipaddress.IPv6Network,
        ipaddress.IPv4Interface,
        ipaddress.IPv6Interface,
        cbor2.CBORTag,
        cbor2.CBORSimpleValue,
        type(cbor2.undefined),
    )
}
_DECODERS = {t: _refuse_tag for t in DENIED_BUILTIN_TAGS}


class Codec:
    """Encode and decode framed payloads. Immutable and thread-safe."""

    __slots__ = ("compression", "compression_threshold", "max_state_size")

    def __init__(
        self,
        compression: Optional[str] = "snappy",
        compression_threshold: int = 1024,
        max_state_size: int = DEFAULT_MAX_STATE_SIZE,
    ) -> None:
        if compression not in ("snappy", None):
            raise ValueError(f"compression must be 'snappy' or None, not {compression!r}")
        _check_int("compression_threshold", compression_threshold, 0)
        _check_int("max_state_size", max_state_size, 1)
        self.compression = compression
        self.compression_threshold = compression_threshold
        self.max_state_size = max_state_size

    def encode(self, value: Any, what: str = "state") -> bytes:
        """CBOR-encode ``value`` and frame it. Raises :class:`SerializationError`."""
        try:
            body = cbor2.dumps(value, encoders=_ENCODERS, default=_refuse_type)
        except Exception as exc:  # cbor2 raises CBOREncodeError, TypeError, ValueError...
            raise SerializationError(f"{what} cannot be encoded as CBOR: {exc}") from exc
        if len(body) > self.max_state_size:
            raise SerializationError(
                f"{what} encodes to {len(body)} bytes, over max_state_size={self.max_state_size}"
            )
        if self.compression is not None and len(body) >= self.compression_threshold:
            packed = snappy.compress(body)
            if len(packed) < len(body):
                return _HEADERS[SNAPPY] + packed
        return _HEADERS[RAW] + body

    def decode(self, blob: bytes) -> Any:
        """Decode a framed blob. Raises :class:`CorruptCheckpointError` (no context)."""
        if len(blob) < 2 or blob[0] != MAGIC or blob[1] >> 4 != VERSION:
            raise CorruptCheckpointError("not a redis-checkpoint frame (bad header)")
        kind = blob[1] & 0x0F
        body = memoryview(blob)[2:]
        try:
            if kind == SNAPPY:
                declared = cramjam.snappy.decompress_raw_len(body)
                if declared > self.max_state_size:
                    raise CorruptCheckpointError(
                        f"declares {declared} bytes, over max_state_size={self.max_state_size}"
                    )
                body = memoryview(snappy.decompress(body))
            elif kind != RAW:
                raise CorruptCheckpointError(f"unknown compression {kind}")
            elif len(body) > self.max_state_size:
                raise CorruptCheckpointError(
                    f"{len(body)} bytes, over max_state_size={self.max_state_size}"
                )
            return cbor2.loads(
                body,
                max_depth=MAX_DEPTH,
                allow_indefinite=False,
                allow_duplicate_keys=False,
                semantic_decoders=_DECODERS,
                tag_hook=_unknown_tag,
            )
        except CorruptCheckpointError:
            raise
        except Exception as exc:  # any decoder failure is corruption, never a crash
            raise CorruptCheckpointError(f"cannot decode: {type(exc).__name__}: {exc}") from exc


def _check_int(name: str, value: object, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
