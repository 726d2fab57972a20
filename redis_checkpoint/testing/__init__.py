"""Throwaway ``redis-server`` processes on loopback, for tests, the demo and benchmarks.

Not used by the checkpointer itself. ``RedisServer()`` starts the binary found
on ``PATH`` on a free port, in a temporary directory, with persistence off and
``DEBUG`` enabled (for fault tests); ``close()`` stops it and removes the directory.
``RedisServer(binary=valkey_binary())`` does the same with Valkey.
``RedisClusterServers`` builds a 3+3 cluster from such processes and
``RedisSentinelServers`` a primary, a replica and three sentinels.
"""
from .cluster import RedisClusterServers
from .sentinel import RedisSentinelServers, SentinelServer
from .server import (
    INSTALL_HINT,
    RedisServer,
    ServerGroup,
    docker_answers,
    free_port,
    stop_process,
    valkey_binary,
    wait_replica_up,
    wait_until,
)

__all__ = [
    "INSTALL_HINT",
    "RedisClusterServers",
    "RedisSentinelServers",
    "RedisServer",
    "SentinelServer",
    "ServerGroup",
    "docker_answers",
    "free_port",
    "stop_process",
    "valkey_binary",
    "wait_replica_up",
    "wait_until",
]
