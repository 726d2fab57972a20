"""LangGraph's DeltaChannel: what the saver's retention and ``prune`` must spare.

A ``DeltaChannel`` (beta in LangGraph 1.2) stores its value only every
``snapshot_frequency`` updates and rebuilds it in between from the pending
writes of the checkpoint's ancestors, following parent links back to the last
snapshot. Removing one of those ancestors makes the channel start from nothing,
with no error. ``lg_write.lua`` spares them (its ``chain()``) using the link
each such checkpoint is put with.
"""
from __future__ import annotations

from typing import Any

#: Links followed at most (LangGraph's own bound is 5000 supersteps, configurable).
MAX_DELTA_DEPTH = 1_000_000


def delta_link(metadata: Any, parent: str) -> str:
    """``put``'s link for ``lg_write.lua``: ``"<depth>\\n<parent id>"``, or "" when none is needed.

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
