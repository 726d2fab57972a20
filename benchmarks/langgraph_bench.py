"""LangGraph savers side by side: put, get_tuple, list(limit=10), bytes per checkpoint.

The workload is an agent step: a 10 KB ``messages`` channel that changes every
step and a 10 KB ``documents`` channel that never changes after the first.
Ours stores ``documents`` once; a saver that copies every channel into every
checkpoint stores it every time. ``langgraph-checkpoint-redis`` needs RedisJSON
and RediSearch: it is measured beside ours on one such server, ``LANGGRAPH_REDIS_URL``
or one started from ``scripts/fetch-trixie-servers`` and ``scripts/fetch-redis-modules``.
"""
from __future__ import annotations

import contextlib
import os
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

import redis

from .side_by_side import interleaved, server_cpu, summary, timed
from .states import conversation


def _checkpoint(saver: Any, step: int, versions: Dict[str, Any], values: Dict[str, Any]) -> Tuple[Any, Dict[str, Any]]:
    from langgraph.checkpoint.base import empty_checkpoint

    from langgraph.checkpoint.base.id import uuid6

    new_versions = {"messages": saver.get_next_version(versions.get("messages"), None)}
    if step == 0:
        new_versions["documents"] = saver.get_next_version(None, None)
    versions.update(new_versions)
    ckpt = empty_checkpoint()
    ckpt["id"] = str(uuid6(clock_seq=step))
    ckpt["channel_versions"] = dict(versions)
    ckpt["channel_values"] = values
    return ckpt, new_versions


def measure(saver: Any, client: Any, steps: int) -> Dict[str, Any]:
    thread = f"bench-{uuid.uuid4().hex[:8]}"
    state = conversation(10000)
    values = {"messages": state["messages"], "documents": conversation(10000, seed=2)["messages"]}
    versions: Dict[str, Any] = {}
    config: Dict[str, Any] = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    put_lat: List[float] = []
    before = client.info("memory")["used_memory"]
    cpu_before = server_cpu(client)
    start = time.perf_counter()
    for step in range(steps):
        values["messages"] = values["messages"][1:] + values["messages"][:1]  # the step changes it
        ckpt, new = _checkpoint(saver, step, versions, dict(values))
        t0 = time.perf_counter()
        config = saver.put(config, ckpt, {"source": "loop", "step": step}, new)
        put_lat.append(time.perf_counter() - t0)
    put_rate = steps / (time.perf_counter() - start)
    server_us = (server_cpu(client) - cpu_before) / steps * 1e6
    grown = (client.info("memory")["used_memory"] - before) / steps

    latest = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    return {
        "put": summary([put_rate], put_lat),
        "get_tuple": timed(lambda _i: saver.get_tuple(latest), 300),
        "list10": timed(lambda _i: list(saver.list(latest, limit=10)), 300),
        "bytes_per_checkpoint": grown,
        "server_us_per_put": server_us,
    }


def versus_memory(url: str, rounds: int, count: int = 100) -> Dict[str, Dict[str, Dict[str, float]]]:
    """Ours against LangGraph's ``InMemorySaver`` in the same process, interleaved: ``put``
    (the agent step above) and ``get_tuple`` of the latest checkpoint."""
    from langgraph.checkpoint.memory import InMemorySaver

    from redis_checkpoint.langgraph import RedisSaver

    state = conversation(10000)
    ours = RedisSaver.from_url(url, key_prefix=f"lgvs{uuid.uuid4().hex[:6]}")
    savers = {"InMemorySaver": InMemorySaver(), "RedisSaver": ours}
    runs: Dict[str, Any] = {}
    for name, saver in savers.items():
        values = {"messages": state["messages"], "documents": conversation(10000, seed=2)["messages"]}
        runs[name] = {"versions": {}, "values": values, "step": 0,
                      "config": {"configurable": {"thread_id": "vs", "checkpoint_ns": ""}}}

    def put(name: str) -> Any:
        saver, run = savers[name], runs[name]

        def step(_i: int) -> None:
            run["values"]["messages"] = run["values"]["messages"][1:] + run["values"]["messages"][:1]
            ckpt, new = _checkpoint(saver, run["step"], run["versions"], dict(run["values"]))
            run["config"] = saver.put(run["config"], ckpt, {"source": "loop", "step": run["step"]}, new)
            run["step"] += 1
        return step

    latest = {"configurable": {"thread_id": "vs", "checkpoint_ns": ""}}
    out = {
        "put": interleaved({name: put(name) for name in savers}, rounds, count),
        "get_tuple": interleaved({name: (lambda s: lambda _i: s.get_tuple(latest))(saver)
                                  for name, saver in savers.items()}, rounds, count),
    }
    ours.delete_thread("vs")
    ours.close()
    return out


def run(url: str, steps: int = 200) -> Dict[str, Any]:
    """Ours always. langgraph-checkpoint-redis beside ours on one Redis with its modules:
    ``LANGGRAPH_REDIS_URL``, else one started here (``redis_checkpoint.testing.modules``);
    when neither can be had, the report says why."""
    out: Dict[str, Any] = {}
    try:
        from redis_checkpoint.langgraph import RedisSaver
    except ImportError as exc:
        return {"skipped": str(exc)}
    client = redis.Redis.from_url(url)
    ours = RedisSaver.from_url(url, key_prefix=f"lgbench{uuid.uuid4().hex[:6]}")
    out["redis-checkpoint"] = measure(ours, client, steps)
    ours.close()
    client.close()
    try:
        from langgraph.checkpoint.redis import RedisSaver as TheirSaver
    except ImportError:
        out["langgraph-checkpoint-redis"] = {"skipped": "pip install langgraph-checkpoint-redis"}
        return out
    with contextlib.ExitStack() as stack:
        theirs_url: Optional[str] = os.environ.get("LANGGRAPH_REDIS_URL")
        if not theirs_url:
            from redis_checkpoint.testing.modules import module_server

            try:
                theirs_url = stack.enter_context(module_server()).url
            except RuntimeError as exc:
                out["langgraph-checkpoint-redis"] = {"skipped": str(exc)}
                return out
        same = redis.Redis.from_url(theirs_url)
        stack.callback(same.close)
        ours = stack.enter_context(RedisSaver.from_url(theirs_url, key_prefix=f"lgbench{uuid.uuid4().hex[:6]}"))
        out["redis-checkpoint, same server"] = measure(ours, same, steps)
        theirs = stack.enter_context(TheirSaver.from_conn_string(theirs_url))
        theirs.setup()
        out["langgraph-checkpoint-redis"] = measure(theirs, same, steps)
    return out
