"""Warn once per connection pool when the server may evict checkpoints silently.

Under ``allkeys-*`` any key can be evicted; under ``volatile-*`` every key with
a TTL can, which is every checkpoint key once ``ttl_seconds`` is set. Eviction
loses checkpoints without an error; ``noeviction`` turns memory pressure into a
clear out-of-memory error instead (and a refused save writes nothing).

Servers where ``CONFIG`` is disabled, renamed or not permitted (managed Redis,
ACL users) are skipped quietly: this is advice, never a reason to fail a save.
"""
from __future__ import annotations

import warnings
import weakref
from typing import Any, Iterable, Optional, Set

import redis

from .errors import EvictionWarning
from .locks import ForkSafeLock

_lock = ForkSafeLock()
_checked: "weakref.WeakKeyDictionary[Any, Set[bool]]" = weakref.WeakKeyDictionary()


def _policies(reply: Any) -> Iterable[str]:
    """``CONFIG GET`` answers with a dict, or a dict per node on a cluster."""
    if isinstance(reply, dict):
        for key, value in reply.items():
            if isinstance(value, dict):
                yield from _policies(value)
            elif (key.decode() if isinstance(key, bytes) else key) == "maxmemory-policy":
                yield value.decode() if isinstance(value, bytes) else str(value)


def check(client: Any, ttl_on: bool) -> None:
    """Warn (``EvictionWarning``) if ``client``'s server could evict our keys; once per pool."""
    owner = getattr(client, "connection_pool", None) or client
    with _lock:
        seen = _checked.setdefault(owner, set())
        if ttl_on in seen:
            return
        seen.add(ttl_on)
    try:
        reply = client.config_get("maxmemory-policy")
    except (redis.RedisError, AttributeError):
        return
    warning = warning_for(reply, ttl_on)
    if warning is not None:
        warnings.warn(warning, stacklevel=4)


def warning_for(reply: Any, ttl_on: bool) -> Optional[EvictionWarning]:
    """The warning a ``CONFIG GET maxmemory-policy`` reply calls for, if any."""
    for policy in sorted(set(_policies(reply))):
        if policy.startswith("allkeys-") or (ttl_on and policy.startswith("volatile-")):
            return EvictionWarning(
                f"the Redis server's maxmemory-policy is {policy!r}: it may evict checkpoints "
                "without any error; set maxmemory-policy noeviction for a checkpoint store"
            )
    return None
