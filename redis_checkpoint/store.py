"""``RedisCheckpointer``: the blocking, thread-safe Redis implementation."""
from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Type, TypeVar

import redis
from redis.retry import Retry

from . import core, telemetry
from . import keys as _keys
from .base import ANY, Checkpoint, Checkpointer, CheckpointMetadata
from .codec import DEFAULT_MAX_STATE_SIZE
from .connection import connect, describe, unknown_option, unreachable
from .engine import Engine
from .errors import StorageError
from .options import SEGMENT_BYTES, SEGMENT_CHECKPOINTS, Options
from .retries import DEFAULT_BUDGET

_DEFERRED: Any = object()  # from_url: the options first, the client once connected


class EngineShell:
    """What ``RedisCheckpointer`` and ``AsyncRedisCheckpointer`` share: an engine, and
    the properties and copies read from it."""

    engine: Any
    options: Options

    @classmethod
    def on(cls: Type[_S], engine: Any) -> _S:
        """A checkpointer on an existing engine (its client, scripts and options)."""
        cp = cls.__new__(cls)
        cp.options, cp.engine = engine.options, engine
        return cp

    def with_ttl(self: _S, ttl_seconds: Optional[float]) -> _S:
        """A checkpointer like this one with another TTL, sharing client, pool and scripts."""
        return type(self).on(self.engine.with_ttl(ttl_seconds))

    @property
    def client(self) -> Any:
        return self.engine.client

    @property
    def key_prefix(self) -> str:
        return self.engine.options.key_prefix  # type: ignore[no-any-return]

    @property
    def ttl_seconds(self) -> Optional[float]:
        return self.engine.options.ttl_seconds  # type: ignore[no-any-return]

    def keys(self, thread_id: str) -> _keys.ThreadKeys:
        """The Redis keys of a thread that every save touches (see ``docs/design.md``)."""
        return self.engine.thread_keys(thread_id)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({describe(self.client)}, key_prefix={self.key_prefix!r}, "
                f"ttl_seconds={self.ttl_seconds!r})")


_S = TypeVar("_S", bound=EngineShell)


