"""LangGraph's DeltaChannel: what the saver's retention and ``prune`` must spare.

A ``DeltaChannel`` (beta in LangGraph 1.2) stores its value only every
``snapshot_frequency`` updates and rebuilds it in between from the pending
writes of the checkpoint's ancestors, following parent links back to the last
snapshot. Removing one of those ancestors makes the channel start from nothing,
with no error. ``lg_lib.lua``'s ``chains()`` spares them using the link
each such checkpoint is put with.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Sequence

from ..steps import Steps

if TYPE_CHECKING:  # typing only: langgraph-checkpoint before 4.1 has no DeltaChannelHistory
    from langchain_core.runnables import RunnableConfig
    from langgraph.checkpoint.base import CheckpointTuple, DeltaChannelHistory, PendingWrite

#: Links followed at most (LangGraph's own bound is 5000 supersteps, configurable).
MAX_DELTA_DEPTH = 1_000_000


def delta_link(metadata: Any, parent: str) -> str:
    """``put``'s link for ``lg_put.lua``: ``"<depth>\\n<parent id>"``, or "" when none is needed.

    ``counters_since_delta_snapshot`` in the metadata maps each delta channel not
    snapshotted in this checkpoint to ``(updates, supersteps)`` since its snapshot.
    Each new checkpoint adds one superstep, so the snapshot is at most
    ``supersteps`` parent links back: depth is the largest of them.
    """
    counters = metadata.get("counters_since_delta_snapshot") if isinstance(metadata, dict) else None
    if not parent or not isinstance(counters, dict):
        return ""
    depth = 0
    for pair in counters.values():
        try:
            depth = max(depth, int(pair[1]))
        except (TypeError, ValueError, IndexError):
            continue
    return f"{min(depth, MAX_DELTA_DEPTH)}\n{parent}" if depth > 0 else ""


def history(
    read: Callable[[RunnableConfig], Steps[Sequence[CheckpointTuple]]], config: RunnableConfig,
    channels: Sequence[str],
) -> Steps[Dict[str, DeltaChannelHistory]]:
    """``get_delta_channel_history``, reading the parent chain a stretch per call.

    ``read(config)`` (steps) reads the checkpoint ``config`` names, then its ancestors nearest
    first, as ``lg_chain.lua`` returns them: as far as the delta links go,
    a bounded number per call. The walk uses them while each is the parent of the
    one before, then reads again from the next parent. Per channel: the
    ancestors' writes to it, oldest first, back to the nearest ancestor that
    stores the channel's value, its ``seed`` (none: start empty).
    """
    found: Dict[str, List[PendingWrite]] = {ch: [] for ch in channels}
    seeds: Dict[str, Any] = {}
    remaining = set(channels)
    batch = yield from read(config)
    ahead = iter(batch[1:])
    cursor = batch[0].parent_config if batch else None
    while cursor is not None and remaining:
        tup = next(ahead, None)
        if tup is None or _id(tup.config) != _id(cursor):
            batch = yield from read(cursor)  # past what the last call read: the next stretch
            if not batch:
                break
            tup, ahead = batch[0], iter(batch[1:])
        for write in reversed(tup.pending_writes or ()):
            if write[1] in remaining:
                found[write[1]].append(write)
        values = tup.checkpoint["channel_values"]
        for ch in [c for c in remaining if c in values]:
            seeds[ch] = values[ch]
            remaining.discard(ch)
        cursor = tup.parent_config
    result: Dict[str, DeltaChannelHistory] = {}
    for ch in channels:
        entry: DeltaChannelHistory = {"writes": found[ch][::-1]}
        if ch in seeds:
            entry["seed"] = seeds[ch]
        result[ch] = entry
    return result


def _id(config: RunnableConfig) -> Any:
    return config["configurable"].get("checkpoint_id")
