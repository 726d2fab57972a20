"""``RedisSaver``: LangGraph's ``BaseCheckpointSaver`` on plain Redis (no modules).

Built on a :class:`~redis_checkpoint.RedisCheckpointer`'s engine: its client, retry
policy, codec, TTL, ``refresh_ttl_on_read``, ``max_checkpoints`` and
``min_replicas``. What each method sends is in ``operations.py``, shared with
``AsyncRedisSaver``; here each runs with blocking I/O.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterator, Mapping, Optional, Sequence, Tuple

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
from ..engine import Engine
from ..errors import check_ids, check_int
from ..store import RedisCheckpointer
from .aio import AsyncMethods
from .compat import ConnStringMethods, target
from .operations import Operations
from .. import telemetry

if TYPE_CHECKING:  # langgraph-checkpoint before 4.1 has no DeltaChannelHistory
    from langgraph.checkpoint.base import DeltaChannelHistory


class RedisSaver(ConnStringMethods, AsyncMethods, Operations, BaseCheckpointSaver[str]):
    """LangGraph checkpoint saver on plain Redis or Redis Cluster."""

    engine: Engine

    def __init__(
        self,
        checkpointer_or_client: Any = None,
        *,
        serde: Optional[SerializerProtocol] = None,
        max_checkpoints: Optional[int] = None,
        **options: Any,
    ) -> None:
        """``checkpointer_or_client``: a ``RedisCheckpointer`` (its options apply) or a
        redis-py client (``options`` are then ``RedisCheckpointer``'s keywords); or a
        URL, ``redis_url=`` or ``redis_client=`` as langgraph-checkpoint-redis takes them
        (``compat.target``). ``max_checkpoints`` keeps the newest N checkpoints of each
        namespace; by default, the given checkpointer's ``max_checkpoints``."""
        check_int("max_checkpoints", max_checkpoints, 1, optional=True)  # before connecting
        base, options = target(checkpointer_or_client, options)
        try:
            super().__init__(serde=serde)
            if isinstance(base, RedisCheckpointer):
                if options:
                    raise TypeError(f"options {sorted(options)} only apply when a client is given")
                self.checkpointer = base
            else:
                self.checkpointer = RedisCheckpointer(base, **options)
        except BaseException:
            if base is not checkpointer_or_client:  # built here from a URL: its pool is ours
                base.close()
            raise
        self.bind(self.checkpointer.engine, max_checkpoints)

    @classmethod
    def from_url(cls, url: str, *, serde: Optional[SerializerProtocol] = None,
                 max_checkpoints: Optional[int] = None, **options: Any) -> "RedisSaver":
        """Connect like ``RedisCheckpointer.from_url`` (``key_prefix`` default: ``"langgraph"``)."""
        return cls(None, redis_url=url, serde=serde, max_checkpoints=max_checkpoints, **options)

    def close(self) -> None:
        self.checkpointer.close()

    # -- writes --------------------------------------------------------------

    def put(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
            new_versions: ChannelVersions) -> RunnableConfig:
        with self._observe("put", config) as op:
            steps = self.put_steps(config, checkpoint, metadata, new_versions)
            self.engine.warn_if_evictable()
            found = self.engine.drive(steps)
            op.outcome = "saved"
            return found

    def put_writes(self, config: RunnableConfig, writes: Sequence[Tuple[str, Any]], task_id: str,
                   task_path: str = "") -> None:
        with self._observe("put_writes", config):
            self.engine.drive(self.put_writes_steps(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        with telemetry.operation("delete_thread", self.engine, thread_id):
            self.engine.drive(self.delete_thread_steps(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        wanted = set(check_ids("run_ids", run_ids))
        if wanted:
            for thread_id in self.threads():
                self.engine.drive(self.remove_runs_steps(thread_id, wanted))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        with telemetry.operation("copy_thread", self.engine, source_thread_id):
            self.engine.drive(self.copy_thread_steps(source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest", keep_last: Optional[int] = None,
              max_results: int = 10000) -> None:
        """Keep the newest checkpoint of each namespace of each thread (``"keep_latest"``),
        or the newest ``keep_last``, or none (``"delete"``, or ``keep_last=0``: the whole
        thread goes). A kept checkpoint whose parent goes is left with no parent, as in
        LangGraph's Postgres saver. ``max_results`` is taken for code written for
        langgraph-checkpoint-redis; this saver reads a thread in pages whatever its size.
        """
        with telemetry.operation("prune", self.engine):
            self.engine.drive(self.prune_steps(thread_ids, strategy, keep_last, max_results))

    # -- reads ---------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> Optional[CheckpointTuple]:
        with self._observe("get_tuple", config):
            return self.engine.drive(self.get_tuple_steps(config))

    def get_delta_channel_history(self, *, config: RunnableConfig,
                                  channels: Sequence[str]) -> Mapping[str, DeltaChannelHistory]:
        """LangGraph's walk up the parent chain for DeltaChannels, its ancestors read in one call.

        The base class reads one checkpoint per call: 46 calls for a channel 45
        steps from its snapshot. Here ``lg_chain.lua`` returns the checkpoint and up
        to ``PAGE`` ancestors through their delta links per call (within a segment),
        and ``delta.history`` walks them as the base class does.
        """
        return self.engine.drive(self.delta_history_steps(config, channels))

    def list(self, config: Optional[RunnableConfig], *, filter: Optional[Dict[str, Any]] = None,
             before: Optional[RunnableConfig] = None, limit: Optional[int] = None) -> Iterator[CheckpointTuple]:
        if limit is not None and limit <= 0:
            return
        wanted = (config or {}).get("configurable", {}).get("thread_id")
        thread_ids = [wanted] if wanted not in (None, "") else list(self.threads())
        with self._observe("list", config, current=False):
            yield from self.engine.stream(self.list_stream(config, thread_ids, filter, before, limit))

    def threads(self, match: str = "*") -> Iterator[str]:
        """Ids of this saver's threads matching the glob ``match`` (``SCAN`` on every
        primary, never ``KEYS``), in no order."""
        return self.engine.scan_threads(match, _keys.GRAPH_SUFFIXES[0])
