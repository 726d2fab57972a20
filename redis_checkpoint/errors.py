"""Every error the library raises derives from :class:`CheckpointError`.

Invalid arguments are the exception to that rule: they raise the built-in
``ValueError``/``TypeError`` with a message that names the argument, before any
I/O happens.
"""
from __future__ import annotations

from typing import Optional


def check_int(name: str, value: object, minimum: int, optional: bool = False) -> None:
    """Raise ``TypeError``/``ValueError`` naming ``name`` unless ``value`` is an int >= ``minimum``.

    ``bool`` is refused; ``optional=True`` also accepts ``None``.
    """
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        kind = "an int or None" if optional else "an int"
        raise TypeError(f"{name} must be {kind}, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


class CheckpointError(Exception):
    """Root of the library's errors.

    ``thread_id`` and ``operation`` (``"save"``, ``"load"``, ``"list"``, ...)
    say what was being done, when that is known.
    """

    def __init__(
        self,
        message: str,
        *,
        thread_id: Optional[str] = None,
        operation: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.thread_id = thread_id
        self.operation = operation


class ConflictError(CheckpointError):
    """A compare-and-set save found another checkpoint current.

    ``expected_id`` is what the caller passed (``None``: the thread had to be
    empty); ``current_id`` is what Redis held at commit time (``None``: empty).
    """

    def __init__(
        self, thread_id: str, expected_id: Optional[str], current_id: Optional[str]
    ) -> None:
        super().__init__(
            f"thread {thread_id!r}: expected current checkpoint {expected_id!r}, "
            f"found {current_id!r}",
            thread_id=thread_id,
            operation="save",
        )
        self.expected_id = expected_id
        self.current_id = current_id


class SerializationError(CheckpointError):
    """The state or metadata cannot be encoded; nothing was written."""


class CorruptCheckpointError(CheckpointError):
    """A stored blob failed to decode (bad frame, bomb, hostile CBOR)."""

    def __init__(
        self,
        message: str,
        *,
        thread_id: Optional[str] = None,
        checkpoint_id: Optional[str] = None,
    ) -> None:
        where = ""
        if thread_id is not None:
            where = f"thread {thread_id!r}, checkpoint {checkpoint_id!r}: "
        super().__init__(where + message, thread_id=thread_id, operation="load")
        self.checkpoint_id = checkpoint_id


class CheckpointNotFoundError(CheckpointError, LookupError):
    """A checkpoint named by the caller (for example ``list(before=...)``) is not there."""

    def __init__(self, thread_id: str, checkpoint_id: str, operation: str) -> None:
        super().__init__(
            f"thread {thread_id!r} has no checkpoint {checkpoint_id!r}",
            thread_id=thread_id,
            operation=operation,
        )
        self.checkpoint_id = checkpoint_id


class StorageError(CheckpointError):
    """Redis failed the operation after the retry policy gave up.

    The original redis-py exception is chained as ``__cause__``. The message
    names the operation and the thread, never the URL or a password.
    """