class RedisCheckpointer(EngineShell, Checkpointer):
    """Versioned per-thread checkpoints in Redis, one atomic transaction per save.

    One instance is meant to be shared by every thread of a process. Build it
    from an existing ``redis.Redis`` or ``redis.RedisCluster`` (it never closes a
    client it was given) or with :meth:`from_url` (it owns and closes that client).
    Every keyword is checked here (``TypeError``/``ValueError`` naming it).
    """

    engine: Engine

    def __init__(
        self,
        client: Any,
        *,
        key_prefix: str = "checkpoint",
        ttl_seconds: Optional[float] = None,
        refresh_ttl_on_read: bool = False,
        compression: Optional[str] = "snappy",
        compression_threshold: int = 1024,
        max_checkpoints: Optional[int] = None,
        max_state_size: int = DEFAULT_MAX_STATE_SIZE,
        min_replicas: int = 0,
        min_replicas_timeout: float = 1.0,
        retry: Optional[Retry] = None,
        retry_budget: float = DEFAULT_BUDGET,
        fast_path: bool = True,
        segment_checkpoints: int = SEGMENT_CHECKPOINTS,
        segment_bytes: int = SEGMENT_BYTES,
        types: Sequence[Any] = (),
        state_version: Optional[int] = None,
        upgrade: Optional[Callable[[Any, int], Any]] = None,
        trace_thread_ids: bool = False,
    ) -> None:
        """Wrap ``client``; every option is checked here (see ``docs/`` for each one).

        ``types``: the application's classes a state may hold (``docs/types.md``).
        ``state_version`` and ``upgrade``: the version of this code's states, recorded with
        each save, and ``upgrade(state, from_version)`` for older ones on load
        (``docs/evolving.md``). ``trace_thread_ids``: put thread ids on OpenTelemetry
        spans (``docs/operations.md``); off, as ids can be personal data.
        """
        self.options = Options.build(
            key_prefix=key_prefix, ttl_seconds=ttl_seconds, refresh_ttl_on_read=refresh_ttl_on_read,
            compression=compression, compression_threshold=compression_threshold,
            max_checkpoints=max_checkpoints, max_state_size=max_state_size, min_replicas=min_replicas,
            min_replicas_timeout=min_replicas_timeout, retry=retry, retry_budget=retry_budget,
            fast_path=fast_path, segment_checkpoints=segment_checkpoints, segment_bytes=segment_bytes,
            types=types, state_version=state_version, upgrade=upgrade, trace_thread_ids=trace_thread_ids,
        )
        if client is not _DEFERRED:
            self.engine = Engine.open(client, self.options)

    @classmethod
    def options_for(cls, **options: Any) -> Options:
        """The validated :class:`Options` of these keywords, without a client."""
        return cls(_DEFERRED, **options).options

    @classmethod
    def from_url(cls, url: str, **options: Any) -> "RedisCheckpointer":
        """Connect to ``url`` on a bounded blocking pool (see ``connection.connect``).

        The checkpointer's own options are checked before anything connects.
        ``cluster=None`` (default) asks the server whether it is a Redis Cluster
        node (so the server must answer now: :class:`StorageError` otherwise) and
        builds a ``redis.RedisCluster`` if so; ``True``/``False`` force the choice
        and connect lazily. Pool and socket options (``max_connections``,
        ``pool_timeout``, ``socket_timeout``, ``sentinel_kwargs``, ...) go to the
        pool; the rest to the checkpointer.
        """
        opts = cls(_DEFERRED, **take_own(options)).options
        try:  # one attempt: a wrong URL or a server that is down fails fast, in one line
            client = connect(url, **options)
        except TypeError as exc:
            raise unknown_option(exc, OWN_OPTIONS) from None
        except redis.RedisError as exc:  # cluster=None asks the server at once
            raise StorageError(unreachable(url, exc), operation="connect") from None
        try:
            return cls.on(Engine.open(client, opts, owned=True))
        except BaseException:
            client.close()
            raise

    # -- writes ------------------------------------------------------------

    def save(
        self,
        thread_id: str,
        state: Any,
        *,
        metadata: Optional[Mapping[str, Any]] = None,
        expected_id: Any = ANY,
        checkpoint_id: Optional[str] = None,
    ) -> CheckpointMetadata:
        """Save ``state`` as the thread's new current checkpoint, in one transaction.

        ``expected_id`` makes it a compare-and-set: the save happens only if the
        thread's current checkpoint is ``expected_id`` (``None``: the thread has
        none), else :class:`ConflictError`. ``checkpoint_id`` names the new
        checkpoint; saving an id the thread already has is a no-op that returns
        the stored metadata. Why the id check comes first, as a timeline:

        1. process A saves id X with ``expected_id=W``; Redis commits X;
        2. the reply to A is lost (timeout, dropped connection);
        3. the retry policy re-sends the same call; Redis finds X already stored and
           returns X's metadata, not a conflict (current is X, not W) and not a
           second entry. Without a client-side id, step 3 would append twice.
        """
        with telemetry.operation("save", self.engine, thread_id) as op:
            steps = core.save(self.engine, thread_id, state, metadata, expected_id, checkpoint_id)
            self.engine.warn_if_evictable()
            saved, written = self.engine.drive(steps)
            op.outcome = "saved" if written else "replayed"
            return saved

    def delete_thread(self, thread_id: str) -> bool:
        with telemetry.operation("delete_thread", self.engine, thread_id):
            return self.engine.drive(core.delete(self.engine, thread_id))

    # -- reads -------------------------------------------------------------

    def load(self, thread_id: str, checkpoint_id: Optional[str] = None) -> Optional[Checkpoint]:
        with telemetry.operation("load", self.engine, thread_id):
            return self.engine.drive(core.load(self.engine, thread_id, checkpoint_id))

    def list(
        self, thread_id: str, *, limit: Optional[int] = None, before: Optional[str] = None
    ) -> List[CheckpointMetadata]:
        """Metadata newest first, in commit order; ``before`` excludes that id and newer.

        Each call to Redis reads at most 1000 entries, O(log n + k) each.
        Raises :class:`CheckpointNotFoundError` when ``before`` is not in the history.
        """
        with telemetry.operation("list", self.engine, thread_id):
            return self.engine.drive(core.history(self.engine, thread_id, limit, before))

    def threads(self, match: str = "*") -> Iterator[str]:
        """Every thread id under this prefix, scanning every primary of a cluster.

        ``match`` is a glob over thread ids (``*``, ``?``, ``[...]``, ``\\x``; see
        ``globs.thread_glob``), matched against the ids themselves, not their escaped
        keys. Uses SCAN, never KEYS; a thread saved or deleted during the scan may
        or may not appear.
        """
        if not isinstance(match, str) or not match:
            raise ValueError("match must be a non-empty glob pattern")
        yield from self.engine.scan_threads(match, _keys.SUFFIXES[0])

    # -- plumbing ----------------------------------------------------------

    def close(self) -> None:
        """Give back the connections this checkpointer kept, and disconnect the pool if
        it created it (``from_url``). A later call opens a new connection, as redis-py's
        clients do."""
        self.engine.close()


#: ``RedisCheckpointer``'s keywords; ``from_url`` passes every other one to the pool.
OWN_OPTIONS = tuple(inspect.signature(RedisCheckpointer.__init__).parameters)[2:]


def take_own(options: Dict[str, Any]) -> Dict[str, Any]:
    """Remove the checkpointer's keywords from ``options`` and return them."""
    return {k: options.pop(k) for k in OWN_OPTIONS if k in options}
