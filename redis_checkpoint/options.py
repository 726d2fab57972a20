"""The checkpointer's own keywords, and its time options in the milliseconds Redis reads.

``RedisCheckpointer.from_url`` takes these keywords out of its arguments (the
rest configure the connection pool) and checks them before it connects.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from .errors import check_number

#: Longest ``ttl_seconds`` and ``min_replicas_timeout`` (about 31,700 years). Redis
#: reads both in milliseconds. The scripts carry the TTL as a Lua number (a double,
#: exact below 2**53 ms), and from 10**17 ms Lua writes it in exponent form, which
#: PEXPIRE refuses: the script would fail after its writes.
MAX_SECONDS = 1e12

#: ``RedisCheckpointer``'s keywords; ``from_url`` passes every other one to the pool.
OWN_OPTIONS = (
    "key_prefix",
    "ttl_seconds",
    "refresh_ttl_on_read",
    "compression",
    "compression_threshold",
    "max_checkpoints",
    "max_state_size",
    "min_replicas",
    "min_replicas_timeout",
    "retry",
    "retry_budget",
)


def take_own(options: Dict[str, Any]) -> Dict[str, Any]:
    """Remove the checkpointer's keywords from ``options`` and return them."""
    return {k: options.pop(k) for k in OWN_OPTIONS if k in options}


def ttl_ms(ttl_seconds: Optional[float]) -> int:
    """``ttl_seconds`` in milliseconds, 0 for none; ``TypeError``/``ValueError`` naming it."""
    if ttl_seconds is None:
        return 0
    ms = int(check_number("ttl_seconds", ttl_seconds, 0.0, above=True, maximum=MAX_SECONDS) * 1000)
    if ms < 1:
        raise ValueError(f"ttl_seconds must be at least 0.001, got {ttl_seconds}")
    return ms


def wait_ms(min_replicas_timeout: float) -> int:
    """``min_replicas_timeout`` as WAIT's timeout in milliseconds (at least 1: 0 waits forever)."""
    wait = check_number("min_replicas_timeout", min_replicas_timeout, 0.0, above=True, maximum=MAX_SECONDS)
    return max(1, int(wait * 1000))
