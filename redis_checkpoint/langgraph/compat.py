"""The calls LangGraph users already write for other savers, so switching is a change of import.

langgraph-checkpoint-redis and LangGraph's Postgres and SQLite savers are opened as::

    with Saver.from_conn_string(url) as saver:
        saver.setup()
        graph = builder.compile(checkpointer=saver)

``RedisSaver`` takes the same calls, and the same constructor keywords
(``RedisSaver(redis_url=...)``, ``RedisSaver(redis_client=...)``: see :func:`target`).
``from_conn_string`` returns the saver itself: it works with ``with`` and
``async with`` (both close it on the way out), and also kept as is. ``setup`` and
``asetup`` have nothing to create (no modules, no indexes) and return at once.
"""
from __future__ import annotations

from types import TracebackType
from typing import Any, Dict, Optional, Tuple, Type, TypeVar

from ..errors import check_str
from ..store import RedisCheckpointer

S = TypeVar("S", bound="ConnStringMethods")


class ConnStringMethods:
    """Mixed into ``RedisSaver``: ``from_conn_string``, ``setup``, and ``with`` support."""

    @classmethod
    def from_conn_string(
        cls: Type[S],
        redis_url: Optional[str] = None,
        *,
        redis_client: Any = None,
        connection_args: Optional[Dict[str, Any]] = None,
        **options: Any,
    ) -> S:
        """A saver on ``redis_url`` or on an existing ``redis_client`` (see :func:`target`)."""
        return cls(None, redis_url=redis_url, redis_client=redis_client,  # type: ignore[call-arg]
                   connection_args=connection_args, **options)

    def setup(self) -> None:
        """Nothing to create: plain Redis commands, no modules or search indexes."""

    async def asetup(self) -> None:
        """Nothing to create (see :meth:`setup`)."""

    def __enter__(self: S) -> S:
        return self

    def __exit__(
        self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.close()  # type: ignore[attr-defined]

    async def __aenter__(self: S) -> S:
        return self

    async def __aexit__(
        self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.close()  # type: ignore[attr-defined]


def target(first: Any, options: Dict[str, Any], checkpointer: Any = RedisCheckpointer,
           saver: str = "RedisSaver") -> Tuple[Any, Dict[str, Any]]:
    """``RedisSaver``'s first argument and keywords, with langgraph-checkpoint-redis's read too.

    Besides a ``RedisCheckpointer`` or a client, the saver takes a URL (``"redis://..."``
    first, or ``redis_url=``; ``connection_args`` go to its connections, as ``from_url``'s
    pool options do) or ``redis_client=``, which is never closed. Either way
    ``key_prefix`` then defaults to ``"langgraph"``, as for ``from_url``, and ``ttl`` is
    read as that package reads it: ``{"default_ttl": minutes, "refresh_on_read": bool}``.
    Its ``checkpoint_prefix`` is ``key_prefix``; its ``checkpoint_write_prefix`` is taken
    and has no effect (writes live with their checkpoints).
    Returns what ``RedisSaver`` builds on and the keywords left for it; ``AsyncRedisSaver``
    passes its own ``checkpointer`` class, whose ``from_url`` a URL goes to.
    """
    url, client = options.pop("redis_url", None), options.pop("redis_client", None)
    connection_args = options.pop("connection_args", None) or {}
    prefix = options.pop("checkpoint_prefix", None)
    if prefix is not None:  # that package's name for the first part of every key
        if "key_prefix" in options:
            raise ValueError("checkpoint_prefix and key_prefix name the same thing: pass key_prefix alone")
        options["key_prefix"] = check_str("checkpoint_prefix", prefix)
    # Pending writes are kept with their checkpoint, under key_prefix: a separate prefix
    # for them means nothing here, and is taken so that code passing it runs unchanged.
    check_str("checkpoint_write_prefix", options.pop("checkpoint_write_prefix", ""))
    ttl = options.pop("ttl", None)  # None: not given, as in langgraph-checkpoint-redis
    if ttl is not None:
        options.update(_ttl_options(ttl, options))
    if isinstance(first, str):
        url, first = (first, None) if url is None else (url, first)
    given = [name for name, value in (("a checkpointer or client", first), ("redis_url", url),
                                      ("redis_client", client)) if value is not None]
    if len(given) != 1:
        raise ValueError(f"{saver} needs exactly one of a checkpointer, a client, redis_url and "
                         f"redis_client; got {given or 'none'}")
    if connection_args and url is None:
        raise ValueError("connection_args only apply with redis_url; configure the client itself")
    if first is not None:
        return first, options
    options.setdefault("key_prefix", "langgraph")
    if client is not None:
        return client, options
    overlap = sorted(set(connection_args) & set(options))
    if overlap:
        raise ValueError(f"{overlap} given both in connection_args and as keywords")
    return checkpointer.from_url(url, **connection_args, **options), {}


def _ttl_options(ttl: Any, options: Dict[str, Any]) -> Dict[str, Any]:
    """langgraph-checkpoint-redis's ``ttl`` dict as our keywords (its TTL is in minutes)."""
    if not isinstance(ttl, dict) or set(ttl) - {"default_ttl", "refresh_on_read"}:
        raise ValueError(f"ttl must be a dict with 'default_ttl' (minutes) and 'refresh_on_read', got {ttl!r}")
    clash = sorted({"ttl_seconds", "refresh_ttl_on_read"} & set(options))
    if clash:
        raise ValueError(f"ttl cannot be combined with {clash}")
    minutes = ttl.get("default_ttl")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, (int, float))):
        raise TypeError(f"ttl['default_ttl'] must be a number of minutes, not {type(minutes).__name__}")
    return {
        "ttl_seconds": None if minutes is None else minutes * 60,
        "refresh_ttl_on_read": ttl.get("refresh_on_read", False),
    }
