"""Sealed segments: the follow-up calls a save asks for, and the keys of a whole thread.

A save, a prune or a load that slides the TTL answers with *work* when a thread's
segments need it (``save.lua``'s header): ``seal <n>`` (the active segment is
full), ``drop <n>...`` (retention has emptied those sealed segments) or
``refresh <first> <end>`` (the sealed segments' TTL is due). Each is one more
script call, sent right away. They change nothing a reader sees, so one that
fails is logged and left for the next save, which asks again.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Tuple, Union

from .errors import StorageError
from .keys import GraphKeys, ThreadKeys
from .steps import Steps, command, run

if TYPE_CHECKING:
    from .engine import EngineBase as Engine

logger = logging.getLogger("redis_checkpoint")


Keys = Union[ThreadKeys, GraphKeys]


def follow_up(engine: "Engine", keys: Keys, work: Sequence[bytes], thread_id: str,
              seal: Optional[Callable[[str], Steps[Any]]] = None) -> Steps[None]:
    """Do the ``work`` a script answered with (see the module docstring). ``seal(n)``
    seals segment ``n``; by default, as ``seal.lua`` does for the core's threads."""
    scripts, opts = engine.scripts, engine.options
    for item in work:
        what, *numbers = item.decode().split()
        try:
            if what == "seal":
                if seal is not None:
                    yield from seal(numbers[0])
                else:
                    yield from run("seal", thread_id, scripts.seal, (keys.head, keys.active, keys.sealed(numbers[0])),
                                   (numbers[0], opts.segment_checkpoints, opts.segment_bytes))
            elif what == "drop":
                yield from run(what, thread_id, scripts.drop, (keys.head, *map(keys.sealed, numbers)), numbers)
            elif what == "refresh":
                yield from run(what, thread_id, scripts.refresh, (keys.head, *keys.segments(*numbers)), numbers)
        except StorageError as exc:
            logger.warning("%s of thread %r left for a later save: %s", what, thread_id, exc)


def unlink_thread(engine: "Engine", op: str, thread_id: str, keys: Keys,
                  current: str = "") -> Steps[Tuple[bool, int]]:
    """Unlink every key of a thread, sealed segments included, in one script call; with
    ``current``, only while that checkpoint is the thread's current one.

    Returns ``(whether the condition held, keys unlinked)``. The first call assumes
    no sealed segment; a thread that has some answers with their range, and the
    call is made again with their keys.
    """
    first: Any = "0"
    end: Any = "0"
    while True:
        reply = yield from run(op, thread_id, engine.scripts.delete, (*keys, *keys.segments(first, end)),
                               (current, first, end))
        if reply[0] != -1:
            return reply[0] == 1, int(reply[1]) if reply[0] == 1 else 0
        first, end = (n.decode() for n in reply[1:3])


def sealed_state(op: str, thread_id: str, keys: ThreadKeys, segment: Optional[int],
                 field: bytes) -> Steps[Optional[bytes]]:
    """A state from sealed segment ``segment``, or ``None`` if it is gone (retention
    dropped it meanwhile; ``segment`` None: it was only in the head, which moved on)."""
    if segment is None:
        return None
    found: Optional[bytes] = yield from command(op, thread_id, keys.head, "HGET", keys.sealed(segment), field)
    return found
