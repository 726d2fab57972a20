"""The Lua scripts, loaded from package data and bound once per connection pool.

One operation per file under ``lua/``. A file that needs a shared function
(``retain.lua``) gets that text put in front of its own here, after its
``#!lua`` line. Scripts are redis-py :class:`~redis.commands.core.Script`
objects: each computes its SHA1 once; the engine sends ``EVALSHA`` and, on
``NOSCRIPT`` (restart, failover, ``SCRIPT FLUSH``), loads the text and sends
again. They hold no client.

Every script opens with a ``#!lua`` line, so Redis refuses a writing script
*before it starts* when over ``maxmemory``. fakeredis cannot parse that line,
so for a fakeredis client (and only then) the line is dropped.
"""
from __future__ import annotations

import weakref
from importlib import resources
from typing import Any, Dict, NamedTuple, Tuple

from redis.commands.core import Script

from .locks import ForkSafeLock

#: The shared functions each script uses (files under ``lua/`` without a ``#!lua`` line).
USES: Dict[str, Tuple[str, ...]] = {
    "save": ("retain",), "prune": ("retain",), "seal": ("seal_lib",), "lg_seal": ("seal_lib",),
    "lg_put": ("lg_lib",), "lg_remove": ("lg_lib",), "lg_keep_latest": ("lg_lib",),
    "lg_get": ("lg_entry",), "lg_list": ("lg_entry",), "lg_fetch": ("lg_entry",), "lg_chain": ("lg_entry",),
}


class Scripts(NamedTuple):
    save: Script
    prune: Script
    load: Script
    load_touch: Script
    list: Script
    seal: Script
    drop: Script
    refresh: Script
    delete: Script
    touch: Script
    lg_put: Script
    lg_writes: Script
    lg_get: Script
    lg_list: Script
    lg_fetch: Script
    lg_chain: Script
    lg_namespaces: Script
    lg_seal: Script
    lg_rehome: Script
    lg_remove: Script
    lg_keep_latest: Script
    lg_unparent: Script
    lg_copy_snapshot: Script
    lg_copy_stage: Script
    lg_copy_commit: Script


def source(name: str) -> bytes:
    """The text of ``lua/<name>.lua`` as shipped in the package."""
    return resources.files(__package__).joinpath("lua").joinpath(f"{name}.lua").read_bytes()


def text(name: str) -> bytes:
    """``lua/<name>.lua`` with the shared functions it uses put after its ``#!lua`` line."""
    first, body = source(name).split(b"\n", 1)
    if not first.startswith(b"#!lua"):
        raise RuntimeError(f"{name}.lua must open with a #!lua line")
    return b"\n".join([first, *(source(shared) for shared in USES.get(name, ())), body])


def _build(strip_flags: bool) -> Scripts:
    texts = [text(n) for n in Scripts._fields]
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
