"""The ``a*`` methods: the blocking calls run in a worker thread, never on the event loop."""
from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING, Any, AsyncIterator, Dict, Mapping, Optional, Sequence, Tuple

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata, CheckpointTuple

if TYPE_CHECKING:  # langgraph-checkpoint before 4.1 has no DeltaChannelHistory
    from langgraph.checkpoint.base import DeltaChannelHistory


BATCH = 100  # tuples alist takes from list() per worker-thread call (the saver's page size)


class AsyncMethods:
    """Mixed into ``RedisSaver``: each async method is ``asyncio.to_thread`` of its sync twin."""

    async def aget_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        return await asyncio.to_thread(self.get_tuple, config)  # type: ignore[attr-defined]

    async def aget_delta_channel_history(self, *, config: RunnableConfig,
                                         channels: Sequence[str]) -> Mapping[str, DeltaChannelHistory]:
        return await asyncio.to_thread(  # type: ignore[no-any-return]
            lambda: self.get_delta_channel_history(config=config, channels=channels))  # type: ignore[attr-defined]

    async def alist(self, config: Optional[RunnableConfig], *, filter: Optional[Dict[str, Any]] = None,
                    before: Optional[RunnableConfig] = None,
                    limit: Optional[int] = None) -> AsyncIterator[CheckpointTuple]:
        # a batch per worker-thread call: a long history is never held whole, and a
        # consumer that stops early stops the reading
        found = iter(self.list(config, filter=filter, before=before, limit=limit))  # type: ignore[attr-defined]
        while True:
            batch = await asyncio.to_thread(lambda: list(itertools.islice(found, BATCH)))
            for item in batch:
                yield item
            if len(batch) < BATCH:
                return

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
                   new_versions: ChannelVersions) -> RunnableConfig:
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)  # type: ignore[attr-defined]

    async def aput_writes(self, config: RunnableConfig, writes: Sequence[Tuple[str, Any]], task_id: str,
                          task_path: str = "") -> None:
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)  # type: ignore[attr-defined]

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)  # type: ignore[attr-defined]

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await asyncio.to_thread(self.delete_for_runs, run_ids)  # type: ignore[attr-defined]

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await asyncio.to_thread(self.copy_thread, source_thread_id, target_thread_id)  # type: ignore[attr-defined]

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest",
                     keep_last: Optional[int] = None, max_results: int = 10000) -> None:
        await asyncio.to_thread(self.prune, thread_ids, strategy=strategy,  # type: ignore[attr-defined]
                                keep_last=keep_last, max_results=max_results)
