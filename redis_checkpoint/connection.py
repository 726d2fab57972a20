"""Building a client from a URL: bounded blocking pools, no hidden retries.

URLs: ``redis://``, ``rediss://`` and ``unix://`` for one server (or, detected,
a Redis Cluster), and ``redis+sentinel://[user:password@]host1:26379,host2:26379/<service>[/<db>]``
(``rediss+sentinel://`` for TLS to the sentinels and the servers) for a Sentinel-managed
primary.

Defaults (each can be overridden through ``RedisCheckpointer.from_url``):

* ``BlockingConnectionPool(max_connections=50, timeout=20)``: threads of a
  WSGI worker wait for a connection instead of failing when the pool is busy
  (a blocking Sentinel pool for ``redis+sentinel://``);
* ``socket_timeout=5``, ``socket_connect_timeout=5``;
* no retries at the connection level (``Retry(NoBackoff(), 0)``): the
  checkpointer's own policy (``retries.py``) retries whole operations with
  backoff within a time budget, so attempts never multiply across layers.

redis-py's pools check the process id and reset themselves in a child after
``fork()``, so a client built before gunicorn ``--preload`` or Celery prefork
forks works in every child (cluster clients need more: ``cluster.py``).
"""
from __future__ import annotations

import difflib
import inspect
import os
import re
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool

from .errors import CERTIFICATE_HINT, refused_credentials, untrusted_certificate

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")


class BlockingSentinelConnectionPool(SentinelConnectionPool, redis.BlockingConnectionPool):
    """Sentinel's primary lookup on redis-py's bounded, blocking pool."""


def connect(
    url: str,
    *,
    cluster: Optional[bool] = None,
    max_connections: int = 50,
    pool_timeout: Optional[float] = 20.0,
    socket_timeout: Optional[float] = 5.0,
    socket_connect_timeout: Optional[float] = 5.0,
    sentinel_kwargs: Optional[Dict[str, Any]] = None,
    **connection_kwargs: Any,
) -> Union[redis.Redis, redis.RedisCluster]:
    """A client on blocking pools built from ``url``.

    ``cluster=None`` asks the server (``INFO cluster``) whether it is a cluster
    node and returns a ``redis.RedisCluster`` if so, else a ``redis.Redis``;
    ``True``/``False`` force the choice. A ``redis+sentinel://`` URL gives a
    ``redis.Redis`` that follows the primary Sentinel names.
    """
    kwargs = pool_options(url, cluster, dict(
        max_connections=max_connections, timeout=pool_timeout, socket_timeout=socket_timeout,
        socket_connect_timeout=socket_connect_timeout, retry=Retry(NoBackoff(), 0),
    ), connection_kwargs)
    if is_sentinel(url, cluster):
        return sentinel_client(url, kwargs, sentinel_kwargs)
    pool = redis.BlockingConnectionPool.from_url(url, **kwargs)
    check_options(pool)
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


def pool_options(url: str, cluster: Optional[bool], defaults: Dict[str, Any],
                 given: Dict[str, Any]) -> Dict[str, Any]:
    """``url`` and ``cluster`` checked, and the pool's options: the ``given`` ones over
    the ``defaults`` (whose ``retry`` makes no attempt at the connection level)."""
    if not isinstance(url, str) or not url:
        raise ValueError("url must be a non-empty redis://, rediss://, unix:// or redis+sentinel:// URL")
    if cluster not in (None, True, False):
        raise TypeError("cluster must be None, True or False")
    return {**defaults, **given}


def is_sentinel(url: str, cluster: Optional[bool]) -> bool:
    """Whether ``url`` names a Sentinel-managed primary (which cannot be a cluster)."""
    if url.split("://", 1)[0] not in SENTINEL_SCHEMES:
        return False
    if cluster:
        raise ValueError("cluster=True cannot be used with a redis+sentinel:// URL")
    return True


def parse_sentinel_url(url: str) -> Tuple[List[Tuple[str, int]], str, Dict[str, Any]]:
    """``(sentinel addresses, service name, server connection options)`` of a sentinel URL."""
    parts = urlsplit(url)
    if parts.query:
        raise ValueError("url: a redis+sentinel:// URL takes no query options; pass them as keywords")
    netloc = parts.netloc
    options: Dict[str, Any] = {}
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        if user:
            options["username"] = unquote(user)
        if password:
            options["password"] = unquote(password)
    hosts: List[Tuple[str, int]] = []
    for item in netloc.split(","):
        if item.startswith("["):  # [IPv6]:port
            host, _, rest = item[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else rest
        else:
            host, sep, port = item.rpartition(":")
            if not sep:
                host, port = item, ""
        if not host or not (port.isdigit() or port == ""):
            raise ValueError(f"url: bad sentinel address {item!r}")
        hosts.append((host, int(port) if port else 26379))
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not path or len(path) > 2:
        raise ValueError("url must look like redis+sentinel://host:26379[,host:port...]/<service name>[/<db>]")
    if len(path) == 2:
        if not path[1].isdigit():
            raise ValueError(f"url: the database must be a number, got {path[1]!r}")
        options["db"] = int(path[1])
    if parts.scheme == "rediss+sentinel":
        options["ssl"] = True
    return hosts, path[0], options


def sentinel_options(pool_kwargs: Dict[str, Any], given: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """What the sentinels are reached with: ``given`` (``sentinel_kwargs=``) as it is, else
    the servers' timeouts and connection-level retry (none: the operation's policy retries),
    and, when the servers take TLS, TLS with the same ``ssl_*`` options. No credentials
    unless given: sentinels seldom share the servers' password."""
    if given is not None:
        return given
    tls = bool(pool_kwargs.get("ssl"))
    chosen = {k: v for k, v in pool_kwargs.items()
              if k.startswith("socket_") or k == "retry" or (tls and k.startswith("ssl_"))}
    if tls:
        chosen["ssl"] = True
    return chosen


def sentinel_client(
    url: str, kwargs: Dict[str, Any], sentinel_kwargs: Optional[Dict[str, Any]] = None
) -> redis.Redis:
    """The primary of a Sentinel-managed service, on a blocking Sentinel pool."""
    hosts, service, options = parse_sentinel_url(url)
    pool_kwargs = dict(kwargs)
    pool_kwargs.update(options)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        hosts, sentinel_kwargs=sentinel_options(pool_kwargs, sentinel_kwargs))
    client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        service, connection_pool_class=BlockingSentinelConnectionPool, **pool_kwargs
    )
    check_options(client.connection_pool)
    return client


