"""``redis.asyncio`` clients from a URL, with the defaults of ``connection.connect``.

The same URLs, bounded blocking pools, timeouts, and no retries at the connection
level (the checkpointer's policy retries whole operations). Nothing connects here:
with ``cluster=None``, :func:`async_connect` also returns a coroutine function that
asks the server, before the first operation, whether it is a cluster node, and
gives the client to use (a ``redis.asyncio.RedisCluster`` if so).
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff

from .connection import (
    check_options, is_sentinel, parse_sentinel_url, pool_options, sentinel_options, unreachable,
)
from .errors import StorageError

Resolve = Callable[[], Awaitable[Any]]


class BlockingSentinelConnectionPool(SentinelConnectionPool, aioredis.BlockingConnectionPool):
    """Sentinel's primary lookup on redis-py's bounded, blocking asyncio pool."""


def async_connect(
    url: str,
    *,
    cluster: Optional[bool] = None,
    max_connections: int = 50,
    pool_timeout: Optional[float] = 20.0,
    socket_timeout: Optional[float] = 5.0,
    socket_connect_timeout: Optional[float] = 5.0,
    sentinel_kwargs: Optional[Dict[str, Any]] = None,
    **connection_kwargs: Any,
) -> Tuple[Any, Optional[Resolve]]:
    """A ``redis.asyncio`` client built from ``url``, and what resolves it (see the module
    docstring). ``cluster=True``/``False`` force the choice: nothing to resolve."""
    kwargs = pool_options(url, cluster, dict(
        max_connections=max_connections, socket_timeout=socket_timeout,
        socket_connect_timeout=socket_connect_timeout, retry=Retry(NoBackoff(), 0),
    ), connection_kwargs)
    if is_sentinel(url, cluster):
        return _sentinel_client(url, kwargs, pool_timeout, sentinel_kwargs), None

    def cluster_client() -> Any:
        # a cluster node's connections are bounded by max_connections; there is no pool to wait on
        return aioredis.RedisCluster.from_url(url, **kwargs)

    if cluster:
        return cluster_client(), None
    pool = aioredis.BlockingConnectionPool.from_url(url, timeout=pool_timeout, **kwargs)
    check_options(pool)
    client = aioredis.Redis(connection_pool=pool)
    if cluster is False:
        return client, None

    async def resolve() -> Any:
        try:
            enabled = (await client.info("cluster")).get("cluster_enabled")
        except redis.RedisError as exc:
            await pool.disconnect()
            raise StorageError(unreachable(url, exc), operation="connect") from None
        if not enabled:
            return client
        await pool.disconnect()
        return cluster_client()

    return client, resolve


def _sentinel_client(url: str, kwargs: Dict[str, Any], pool_timeout: Optional[float],
                     sentinel_kwargs: Optional[Dict[str, Any]]) -> Any:
    hosts, service, options = parse_sentinel_url(url)
    pool_kwargs = dict(kwargs, timeout=pool_timeout, **options)
    sentinel = Sentinel(hosts, sentinel_kwargs=sentinel_options(pool_kwargs, sentinel_kwargs))
    return sentinel.master_for(service, connection_pool_class=BlockingSentinelConnectionPool, **pool_kwargs)
