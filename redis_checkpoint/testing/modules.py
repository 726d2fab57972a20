"""A redis-server with RedisJSON and RediSearch, to run langgraph-checkpoint-redis beside ours.

Only for tests and benchmarks: ``scripts/fetch-trixie-servers`` fetches Debian trixie's
redis-server 8.0 into ``.trixie/`` and ``scripts/fetch-redis-modules`` the two modules
into ``.redis-modules/`` (``$REDIS_TRIXIE_DIR`` and ``$REDIS_MODULES_DIR`` name others).
"""
from __future__ import annotations

import os
from typing import List

from .server import RedisServer


def module_server_args() -> List[str]:
    """``[binary, "--loadmodule", path, ...]``, or ``RuntimeError`` saying what to fetch."""
    binary = os.path.join(os.environ.get("REDIS_TRIXIE_DIR", ".trixie"), "bin", "redis-server")
    modules = os.environ.get("REDIS_MODULES_DIR", ".redis-modules")
    paths = [os.path.abspath(os.path.join(modules, name)) for name in ("rejson.so", "redisearch.so")]
    missing = [p for p in (binary, *paths) if not os.access(p, os.X_OK)]
    if missing:
        raise RuntimeError(f"no Redis with modules here ({', '.join(missing)} missing): run "
                           "scripts/fetch-trixie-servers and scripts/fetch-redis-modules")
    return [os.path.abspath(binary), "--loadmodule", paths[0], "--loadmodule", paths[1]]


def module_server() -> RedisServer:
    """A throwaway redis-server 8.0 with RedisJSON and RediSearch loaded."""
    binary, *args = module_server_args()
    return RedisServer(*args, binary=binary)
