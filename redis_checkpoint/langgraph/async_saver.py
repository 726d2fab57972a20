"""``AsyncRedisSaver``: LangGraph's ``BaseCheckpointSaver`` on ``redis.asyncio``.

The same operations as ``RedisSaver`` (``operations.py``), each run on the event
loop by an :class:`~redis_checkpoint.AsyncRedisCheckpointer`'s engine: no worker
threads. The two savers read and write the same threads. As LangGraph's own async
savers do, a blocking method called from another thread (``asyncio.to_thread(
graph.get_state, ...)``) runs its ``a*`` twin on the saver's loop and waits; called
on that loop, where waiting would block it, it raises and points to ``RedisSaver``.
"""
from __future__ import annotations

import asyncio
from types import TracebackType
from typing import (
    TYPE_CHECKING, Any, AsyncIterator, Awaitable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Type,
    TypeVar,
)

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from .. import keys as _keys
from ..async_engine import AsyncEngine
from ..async_store import AsyncRedisCheckpointer
from ..errors import check_ids, check_int
from ..steps import Steps
from .compat import target
from .. import telemetry
from .operations import Operations

if TYPE_CHECKING:  # langgraph-checkpoint before 4.1 has no DeltaChannelHistory
    from langgraph.checkpoint.base import DeltaChannelHistory

T = TypeVar("T")


