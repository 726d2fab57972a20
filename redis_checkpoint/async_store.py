"""``AsyncRedisCheckpointer``: ``RedisCheckpointer``'s contract on ``redis.asyncio``."""
from __future__ import annotations

import inspect
from types import TracebackType
from typing import Any, AsyncIterator, Callable, List, Mapping, Optional, Type

from . import core, telemetry
from . import keys as _keys
from .async_connection import async_connect
from .async_engine import AsyncEngine
from .base import ANY, Checkpoint, CheckpointMetadata, advance_plan, check_advance
from .connection import unknown_option
from .errors import ConflictError
from .store import OWN_OPTIONS, EngineShell, RedisCheckpointer, take_own


class AsyncRedisCheckpointer(EngineShell):
    """Versioned per-thread checkpoints in Redis, for asyncio applications.

    The same contract, options, errors, scripts and keys as
    :class:`~redis_checkpoint.RedisCheckpointer`: the two read and write the same
    threads. Every method is a coroutine that runs on the event loop; one instance
    serves every task of its loop. Build it on a ``redis.asyncio.Redis`` or
    ``redis.asyncio.RedisCluster`` (it never closes a client it was given) or with
    :meth:`from_url` (it owns and closes that client). Takes every keyword
    ``RedisCheckpointer`` takes, checked here.
    """

    engine: AsyncEngine

    def __init__(self, client: Any, **options: Any) -> None:
        """Wrap ``client``; ``options`` are ``RedisCheckpointer``'s keywords."""
        self.options = _options(options)
        self.engine = AsyncEngine.open(client, self.options)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> "AsyncRedisCheckpointer":
        """A checkpointer on a ``redis.asyncio`` client for ``url``, as
        ``RedisCheckpointer.from_url`` builds one (same URLs, pool and socket options).

        Nothing connects here. ``cluster=None`` (default) asks the server, before the
        first operation, whether it is a Redis Cluster node; an unreachable server then
        raises :class:`StorageError` from that operation.
        """
        opts = _options(take_own(options))
        try:
            client, resolve = async_connect(url, **options)
        except TypeError as exc:
            raise unknown_option(exc, OWN_OPTIONS) from None
        return cls.on(AsyncEngine.open(client, opts, owned=True, resolve=resolve))

    async def save(
        self,
        thread_id: str,
        state: Any,
        *,
        metadata: Optional[Mapping[str, Any]] = None,
        expected_id: Any = ANY,
        checkpoint_id: Optional[str] = None,
    ) -> CheckpointMetadata:
        """``RedisCheckpointer.save``: one atomic call, compare-and-set with ``expected_id``,
        a no-op returning the stored metadata for a ``checkpoint_id`` already saved."""
        with telemetry.operation("save", self.engine, thread_id) as op:
            steps = core.save(self.engine, thread_id, state, metadata, expected_id, checkpoint_id)
            await self.engine.warn_if_evictable()
            saved, written = await self.engine.drive(steps)
            op.outcome = "saved" if written else "replayed"
            return saved

    async def load(self, thread_id: str, checkpoint_id: Optional[str] = None) -> Optional[Checkpoint]:
        with telemetry.operation("load", self.engine, thread_id):
            return await self.engine.drive(core.load(self.engine, thread_id, checkpoint_id))

    async def list(
        self, thread_id: str, *, limit: Optional[int] = None, before: Optional[str] = None
    ) -> List[CheckpointMetadata]:
        """Metadata newest first, in commit order; ``before`` excludes that id and newer."""
        with telemetry.operation("list", self.engine, thread_id):
            return await self.engine.drive(core.history(self.engine, thread_id, limit, before))

    async def delete_thread(self, thread_id: str) -> bool:
        with telemetry.operation("delete_thread", self.engine, thread_id):
            return await self.engine.drive(core.delete(self.engine, thread_id))

    async def threads(self, match: str = "*") -> AsyncIterator[str]:
        """Every thread id under this prefix (``async for``); see ``RedisCheckpointer.threads``."""
        if not isinstance(match, str) or not match:
            raise ValueError("match must be a non-empty glob pattern")
        async for thread_id in self.engine.scan_threads(match, _keys.SUFFIXES[0]):
            yield thread_id

    async def advance(
        self,
        thread_id: str,
        step: Callable[[Any], Any],
        *,
        checkpoint_id: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        max_conflicts: int = 50,
    ) -> CheckpointMetadata:
        """``RedisCheckpointer.advance``: save ``step(latest state, or None)`` with
        compare-and-set, loading and stepping again on a conflict. ``step`` may be a
        plain function or a coroutine function."""
        check_advance(step, max_conflicts)
        with telemetry.operation("advance", self.engine, thread_id) as op:
            plan = advance_plan(checkpoint_id, metadata, max_conflicts, op)
            try:
                kind, arg = next(plan)
                while True:
                    out: Any
                    try:
                        if kind == "load":
                            out = await self.load(thread_id, arg)
                        elif kind == "step":
                            out = step(arg)
                            if inspect.isawaitable(out):
                                out = await out
                        else:
                            out = await self.save(thread_id, **arg)
                    except ConflictError as exc:
                        kind, arg = plan.throw(exc)
                    else:
                        kind, arg = plan.send(out)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        """Disconnect the client if this checkpointer created it (``from_url``)."""
        await self.engine.close()

    close = aclose

    async def __aenter__(self) -> "AsyncRedisCheckpointer":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None:
        await self.aclose()


def _options(options: Any) -> Any:
    """``RedisCheckpointer``'s keywords, checked as it checks them."""
    unknown = sorted(set(options) - set(OWN_OPTIONS))
    if unknown:
        raise unknown_option(TypeError(f"unexpected keyword argument '{unknown[0]}'"), OWN_OPTIONS)
    return RedisCheckpointer.options_for(**options)
