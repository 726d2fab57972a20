"""Benchmarks for redis-checkpoint: ``python -m benchmarks`` (``make bench``)."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional, Tuple


@contextlib.contextmanager
def target(url: Optional[str]) -> Iterator[Tuple[Any, str, bool]]:
    """``(client, url, started)`` for ``url``, or for a throwaway redis-server when it is empty.

    The client is closed, and a server started here is stopped, on the way out.
    """
    import redis

    with contextlib.ExitStack() as stack:
        started = not url
        if not url:
            from redis_checkpoint.testing import RedisServer

            server = RedisServer()
            stack.callback(server.close)
            url = server.url
        client = redis.Redis.from_url(url)
        stack.callback(client.close)
        yield client, url, started
