"""Every error the library raises derives from :class:`CheckpointError`.

Invalid arguments are the exception to that rule: they raise the built-in
``ValueError``/``TypeError`` with a message that names the argument, before any
I/O happens.
"""
from __future__ import annotations

from typing import Any, Iterable, List, Optional


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


def check_str(name: str, value: object, max_length: Optional[int] = None) -> str:
    """``value`` if it is a str of at most ``max_length`` characters (any length
    when None), or ``TypeError``/``ValueError`` naming ``name``. A text that is too
    long is described by its length, never quoted: it may be a whole state passed
    by mistake.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if max_length is not None and len(value) > max_length:
        raise ValueError(f"{name} is {len(value)} characters long; the limit is {max_length}")
    return value


def check_number(
    name: str, value: object, minimum: float, *, above: bool = False, maximum: Optional[float] = None
) -> float:
    """``value`` as a float, or ``TypeError``/``ValueError`` naming ``name``.

    ``value`` must be an int or float (not bool), at least ``minimum``, or
    strictly greater than it when ``above=True``, and at most ``maximum`` if given
    (which also rules out infinity).
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if value < minimum or (above and value == minimum) or value != value:
        relation = ">" if above else ">="
        raise ValueError(f"{name} must be {relation} {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum:g}, got {value}")
    return float(value)


def check_ids(name: str, value: object) -> List[Any]:
    """``value`` as a list, or ``TypeError`` naming ``name`` when it is a single str (or
    bytes), which would otherwise be read one character at a time, or not iterable."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a list of ids, not a {type(value).__name__}: "
                        f"for one, pass [{value!r:.80}]")
    if not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of ids, not {type(value).__name__}")
    return list(value)


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


class StateTooLargeError(CheckpointError):
    """A state (or metadata) is larger than ``max_state_size`` allows: refused on save,
    before anything is written, and on load, before it is decompressed. The data is
    not damaged: a checkpointer with a larger ``max_state_size`` reads it.

    ``size`` is the body's size in bytes of CBOR (on load, as its frame declares it);
    ``limit`` is ``max_state_size``.
    """

    def __init__(self, size: int, limit: int, *, what: str = "state", thread_id: Optional[str] = None,
                 checkpoint_id: Optional[str] = None, operation: Optional[str] = None) -> None:
        where = "" if thread_id is None else f"thread {thread_id!r}, checkpoint {checkpoint_id!r}: "
        verb = "save" if operation in (None, "save", "put", "put_writes") else "load"
        super().__init__(
            f"{where}{what} of {size} bytes is over max_state_size={limit}; "
            f"raise max_state_size to {verb} it", thread_id=thread_id, operation=operation)
        self.size = size
        self.limit = limit
        self.what = what
        self.checkpoint_id = checkpoint_id


class StateVersionError(CheckpointError):
    """A checkpoint was saved with a ``state_version`` this code cannot read: a newer one
    (deploy the code that wrote it), or an older one with no ``upgrade`` to bring it on."""

    def __init__(self, found: int, known: int, *, thread_id: Optional[str] = None,
                 checkpoint_id: Optional[str] = None) -> None:
        if found > known:
            why = (f"it was saved with state version {found}, newer than this code's {known}: "
                   "run the code that wrote it, or raise state_version once this code reads that shape")
        else:
            why = (f"it was saved with state version {found}, older than this code's {known}, and "
                   "no upgrade= function was given to bring it to the current shape")
        super().__init__(f"checkpoint {checkpoint_id!r}: {why}", thread_id=thread_id, operation="load")
        self.found, self.known, self.checkpoint_id = found, known, checkpoint_id


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


def storage_error(op: str, thread_id: Optional[str], exc: BaseException) -> StorageError:
    """The :class:`StorageError` for a redis-py error ``exc`` (the caller chains it)."""
    where = op if thread_id is None else f"{op} of thread {thread_id!r}"
    return StorageError(
        f"{where} failed: {type(exc).__name__}: {short_message(exc)}{_hint(exc)}",
        thread_id=thread_id,
        operation=op,
    )


def refused_credentials(exc: BaseException) -> bool:
    """Whether the server refused our credentials (redis-py raises some of those as a
    ``ConnectionError``)."""
    text = str(exc)  # a MasterNotFoundError carries each sentinel's error as text
    return (any(kind.__name__ == "AuthenticationError" for kind in type(exc).__mro__)
            or "WRONGPASS" in text or "NOAUTH" in text or "AuthenticationError" in text)


def untrusted_certificate(exc: BaseException) -> bool:
    """Whether the TLS handshake failed because this client does not trust the server's
    certificate (an unknown CA, a host name it does not name): redis-py words it as a
    ``ConnectionError`` carrying OpenSSL's reason."""
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


