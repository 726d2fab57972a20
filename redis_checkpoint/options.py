"""The checkpointer's options, checked once, and its times in the milliseconds Redis reads.

:class:`Options` holds every keyword of ``RedisCheckpointer`` (whose signature
gives them and their defaults), validated: a bad value raises
``TypeError``/``ValueError`` naming the keyword, before anything connects.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Optional

from redis.retry import Retry

from .codec import Codec
from .errors import check_int, check_number
from .keys import validate_prefix
from .retries import RetryPolicy
from .types import optional_registry

#: Longest ``ttl_seconds`` and ``min_replicas_timeout`` (about 31,700 years). Redis
#: reads both in milliseconds. The scripts carry the TTL as a Lua number (a double,
#: exact below 2**53 ms), and from 10**17 ms Lua writes it in exponent form, which
#: PEXPIRE refuses: the script would fail after its writes.
MAX_SECONDS = 1e12

#: A sealed segment holds at most this many checkpoints (see ``docs/design.md``).
SEGMENT_CHECKPOINTS = 256
#: ... and is sealed once its states take this many bytes.
SEGMENT_BYTES = 4 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Options:
    """Every option, validated. Built by :meth:`build`; ``ttl_ms``, ``keep`` and
    ``wait_ms`` are the values the scripts read."""

    key_prefix: str
    ttl_ms: int
    refresh_ttl_on_read: bool
    codec: Codec
    meta_codec: Codec  # metadata, and every blob whose shape this package decides
    keep: int  # max_checkpoints, 0 for all
    min_replicas: int
    wait_ms: int
    policy: RetryPolicy
    fast_path: bool
    segment_checkpoints: int
    segment_bytes: int
    state_version: Optional[int]  # None: versions are not recorded or checked
    trace_thread_ids: bool
    upgrade: Optional[Callable[[Any, int], Any]]

    @classmethod
    def build(
        cls,
        *,
        key_prefix: str,
        ttl_seconds: Optional[float],
        refresh_ttl_on_read: bool,
        compression: Optional[str],
        compression_threshold: int,
        max_checkpoints: Optional[int],
        max_state_size: int,
        min_replicas: int,
        min_replicas_timeout: float,
        retry: Optional[Retry],
        retry_budget: float,
        fast_path: bool,
        segment_checkpoints: int,
        segment_bytes: int,
        types: Iterable[Any] = (),
        state_version: Optional[int] = None,
        upgrade: Optional[Callable[[Any, int], Any]] = None,
        trace_thread_ids: bool = False,
    ) -> "Options":
        for name, value in (("refresh_ttl_on_read", refresh_ttl_on_read), ("fast_path", fast_path),
                            ("trace_thread_ids", trace_thread_ids)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
        check_int("max_checkpoints", max_checkpoints, 1, optional=True)
        check_int("min_replicas", min_replicas, 0)
        check_int("segment_checkpoints", segment_checkpoints, 2)
        check_int("segment_bytes", segment_bytes, 1)
        check_int("state_version", state_version, 0, optional=True)
        if upgrade is not None and not callable(upgrade):
            raise TypeError(f"upgrade must be a function (state, from_version) -> state, not {type(upgrade).__name__}")
        if upgrade is not None and not state_version:
            raise ValueError("upgrade needs state_version: the version this code's states have")
        codec = Codec(compression, compression_threshold, max_state_size, types=optional_registry(types))
        return cls(
            key_prefix=validate_prefix(key_prefix),
            ttl_ms=ttl_ms(ttl_seconds),
            refresh_ttl_on_read=refresh_ttl_on_read,
            codec=codec,
            meta_codec=codec.strict(),  # list() decodes up to 1000 records a call
            keep=max_checkpoints or 0,
            min_replicas=min_replicas,
            wait_ms=wait_ms(min_replicas_timeout),
            policy=RetryPolicy(retry, retry_budget),
            fast_path=fast_path,
            segment_checkpoints=segment_checkpoints,
            segment_bytes=segment_bytes,
            state_version=state_version,
            trace_thread_ids=trace_thread_ids,
            upgrade=upgrade,
        )

    @property
    def ttl_seconds(self) -> Optional[float]:
        return self.ttl_ms / 1000 if self.ttl_ms else None

    def with_ttl(self, ttl_seconds: Optional[float]) -> "Options":
        return dataclasses.replace(self, ttl_ms=ttl_ms(ttl_seconds))


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
