"""The calls LangGraph users already write for other savers, so switching is a change of import.

langgraph-checkpoint-redis and LangGraph's Postgres and SQLite savers are opened as::

    with Saver.from_conn_string(url) as saver:
        saver.setup()
        graph = builder.compile(checkpointer=saver)

``RedisSaver`` takes the same calls. ``from_conn_string`` returns the saver itself:
it works with ``with`` and ``async with`` (both close it on the way out), and also
kept as is. ``setup`` and ``asetup`` have nothing to create (no modules, no
indexes) and return at once.
"""
from __future__ import annotations

from types import TracebackType
from typing import Any, Dict, Optional, Type, TypeVar

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
        """A saver on ``redis_url`` (``connection_args`` go to the connection, as
        ``from_url``'s pool options do) or on an existing ``redis_client``, which is
        then never closed. ``options`` are ``from_url``'s; ``key_prefix`` defaults to
        ``"langgraph"`` both ways, so both see the same threads. ``ttl`` is also read
        as langgraph-checkpoint-redis reads it: ``{"default_ttl": minutes,
        "refresh_on_read": bool}``."""
        ttl = options.pop("ttl", None)  # None: not given, as in langgraph-checkpoint-redis
        if ttl is not None:
            options.update(_ttl_options(ttl, options))
        if (redis_url is None) == (redis_client is None):
            raise ValueError("from_conn_string needs exactly one of redis_url and redis_client")
        if redis_client is not None:
            if connection_args:
                raise ValueError("connection_args only apply with redis_url; configure redis_client itself")
            options.setdefault("key_prefix", "langgraph")
            return cls(redis_client, **options)  # type: ignore[call-arg]
        overlap = sorted(set(connection_args or {}) & set(options))
        if overlap:
            raise ValueError(f"{overlap} given both in connection_args and as keywords")
        opened = cls.from_url(redis_url, **(connection_args or {}), **options)  # type: ignore[attr-defined]
        return opened  # type: ignore[no-any-return]

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