#: What to do about a certificate :func:`untrusted_certificate` recognises.
CERTIFICATE_HINT = ("pass ssl_ca_certs= with the CA that signed the server's certificate, "
                    "and use a host name the certificate names")


def _no_primary(exc: BaseException) -> bool:
    return any(kind.__name__ == "MasterNotFoundError" for kind in type(exc).__mro__)


def short_message(exc: BaseException) -> str:
    """``exc``'s message, for errors and log lines. redis-py's ``MasterNotFoundError`` goes
    on after its first clause to name each sentinel by its client's full repr: that part
    stays in the exception, and :func:`storage_error`'s hint says what it shows."""
    return str(exc).split(" : ", 1)[0] if _no_primary(exc) else str(exc)


def _sentinels_hint(exc: BaseException) -> str:
    """What the sentinels' errors inside a ``MasterNotFoundError`` point to."""
    detail = str(exc).partition(" : ")[2]
    if not detail:
        return " (the sentinels answered, but none names a live primary for that service: check its name)"
    if untrusted_certificate(exc):
        return f" (this client does not trust the sentinels' TLS certificate: {CERTIFICATE_HINT})"
    if refused_credentials(exc):
        return (" (the sentinels refused the credentials: the URL's user name and password go to the "
                "servers only; pass the sentinels' own in sentinel_kwargs=)")
    if "reset by peer" in detail or "closed by server" in detail:
        return (" (the sentinels closed the connection at once: if they only take TLS, use a "
                "rediss+sentinel:// URL, and ssl=True in sentinel_kwargs= if you pass it)")
    if "Timeout" in detail:
        return (" (the sentinels did not answer in time: are they reachable? rediss+sentinel:// "
                "speaks TLS to them too; pass sentinel_kwargs= for sentinels without TLS)")
    if "refused" in detail.lower() or "Connect call failed" in detail:
        return " (no sentinel is listening at the URL's addresses)"
    # redis-py 8.0 and 8.1 name each sentinel's error by its class alone
    return (" (no sentinel answered: check their addresses, whether they only take TLS "
            "(rediss+sentinel://, and ssl_ca_certs= for their certificate), and whether they "
            "want a password (sentinel_kwargs=))")


def _hint(exc: BaseException) -> str:
    """Why no sentinel named a primary, refused credentials, an untrusted certificate, and
    what a server before Redis 7 makes of our scripts' ``#!lua`` line, said plainly."""
    text = str(exc)
    if _no_primary(exc):
        return _sentinels_hint(exc)
    if refused_credentials(exc):
        return " (the server refused the credentials: check the URL's user name and password, and the ACL user)"
    if untrusted_certificate(exc):
        return f" (this client does not trust the server's TLS certificate: {CERTIFICATE_HINT})"
    if "compiling script" in text and "near '#'" in text:
        return (" (this server cannot read the '#!lua' line that opens every script: "
                "redis-checkpoint needs Redis 7.0 or later, or Valkey)")
    return ""


class ReplicationError(CheckpointError):
    """A save with ``min_replicas=N`` was not confirmed by N replicas in time.

    The checkpoint *is* stored on the primary (``metadata`` describes it; ``None``
    for LangGraph writes, which name ``thread_id`` and ``operation``) but a
    failover may still lose it. Saving again with ``checkpoint_id=metadata.id``
    is safe: it writes nothing new and waits for the replicas again.
    ``acknowledged`` is how many replicas confirmed, ``required`` is N.
    """

    def __init__(self, metadata: object, acknowledged: int, required: int, *,
                 thread_id: Optional[str] = None, operation: str = "save") -> None:
        thread_id = getattr(metadata, "thread_id", thread_id)
        what = f"checkpoint {metadata.id!r}" if hasattr(metadata, "id") else "the write"
        super().__init__(
            f"{operation} of thread {thread_id!r}: {what} reached "
            f"{acknowledged} of the {required} replicas required before the timeout",
            thread_id=thread_id,
            operation=operation,
        )
        self.metadata = metadata
        self.acknowledged = acknowledged
        self.required = required


class EvictionWarning(UserWarning):
    """The server's ``maxmemory-policy`` may delete checkpoints without an error."""
