"""What Redis Cluster needs beyond a single server: fork safety and per-primary scans.

redis-py's node pools notice a fork and reconnect in the child, but
``RedisCluster`` guards its topology with two locks (``_initialization_lock``
and ``_lock``) that a fork can copy *while held*: a child forked during a
topology refresh would then wait forever on its first command. So, as a
timeline, for every cluster client a checkpointer uses:

1. before ``fork()``, the forking thread takes both locks, in redis-py's own
   order, waiting for any refresh in flight to finish;
2. the fork happens with no refresh in progress;
3. parent and child each release both locks; the child's node pools then
   open their own connections on first use.
"""
from __future__ import annotations

import os
import weakref
from typing import Any, Callable, Iterator, List, Optional, Tuple

import redis

from . import keys as _keys
from .globs import thread_glob
from .locks import ForkSafeLock

_tracked: "weakref.WeakSet[Any]" = weakref.WeakSet()
_held: List[Any] = []
_guard = ForkSafeLock()  # guards additions to _tracked


def _locks(client: Any) -> List[Any]:
    manager = getattr(client, "nodes_manager", None)
    found = [getattr(manager, "_initialization_lock", None), getattr(client, "_lock", None)]
    return [lock for lock in found if lock is not None]


def _before_fork() -> None:
    for client in list(_tracked):
        for lock in _locks(client):
            lock.acquire()
            _held.append(lock)


def _after_fork() -> None:
    while _held:
        _held.pop().release()


def track(client: Any) -> None:
    """Make ``client`` (a ``redis.RedisCluster``) safe to use across ``fork()``."""
    if isinstance(client, redis.RedisCluster):
        with _guard:
            _tracked.add(client)


if hasattr(os, "register_at_fork"):  # POSIX only; there is no fork elsewhere
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork, after_in_child=_after_fork)


def scan_keys(client: Any, pattern: str, count: int = 1000) -> Iterator[bytes]:
    """SCAN every primary of a cluster (or the one server) for ``pattern``; never KEYS."""
    if isinstance(client, redis.RedisCluster):
        for node in client.get_primaries():  # type: ignore[no-untyped-call]
            yield from node.redis_connection.scan_iter(match=pattern, count=count)
    else:
        yield from client.scan_iter(match=pattern, count=count)


def scan_threads(client: Any, prefix: str, match: str, suffix: str) -> Iterator[str]:
    """Ids of the threads under ``prefix`` matching the glob ``match`` whose key ``suffix``
    exists (``keys.SUFFIXES[0]`` for the core, a ``GRAPH_SUFFIXES`` key for LangGraph)."""
    pattern, pick = thread_scan(prefix, match, suffix)
    for key in scan_keys(client, pattern):
        thread_id = pick(key)
        if thread_id is not None:
            yield thread_id


def thread_scan(prefix: str, match: str, suffix: str) -> Tuple[str, Callable[[bytes], Optional[str]]]:
    """The SCAN pattern for :func:`scan_threads`, and what picks a thread id from a key
    it finds (``None``: not one of ours, or not matching, as SCAN's pattern may find more)."""
    glob = thread_glob(match)

    def pick(key: bytes) -> Optional[str]:
        try:
            thread_id = _keys.thread_id_of(prefix, key.decode(), suffix)
        except ValueError:  # not UTF-8, or not an escaped id: a stray key, not ours
            return None
        return thread_id if glob.matches(thread_id) else None

    return _keys.thread_pattern(prefix, glob.scan, suffix), pick
