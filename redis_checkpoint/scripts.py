"""The Lua scripts, loaded from package data and bound once per connection pool.

Scripts are redis-py :class:`~redis.commands.core.Script` objects: each
computes its SHA1 once, is sent with EVALSHA and is reloaded transparently on
NOSCRIPT (server restart, failover, ``SCRIPT FLUSH``). They hold no client;
every call passes ``client=``.

Every script opens with a ``#!lua`` line so Redis refuses a writing script
*before it starts* when over ``maxmemory``. fakeredis cannot parse that line,
so for a fakeredis client (and only then) the line is dropped.
"""
from __future__ import annotations

import weakref
from importlib import resources
from typing import Any, NamedTuple, Tuple, Union

from redis.commands.core import Script

from .locks import ForkSafeLock

NAMES = ("save", "load", "load_touch", "list", "lg_read", "lg_write", "delete_if", "touch", "lg_copy")
#: Most checkpoints one call removes: ``save.lua``'s ``TRIM`` and ``lg_write.lua``'s
#: (a LangGraph checkpoint costs about 3x more to remove). Both keep a call near
#: 5 ms of server time; callers that must remove more call again.
TRIM = 1000
LG_TRIM = 250


class Scripts(NamedTuple):
    save: Script
    load: Script
    load_touch: Script
    list: Script
    lg_read: Script
    lg_write: Script
    delete_if: Script
    touch: Script
    lg_copy: Script
    retain: Script  # save.lua again, flagged allow-oom: see freeing_source()
    lg_remove: Script  # lg_write.lua again, flagged allow-oom: see freeing_source()


def source(name: str) -> bytes:
    """The text of ``lua/<name>.lua`` as shipped in the package."""
    return resources.files(__package__).joinpath("lua").joinpath(f"{name}.lua").read_bytes()


def freeing_source(name: str) -> bytes:
    """``lua/<name>.lua`` with ``flags=allow-oom``, for its calls that only delete.

    ``save.lua`` with an empty ``ARGV[1]`` only applies retention (leaving a small
    record of each removed checkpoint for the replay window); ``lg_write.lua``'s
    ``keep_latest`` and ``remove`` only remove checkpoints. Such calls free memory,
    so they must run when the server is over ``maxmemory``, which is when an
    operator prunes. The same text keeps one removal code; only ``admin.prune``
    (``retain``) and the LangGraph saver's ``prune`` and ``delete_for_runs``
    (``lg_remove``) call these copies, never with anything to store.
    """
    first, body = source(name).split(b"\n", 1)
    if first != b"#!lua":
        raise RuntimeError(f"{name}.lua must open with a bare #!lua line")
    return b"#!lua flags=allow-oom\n" + body


def _build(strip_flags: bool) -> Scripts:
    texts = [source(n) for n in NAMES] + [freeing_source("save"), freeing_source("lg_write")]
    if strip_flags:
        texts = [t.split(b"\n", 1)[1] if t.startswith(b"#!lua") else t for t in texts]
    # bytes text: Script needs no client to compute the SHA, so it keeps none.
    return Scripts(*(Script(None, t) for t in texts))  # type: ignore[arg-type]


def is_fakeredis(client: Any) -> bool:
    pool = getattr(client, "connection_pool", None)
    classes = [type(client), getattr(pool, "connection_class", type(None))]
    return any(c.__module__.split(".")[0] == "fakeredis" for c in classes)


_lock = ForkSafeLock()
# Keyed weakly by the pool (or by the client when it has no single pool, as
# RedisCluster): the cache never keeps a pool or client alive.
_by_owner: "weakref.WeakKeyDictionary[Any, Scripts]" = weakref.WeakKeyDictionary()


def scripts_for(client: Any) -> Scripts:
    """The scripts for ``client``, created once per connection pool."""
    owner = getattr(client, "connection_pool", None) or client
    with _lock:
        found = _by_owner.get(owner)
        if found is None:
            found = _by_owner[owner] = _build(is_fakeredis(client))
        return found


def save_args(
    cid: str, mode: str, expected: str, blob: bytes, meta_blob: bytes,
    ttl_ms: int, keep: int, wait: bool, window_ms: int,
) -> Tuple[Union[str, bytes, int], ...]:
    """``save.lua``'s ARGV, in the order its header lists; ``cid=""`` only applies retention."""
    return (cid, mode, expected, blob, meta_blob, ttl_ms, keep, "1" if wait else "", window_ms)
