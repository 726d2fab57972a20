"""min_replicas: a save waits for replicas on its own connection, and says when they lag."""
from __future__ import annotations

from typing import Tuple

import pytest
import redis

from redis_checkpoint import RedisCheckpointer, ReplicationError
from redis_checkpoint.testing import RedisClusterServers, RedisServer

from .clients import sleeping

pytestmark = pytest.mark.redis


def test_min_replicas_confirms_and_the_replica_has_the_save(
    replicated: Tuple[RedisServer, RedisServer], prefix: str
) -> None:
    primary, replica = replicated
    with RedisCheckpointer.from_url(primary.url, key_prefix=prefix, min_replicas=1) as cp:
        meta = cp.save("t", {"n": 1})
    with RedisCheckpointer.from_url(replica.url, key_prefix=prefix) as on_replica:
        got = on_replica.load("t")  # the latest is a plain HMGET: it runs on a replica
        assert got is not None and got.id == meta.id and got.state == {"n": 1}


def test_min_replicas_fails_while_the_replica_sleeps(
    replicated: Tuple[RedisServer, RedisServer], prefix: str
) -> None:
    primary, replica = replicated
    cp = RedisCheckpointer.from_url(primary.url, key_prefix=prefix, min_replicas=1, min_replicas_timeout=0.3)
    before = cp.save("t", {"n": 0})
    sleeper = sleeping(replica.port, 1.5)
    with pytest.raises(ReplicationError) as err:
        cp.save("t", {"n": 1}, checkpoint_id="lagging")
    sleeper.join()
    assert err.value.acknowledged == 0 and err.value.required == 1
    assert err.value.metadata.id == "lagging" and err.value.metadata.parent_id == before.id
    assert err.value.operation == "save" and "0 of the 1 replicas" in str(err.value)
    # stored on the primary all along; saving the same id again is a no-op that waits again
    again = cp.save("t", {"n": 1}, checkpoint_id="lagging")
    assert again.id == "lagging" and again.parent_id == before.id
    assert [m.id for m in cp.list("t")] == ["lagging", before.id]
    # a replica that is asleep during the *replay* makes the replay fail too:
    # the replay's WAIT has its own write to count, it does not pass vacuously
    sleeper = sleeping(replica.port, 1.5)
    with pytest.raises(ReplicationError):
        cp.save("t", {"n": 1}, checkpoint_id="lagging")
    sleeper.join()
    cp.close()


def test_the_langgraph_saver_waits_for_replicas_too(
    replicated: Tuple[RedisServer, RedisServer], prefix: str
) -> None:
    from langgraph.checkpoint.base import empty_checkpoint

    from redis_checkpoint.langgraph import RedisSaver

    primary, replica = replicated
    saver = RedisSaver.from_url(primary.url, key_prefix=prefix, min_replicas=1, min_replicas_timeout=0.3)
    config = {"configurable": {"thread_id": "g", "checkpoint_ns": ""}}
    first = saver.put(config, empty_checkpoint(), {"step": 0}, {})
    saver.put_writes(first, [("n", 1)], "task")
    on_replica = RedisSaver.from_url(replica.url, key_prefix=prefix)
    got = on_replica.get_tuple(first)
    assert got is not None and got.pending_writes == [("task", "n", 1)]
    sleeper = sleeping(replica.port, 1.5)
    with pytest.raises(ReplicationError) as err:
        saver.put(first, empty_checkpoint(), {"step": 1}, {})
    sleeper.join()
    assert err.value.acknowledged == 0 and err.value.thread_id == "g" and err.value.operation == "put"
    assert "the write" in str(err.value)
    sleeper = sleeping(replica.port, 1.5)
    with pytest.raises(ReplicationError) as err:
        saver.put_writes(first, [("n", 2)], "other-task")
    sleeper.join()
    assert err.value.operation == "put_writes"
    # written on the primary all along; a removal waits as well
    assert len(list(saver.list({"configurable": {"thread_id": "g"}}))) == 2
    saver.prune(["g"])
    assert len(list(on_replica.list({"configurable": {"thread_id": "g"}}))) == 1
    saver.copy_thread("g", "h")  # pages go unacknowledged; the commit behind them waits
    assert len(list(on_replica.list({"configurable": {"thread_id": "h"}}))) == 1
    sleeper = sleeping(replica.port, 1.5)
    with pytest.raises(ReplicationError) as err:
        saver.copy_thread("g", "h2")
    sleeper.join()
    assert err.value.operation == "copy_thread" and err.value.thread_id == "h2"
    saver.close()
    on_replica.close()


def test_without_min_replicas_a_save_does_not_wait(
    replicated: Tuple[RedisServer, RedisServer], prefix: str
) -> None:
    primary, replica = replicated
    with RedisCheckpointer.from_url(primary.url, key_prefix=prefix) as cp:
        sleeper = sleeping(replica.port, 3.0)
        cp.save("t", 1)
        still_asleep = sleeper.is_alive()
        sleeper.join()
    assert still_asleep  # behaviour, not speed: the save returned while the replica slept


@pytest.mark.cluster
def test_cluster_min_replicas_waits_on_the_primary_that_ran_the_save(
    cluster_servers: RedisClusterServers, prefix: str
) -> None:
    cp = RedisCheckpointer.from_url(cluster_servers.url, key_prefix=prefix, min_replicas=1, min_replicas_timeout=0.3)
    cp.save("t", 0)
    key = cp.keys("t").head
    owner = cp.client.get_node_from_key(key)
    with redis.Redis(host=owner.host, port=owner.port) as primary:
        replica_port = next(
            int(r["port"]) for r in primary.info("replication").values() if isinstance(r, dict)
        )
    sleeper = sleeping(replica_port, 1.5)
    with pytest.raises(ReplicationError) as err:
        cp.save("t", 1, checkpoint_id="c1")
    sleeper.join()
    assert err.value.acknowledged == 0
    assert cp.save("t", 1, checkpoint_id="c1").id == "c1"
    assert [m.id for m in cp.list("t")][0] == "c1"
    cp.close()


def test_bad_durability_options_are_refused(prefix: str) -> None:
    import fakeredis

    client = fakeredis.FakeRedis()
    for bad, error in ((-1, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match="min_replicas"):
            RedisCheckpointer(client, key_prefix=prefix, min_replicas=bad)
    for bad_t, error in ((0, ValueError), (-1.0, ValueError), ("1", TypeError), (float("inf"), ValueError)):
        with pytest.raises(error, match="min_replicas_timeout"):
            RedisCheckpointer(client, key_prefix=prefix, min_replicas=1, min_replicas_timeout=bad_t)
    with pytest.raises(ValueError, match="retry_budget"):
        RedisCheckpointer(client, key_prefix=prefix, retry_budget=-1)
    with pytest.raises(TypeError, match="retry"):
        RedisCheckpointer(client, key_prefix=prefix, retry=3)
