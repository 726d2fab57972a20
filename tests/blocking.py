"""An ``AsyncRedisCheckpointer`` behind ``RedisCheckpointer``'s blocking calls.

The contract tests take ``cp``/``make_cp`` in two forms, ``sync`` and ``async``; this
is the async one, so one test body checks both classes. Each call runs to its end on
the test's own event loop, which the async client is bound to.
"""
from __future__ import annotations

import asyncio
import inspect
from typing import Any, AsyncIterator, List

from redis_checkpoint import AsyncRedisCheckpointer


async def _all(items: AsyncIterator[Any]) -> List[Any]:
    return [item async for item in items]


class Blocking:
    def __init__(self, acp: AsyncRedisCheckpointer, loop: asyncio.AbstractEventLoop) -> None:
        self.acp = acp
        self.loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.acp, name)
        if name == "threads":
            return lambda *a, **k: iter(self.loop.run_until_complete(_all(attr(*a, **k))))
        if name == "with_ttl":
            return lambda *a, **k: Blocking(attr(*a, **k), self.loop)
        if inspect.iscoroutinefunction(attr):
            return lambda *a, **k: self.loop.run_until_complete(attr(*a, **k))
        return attr
