"""Building a client from a URL: a bounded blocking pool and a retry policy.

Defaults (each can be overridden through ``RedisCheckpointer.from_url``):

* ``BlockingConnectionPool(max_connections=50, timeout=20)``: threads of a
  WSGI worker wait for a connection instead of failing when the pool is busy;
* ``Retry(ExponentialWithJitterBackoff(cap=1.0, base=0.01), retries=10)`` on
  connection errors and timeouts, redis-py's own classes: about 3 s of retries
  at most before an error reaches the caller;
* ``socket_timeout=5``, ``socket_connect_timeout=5``.

redis-py's pool checks the process id and resets itself in a child after
``fork()``, so a client built before gunicorn ``--preload`` or Celery prefork
forks works in every child.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Union

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry


def default_retry() -> Retry:
    return Retry(ExponentialWithJitterBackoff(cap=1.0, base=0.01), retries=10)


def connect(
    url: str,
    *,
    cluster: Optional[bool] = None,
    max_connections: int = 50,
    pool_timeout: Optional[float] = 20.0,
    socket_timeout: Optional[float] = 5.0,
    socket_connect_timeout: Optional[float] = 5.0,
    retry: Optional[Retry] = None,
    **connection_kwargs: Any,
) -> Union[redis.Redis, redis.RedisCluster]:
    """A client on blocking pools built from ``url``.

    ``cluster=None`` asks the server (``INFO cluster``) whether it is a cluster
    node and returns a ``redis.RedisCluster`` if so, else a ``redis.Redis``;
    ``True``/``False`` force the choice.
    """
    if not isinstance(url, str) or not url:
        raise ValueError("url must be a non-empty redis:// or rediss:// URL")
    if cluster not in (None, True, False):
        raise TypeError("cluster must be None, True or False")
    kwargs: Dict[str, Any] = dict(
        max_connections=max_connections,
        timeout=pool_timeout,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_connect_timeout,
        retry=retry if retry is not None else default_retry(),
    )
    kwargs.update(connection_kwargs)
    pool = redis.BlockingConnectionPool.from_url(url, **kwargs)
    client = redis.Redis(connection_pool=pool)
    if cluster is None:
        try:
            cluster = bool(client.info("cluster").get("cluster_enabled"))
        except BaseException:
            pool.disconnect()
            raise
    if not cluster:
        return client
    pool.disconnect()
    return redis.RedisCluster.from_url(
        url, connection_pool_class=redis.BlockingConnectionPool, **kwargs
    )


def describe(client: Any) -> str:
    """``host:port/db`` of a client, for reprs and messages: never credentials."""
    if isinstance(client, redis.RedisCluster):
        node = client.get_default_node()  # type: ignore[no-untyped-call]
        return f"cluster {node.host}:{node.port}" if node else "cluster"
    pool = getattr(client, "connection_pool", None)
    kw = getattr(pool, "connection_kwargs", None) or {}
    if "path" in kw:
        return f"unix:{kw['path']}/{kw.get('db', 0)}"
    if "host" in kw:
        return f"{kw['host']}:{kw.get('port', 6379)}/{kw.get('db', 0)}"
    return type(client).__name__