def unknown_option(exc: TypeError, own: Iterable[str]) -> TypeError:
    """``exc`` (redis-py refusing a keyword) as ``unknown option 'x' (did you mean 'y'?)``,
    the guess taken from ``own`` (the caller's keywords) and every keyword a connection
    takes; ``exc`` itself when it is about something else."""
    found = re.search(r"unexpected keyword argument '(\w+)'", str(exc))
    if found is None:
        return exc
    name = found.group(1)
    known = {*own, *inspect.signature(connect).parameters}
    for kind in (redis.Connection, redis.SSLConnection, redis.UnixDomainSocketConnection):
        known.update(inspect.signature(kind.__init__).parameters)
    known -= {"self", "url", "connection_kwargs", "kwargs", "args"}
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return TypeError(f"unknown option {name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))


def address(url: str) -> str:
    """``host:port`` (or the socket path, or the sentinels) a URL names: never credentials."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if parts.scheme in SENTINEL_SCHEMES:
        return f"the sentinels {netloc}"
    return netloc if ":" in netloc.rsplit("]", 1)[-1] else f"{netloc}:6379"


def unreachable(url: str, exc: BaseException) -> str:
    """One line saying why the server at ``url`` did not answer, and what to check."""
    where = address(url)
    text = str(exc)
    if refused_credentials(exc):
        return (f"Redis at {where} refused the credentials: check the user name and password "
                "in the URL (or the username= and password= options) and the ACL user")
    if untrusted_certificate(exc):
        return f"Redis at {where} has a TLS certificate this client does not trust: {CERTIFICATE_HINT}"
    tls = urlsplit(url).scheme.startswith("rediss")
    if isinstance(exc, redis.TimeoutError):
        if tls:  # a plain server waits for the end of a line that a TLS hello never sends
            return (f"no answer from Redis at {where} in time: is the host reachable, and is the port "
                    "one where the server speaks TLS (rediss://)?")
        return f"no answer from Redis at {where} in time: is the host reachable, and the port right?"
    if not tls and ("reset by peer" in text or "closed by server" in text):
        return (f"Redis at {where} closed the connection at once: if the server only takes TLS, "
                "the URL starts with rediss://")
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return f"cannot reach Redis at {where}: the host name does not resolve; check the URL"
    if "refused" in text.lower() or "Connect call failed" in text:  # asyncio words it so
        return f"cannot reach Redis at {where}: connection refused; is the server running on that port?"
    return f"cannot reach Redis at {where}: {type(exc).__name__}: {text}"


def check_options(pool: Any) -> None:
    """Build one connection of ``pool`` without opening it, and drop it.

    redis-py's pools connect lazily, so a misspelt or unknown keyword
    (``health_check_intervall=30``) would otherwise surface as a ``TypeError`` from the
    first save, possibly long after start-up; this raises it from ``from_url``.
    """
    pool.connection_class(**pool.connection_kwargs)


def reset_after_fork(client: Any) -> None:
    """Forget, in a forked child, every connection inherited from the parent.

    What redis-py's pools do by themselves on their next use when they notice
    the new process id; frameworks with a post-fork hook (Celery
    ``worker_process_init``, gunicorn ``post_fork``) call this to do it at once.
    The parent's sockets are dropped, not closed, so the parent is unaffected.
    """
    if isinstance(client, redis.RedisCluster):
        nodes = list(client.nodes_manager.nodes_cache.values())
        pools = [n.redis_connection.connection_pool for n in nodes if n.redis_connection is not None]
    else:
        pools = [client.connection_pool]
    for pool in pools:
        pool.reset()


def url_from_env() -> Optional[str]:
    """``$REDIS_CHECKPOINT_URL``, else ``$REDIS_URL``: the default URL of the CLI and the demo."""
    return os.environ.get("REDIS_CHECKPOINT_URL") or os.environ.get("REDIS_URL")


def describe(client: Any) -> str:
    """``host:port/db`` of a client, for reprs and messages: never credentials."""
    if isinstance(client, redis.RedisCluster):
        node = client.get_default_node()  # type: ignore[no-untyped-call]
        return f"cluster {node.host}:{node.port}" if node else "cluster"
    pool = getattr(client, "connection_pool", None)
    if isinstance(pool, SentinelConnectionPool):
        return f"sentinel service {pool.service_name!r}/{pool.connection_kwargs.get('db', 0)}"
    kw = getattr(pool, "connection_kwargs", None) or {}
    if "path" in kw:
        return f"unix:{kw['path']}/{kw.get('db', 0)}"
    if "host" in kw:
        return f"{kw['host']}:{kw.get('port', 6379)}/{kw.get('db', 0)}"
    return type(client).__name__