class AsyncRedisSaver(Operations, BaseCheckpointSaver[str]):
    """LangGraph checkpoint saver on ``redis.asyncio`` (plain Redis, Cluster or Sentinel)."""

    engine: AsyncEngine

    def __init__(
        self,
        checkpointer_or_client: Any = None,
        *,
        serde: Optional[SerializerProtocol] = None,
        max_checkpoints: Optional[int] = None,
        **options: Any,
    ) -> None:
        """``checkpointer_or_client``: an ``AsyncRedisCheckpointer`` (its options apply) or a
        ``redis.asyncio`` client (``options`` are then ``RedisCheckpointer``'s keywords); or a
        URL, ``redis_url=`` or ``redis_client=`` as ``RedisSaver`` takes them. Nothing
        connects here."""
        check_int("max_checkpoints", max_checkpoints, 1, optional=True)
        base, options = target(checkpointer_or_client, options, AsyncRedisCheckpointer, "AsyncRedisSaver")
        super().__init__(serde=serde)
        if isinstance(base, AsyncRedisCheckpointer):
            if options:
                raise TypeError(f"options {sorted(options)} only apply when a client is given")
            self.checkpointer = base
        else:
            self.checkpointer = AsyncRedisCheckpointer(base, **options)
        self.bind(self.checkpointer.engine, max_checkpoints)
        try:  # the loop the blocking methods hand their work to; else the first a* call's
            self.loop: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None

    @classmethod
    def from_url(cls, url: str, *, serde: Optional[SerializerProtocol] = None,
                 max_checkpoints: Optional[int] = None, **options: Any) -> "AsyncRedisSaver":
        """A saver on ``AsyncRedisCheckpointer.from_url(url)`` (``key_prefix`` default: ``"langgraph"``)."""
        return cls(None, redis_url=url, serde=serde, max_checkpoints=max_checkpoints, **options)

    @classmethod
    def from_conn_string(cls, redis_url: Optional[str] = None, *, redis_client: Any = None,
                         connection_args: Optional[Dict[str, Any]] = None, **options: Any) -> "AsyncRedisSaver":
        """A saver on ``redis_url`` or ``redis_client``; ``async with`` closes it on the way out."""
        return cls(None, redis_url=redis_url, redis_client=redis_client, connection_args=connection_args,
                   **options)

    async def setup(self) -> None:
        """Nothing to create: plain Redis commands, no modules or search indexes."""

    asetup = setup

    async def aclose(self) -> None:
        await self.checkpointer.aclose()

    async def __aenter__(self) -> "AsyncRedisSaver":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None:
        await self.aclose()

    # -- writes --------------------------------------------------------------

    async def _drive(self, steps: Steps[T]) -> T:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        return await self.engine.drive(steps)

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
                   new_versions: ChannelVersions) -> RunnableConfig:
        with self._observe("put", config) as op:
            steps = self.put_steps(config, checkpoint, metadata, new_versions)
            await self.engine.warn_if_evictable()
            found = await self._drive(steps)
            op.outcome = "saved"
            return found

    async def aput_writes(self, config: RunnableConfig, writes: Sequence[Tuple[str, Any]], task_id: str,
                          task_path: str = "") -> None:
        with self._observe("put_writes", config):
            await self._drive(self.put_writes_steps(config, writes, task_id, task_path))

    async def adelete_thread(self, thread_id: str) -> None:
        with telemetry.operation("delete_thread", self.engine, thread_id):
            await self._drive(self.delete_thread_steps(thread_id))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        wanted = set(check_ids("run_ids", run_ids))
        if wanted:
            async for thread_id in self.athreads():
                await self._drive(self.remove_runs_steps(thread_id, wanted))

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        with telemetry.operation("copy_thread", self.engine, source_thread_id):
            await self._drive(self.copy_thread_steps(source_thread_id, target_thread_id))

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest",
                     keep_last: Optional[int] = None, max_results: int = 10000) -> None:
        """``RedisSaver.prune`` on the event loop."""
        with telemetry.operation("prune", self.engine):
            await self._drive(self.prune_steps(thread_ids, strategy, keep_last, max_results))

    # -- reads ---------------------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        with self._observe("get_tuple", config):
            return await self._drive(self.get_tuple_steps(config))

    async def aget_delta_channel_history(self, *, config: RunnableConfig,
                                         channels: Sequence[str]) -> Mapping[str, DeltaChannelHistory]:
        return await self._drive(self.delta_history_steps(config, channels))

    async def alist(self, config: Optional[RunnableConfig], *, filter: Optional[Dict[str, Any]] = None,
                    before: Optional[RunnableConfig] = None,
                    limit: Optional[int] = None) -> AsyncIterator[CheckpointTuple]:
        if limit is not None and limit <= 0:
            return
        wanted = (config or {}).get("configurable", {}).get("thread_id")
        thread_ids = [wanted] if wanted not in (None, "") else [t async for t in self.athreads()]
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        with self._observe("list", config, current=False):
            async for tup in self.engine.stream(self.list_stream(config, thread_ids, filter, before, limit)):
                yield tup

    async def athreads(self, match: str = "*") -> AsyncIterator[str]:
        """Ids of this saver's threads matching the glob ``match`` (``SCAN``), in no order."""
        async for thread_id in self.engine.scan_threads(match, _keys.GRAPH_SUFFIXES[0]):
            yield thread_id

    # -- the blocking methods, for other threads ----------------------------

    def _on_loop(self, name: str, work: Awaitable[T]) -> T:
        """Run ``work`` on the saver's loop from another thread, and wait for it."""
        try:
            here: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if self.loop is None or here is self.loop or self.loop.is_closed():
            if asyncio.iscoroutine(work):
                work.close()
            raise asyncio.InvalidStateError(
                f"AsyncRedisSaver.{name} would block the event loop: await a{name}(...) (graph.ainvoke, "
                "graph.aget_state), or use redis_checkpoint.langgraph.RedisSaver in blocking code")
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()  # type: ignore[arg-type]

    def get_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        return self._on_loop("get_tuple", self.aget_tuple(config))

    def list(self, config: Optional[RunnableConfig], *, filter: Optional[Dict[str, Any]] = None,
             before: Optional[RunnableConfig] = None, limit: Optional[int] = None) -> Iterator[CheckpointTuple]:
        return iter(self._on_loop("list", _all(self.alist(config, filter=filter, before=before, limit=limit))))

    def put(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
            new_versions: ChannelVersions) -> RunnableConfig:
        return self._on_loop("put", self.aput(config, checkpoint, metadata, new_versions))

    def put_writes(self, config: RunnableConfig, writes: Sequence[Tuple[str, Any]], task_id: str,
                   task_path: str = "") -> None:
        self._on_loop("put_writes", self.aput_writes(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        self._on_loop("delete_thread", self.adelete_thread(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._on_loop("delete_for_runs", self.adelete_for_runs(run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._on_loop("copy_thread", self.acopy_thread(source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest",
              keep_last: Optional[int] = None, max_results: int = 10000) -> None:
        self._on_loop("prune", self.aprune(thread_ids, strategy=strategy, keep_last=keep_last,
                                           max_results=max_results))


async def _all(items: AsyncIterator[T]) -> List[T]:
    return [item async for item in items]
