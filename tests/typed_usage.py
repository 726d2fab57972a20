"""What a typed caller writes. ``make test`` checks it with mypy --strict; nothing runs it.

A type error here is one every user who type-checks their code would hit.
"""
from __future__ import annotations

from typing import List, Optional

from redis_checkpoint import Checkpoint, RedisCheckpointer


def in_a_with_block(url: str) -> List[str]:
    with RedisCheckpointer.from_url(url, ttl_seconds=60) as cp:  # the block sees a RedisCheckpointer
        longer: RedisCheckpointer = cp.with_ttl(3600)
        longer.save("thread", {"step": 1})
        return list(cp.threads("*"))


def latest_state(cp: RedisCheckpointer, thread_id: str) -> Optional[object]:
    found: Optional[Checkpoint] = cp.load(thread_id)
    return None if found is None else found.state
