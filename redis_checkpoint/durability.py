"""``min_replicas``: run the save script and ``WAIT`` on one connection.

``WAIT n timeout`` counts the replicas that have every write made *on the
connection it is sent on*. redis-py's client takes a pooled connection per
command, and ``RedisCluster`` routes a keyless ``WAIT`` to some other node, so
a ``WAIT`` sent as a separate call can report replicas that never saw the
save (``../shared/RELIABILITY.md``: it returned 1 while the replica slept).
Here the script and ``WAIT`` go out as one non-transactional pipeline, which
redis-py runs on a single connection: for a cluster, the connection of the
primary that owns the thread's slot.

A replayed save (its first reply was lost, the id is already stored) writes
nothing, so a ``WAIT`` on the new connection would have nothing to count. The
script is therefore told to rewrite one field on a replay (``ARGV[8]``), which
puts a write on this connection behind the original one in the replication
stream.
"""
from __future__ import annotations

from typing import Any, List, Sequence, Tuple

import redis
from redis.commands.core import Script
from redis.exceptions import (
    AskError,
    ClusterDownError,
    ConnectionError,
    MovedError,
    NoScriptError,
    SlotNotCoveredError,
)


def run_and_wait(
    client: Any, script: Script, keys: Sequence[str], args: Sequence[Any], replicas: int, timeout_ms: int
) -> Tuple[Any, int]:
    """Run ``script`` then ``WAIT replicas timeout_ms`` on one connection.

    Returns the script's reply and the number of replicas that acknowledged.
    Errors (connection, ``MOVED``, ``TRYAGAIN``...) are raised for the
    caller's retry policy; ``NOSCRIPT`` is handled here by loading the script
    on that node and running the pair again, and ``ASK`` by sending the pair
    to the importing node behind ``ASKING``.
    """
    if not isinstance(client, redis.RedisCluster):
        return _on_target(client, client, script, keys, args, replicas, timeout_ms)
    try:
        node = client.get_node_from_key(keys[0])  # type: ignore[no-untyped-call]
        target = client.get_redis_connection(node)  # type: ignore[no-untyped-call]
        return _on_target(client, target, script, keys, args, replicas, timeout_ms)
    except (ConnectionError, ClusterDownError, SlotNotCoveredError):
        # RedisCluster refreshes its topology after such errors on its own
        # commands; this pipeline bypassed it, so refresh here, then let the
        # retry policy try again.
        try:
            client.nodes_manager.initialize()
        except redis.RedisError:
            pass  # still failing over: the next attempt will tell
        raise


def _on_target(
    client: Any, target: Any, script: Script, keys: Sequence[str], args: Sequence[Any],
    replicas: int, timeout_ms: int,
) -> Tuple[Any, int]:
    replies = _pair(target, script, keys, args, replicas, timeout_ms, asking=False)
    first = replies[0]
    if isinstance(first, MovedError):
        client.nodes_manager.move_slot(first)  # redis-py >= 7.4 (setup.cfg's lower bound)
        raise first  # retried: the next attempt goes to the new owner
    if isinstance(first, AskError):
        importing = client.nodes_manager.get_node(host=first.host, port=first.port)
        if importing is None:
            raise first
        target = client.get_redis_connection(importing)
        replies = _pair(target, script, keys, args, replicas, timeout_ms, asking=True)
        first = replies[0]
    if isinstance(first, Exception):
        raise first
    acked = replies[-1]
    if isinstance(acked, Exception):
        raise acked
    return first, int(acked)


def _pair(
    target: Any, script: Script, keys: Sequence[str], args: Sequence[Any],
    replicas: int, timeout_ms: int, *, asking: bool,
) -> List[Any]:
    """The replies of (``ASKING``,) script, ``WAIT`` on one connection of ``target``.

    ``NOSCRIPT`` means the script did not run: it is loaded on that node and
    the pair sent once more.
    """
    replies = _send_pair(target, script, keys, args, replicas, timeout_ms, asking)
    if isinstance(replies[0], NoScriptError):
        target.script_load(script.script)
        replies = _send_pair(target, script, keys, args, replicas, timeout_ms, asking)
    return replies


def _send_pair(
    target: Any, script: Script, keys: Sequence[str], args: Sequence[Any],
    replicas: int, timeout_ms: int, asking: bool,
) -> List[Any]:
    pipe = target.pipeline(transaction=False)
    try:
        if asking:
            pipe.execute_command("ASKING")
        pipe.evalsha(script.sha, len(keys), *keys, *args)
        pipe.execute_command("WAIT", replicas, timeout_ms)
        replies: List[Any] = pipe.execute(raise_on_error=False)
    finally:
        pipe.reset()
    return replies[1:] if asking else replies
