"""A long thread's biggest key, and how long a MIGRATE of it holds the server.

Cluster resharding moves a slot key by key with ``MIGRATE``, and the source serves no
one while it serializes a key. This builds a thread of 6,000 checkpoints of 4 KB of
random bytes (about 24 MB; incompressible, so sizes are what they seem), with the core
checkpointer and with the LangGraph saver, then reports every key's ``MEMORY USAGE``
and the time of a ``MIGRATE ... COPY`` of the biggest to a second server started for it.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Dict, List

from langgraph.checkpoint.base import create_checkpoint, empty_checkpoint

from redis_checkpoint import RedisCheckpointer
from redis_checkpoint.langgraph import RedisSaver

from .scaling import clear

Progress = Callable[[str], None]


def _biggest(client: Any, keys: List[str], target: Any, port: int) -> Dict[str, Any]:
    sizes = {k: int(client.memory_usage(k, samples=0) or 0) for k in keys if client.exists(k)}
    key = max(sizes, key=lambda k: sizes[k])
    took = []
    for _ in range(3):
        target.flushall()
        began = time.perf_counter()
        client.execute_command("MIGRATE", "127.0.0.1", port, key, 0, 60_000, "COPY")
        took.append((time.perf_counter() - began) * 1000)
    return {"keys": len(sizes), "total_mb": sum(sizes.values()) / 2**20, "biggest_mb": sizes[key] / 2**20,
            "migrate_ms": sorted(took)[1]}


def long_thread(client: Any, url: str, progress: Progress, n: int = 6000, size: int = 4000) -> Dict[str, Any]:
    """Core and LangGraph: keys, total and biggest MB, median MIGRATE ms of three."""
    import redis

    from redis_checkpoint.testing import RedisServer

    prefix = "benchlong"
    clear(client, prefix)
    out: Dict[str, Any] = {"checkpoints": n, "state_bytes": size}
    with RedisServer() as server, RedisCheckpointer.from_url(url, key_prefix=prefix) as cp:
        target = redis.Redis(port=server.port)
        for i in range(n):
            cp.save("long", {"i": i, "pad": os.urandom(size)})
        keys = cp.keys("long")
        first, end = client.hmget(keys.head, "s0", "sn")
        progress(f"core thread of {n} built")
        out["core"] = _biggest(client, [*keys, *keys.segments(first or 0, end or 0)], target, server.port)
        saver = RedisSaver(cp)
        config: Any = {"configurable": {"thread_id": "long", "checkpoint_ns": ""}}
        checkpoint = empty_checkpoint()
        for step in range(n):
            checkpoint = create_checkpoint(checkpoint, None, step)
            checkpoint["channel_values"] = {"pad": os.urandom(size)}
            checkpoint["channel_versions"] = {"pad": step + 1}
            config = saver.put(config, checkpoint, {"step": step}, {"pad": step + 1})
        graph = saver.keys("long")
        first, end = client.hmget(graph.head, "s0", "sn")
        progress(f"LangGraph thread of {n} built")
        out["langgraph"] = _biggest(client, [*graph, *graph.segments(first or 0, end or 0)], target, server.port)
        target.close()
    clear(client, prefix)
    return out
