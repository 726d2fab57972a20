"""Checkpoint ids: UUIDv7-style text, generated on the client.

A client-side id is what makes a save idempotent: redis-py re-sends a script
whose reply was lost, and the script recognises the id it already stored.

Layout (RFC 9562 version 7): 48 bits of Unix milliseconds, the version nibble,
a 12-bit counter that keeps ids from one process increasing within a
millisecond, the variant bits and 62 random bits from ``os.urandom`` (so forked
processes that inherit the counter still produce distinct ids). Ids sort by
creation time within a process; *commit* order is decided by Redis, not here.
"""
from __future__ import annotations

import os
import re
import time

from .errors import check_str
from .locks import ForkSafeLock

MAX_ID_LENGTH = 128
# Visible ASCII only: ids are embedded in metadata records and CLI output.
# The length (at most MAX_ID_LENGTH) is checked first, in validate_id.
_VALID_ID = re.compile(r"[\x21-\x7e]+\Z")

_lock = ForkSafeLock()
_last_ms = 0
_counter = 0


def new_id() -> str:
    global _last_ms, _counter
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(8), "big")
    with _lock:
        if ms > _last_ms:
            _last_ms, _counter = ms, rand >> 54  # start low in the 12-bit space
        else:
            _counter += 1
            if _counter > 0xFFF:  # more than ~3000 ids in one ms: borrow the next ms
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        counter = _counter
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | (rand & (1 << 62) - 1)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def validate_id(checkpoint_id: object, name: str = "checkpoint_id") -> str:
    text = check_str(name, checkpoint_id, MAX_ID_LENGTH)
    if not _VALID_ID.match(text):
        raise ValueError(f"{name} must be 1 to {MAX_ID_LENGTH} visible ASCII characters, got {text!r}")
    return text
