"""Redis Cluster specifics (the contract tests also run on the cluster via the client fixture)."""
from __future__ import annotations

from typing import Any

import pytest
import redis
from redis.cluster import LoadBalancingStrategy

from redis_checkpoint import RedisCheckpointer
from redis_checkpoint.testing import RedisClusterServers, RedisServer

from .test_contract import TRICKY_IDS

pytestmark = [pytest.mark.redis, pytest.mark.cluster]


def test_every_key_of_a_thread_is_in_one_slot(cluster_client: Any, prefix: str) -> None:
    cp = RedisCheckpointer(cluster_client, key_prefix=prefix)
    node = cluster_client.get_default_node()
    for tid in TRICKY_IDS + [f"user:{i}" for i in range(50)] + ["{x}:{y}", "a:{b", "}{"]:
        slots = {cluster_client.execute_command("CLUSTER KEYSLOT", k, target_nodes=node) for k in cp.keys(tid)}
        assert len(slots) == 1, (tid, cp.keys(tid))
        cp.save(tid, {"tid": tid})  # and the script runs: no CROSSSLOT
        assert cp.load(tid).state == {"tid": tid}  # type: ignore[union-attr]


def test_threads_spread_over_every_primary(cluster_client: Any, prefix: str) -> None:
    cp = RedisCheckpointer(cluster_client, key_prefix=prefix)
    for i in range(60):
        cp.save(f"spread-{i}", i)
    nodes = {cluster_client.get_node_from_key(cp.keys(f"spread-{i}").head).name for i in range(60)}
    assert len(nodes) == 3


def test_from_url_detects_a_cluster(cluster_servers: RedisClusterServers, redis_url: str, prefix: str) -> None:
    with RedisCheckpointer.from_url(cluster_servers.url, key_prefix=prefix) as cp:
        assert isinstance(cp.client, redis.RedisCluster)
        assert cp.save("t", 1).parent_id is None
        assert "cluster" in repr(cp)
    with RedisCheckpointer.from_url(redis_url, key_prefix=prefix) as cp:
        assert isinstance(cp.client, redis.Redis)
    with RedisCheckpointer.from_url(cluster_servers.url, key_prefix=prefix, cluster=True) as cp:
        assert isinstance(cp.client, redis.RedisCluster)
        assert cp.load("t").state == 1  # type: ignore[union-attr]
    with pytest.raises(TypeError, match="cluster"):
        RedisCheckpointer.from_url(redis_url, cluster="yes")


def test_noscript_on_every_node_is_recovered(cluster_client: Any, prefix: str) -> None:
    cp = RedisCheckpointer(cluster_client, key_prefix=prefix)
    for i in range(20):
        cp.save(f"n{i}", 0)
    cluster_client.execute_command("SCRIPT FLUSH", target_nodes=cluster_client.ALL_NODES)
    assert cluster_client.script_exists(cp.engine.scripts.save.sha) == [False]
    for i in range(20):
        assert cp.save(f"n{i}", 1).parent_id is not None
        assert len(cp.list(f"n{i}")) == 2


def test_scripts_are_cached_per_cluster_client(cluster_client: Any, prefix: str) -> None:
    a = RedisCheckpointer(cluster_client, key_prefix=prefix)
    b = RedisCheckpointer(cluster_client, key_prefix=prefix + "b")
    assert a.engine.scripts is b.engine.scripts and a.with_ttl(5).engine.scripts is a.engine.scripts


def test_a_single_server_is_not_taken_for_a_cluster(prefix: str) -> None:
    with RedisServer() as server:
        with RedisCheckpointer.from_url(server.url, key_prefix=prefix) as cp:
            assert not isinstance(cp.client, redis.RedisCluster)


def test_threads_scans_every_primary(cluster_client: Any, prefix: str) -> None:
    cp = RedisCheckpointer(cluster_client, key_prefix=prefix)
    tids = {f"thread-{i}" for i in range(60)}
    for tid in tids:
        cp.save(tid, 1)
    assert set(cp.threads()) == tids
    assert set(cp.threads("thread-1*")) == {t for t in tids if t.startswith("thread-1")}


def _child_saves(cp: RedisCheckpointer, n: int, out: Any) -> None:
    out.put([cp.save(f"fork-{n}-{i}", i).id for i in range(5)])


def test_fork_during_topology_refresh_never_hangs(cluster_servers: RedisClusterServers, prefix: str) -> None:
    import multiprocessing
    import threading

    cp = RedisCheckpointer.from_url(cluster_servers.url, key_prefix=prefix)
    cp.save("parent", 1)
    stop = threading.Event()

    def refresh() -> None:
        while not stop.is_set():
            cp.client.nodes_manager.initialize()

    refresher = threading.Thread(target=refresh)
    refresher.start()
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    try:
        procs = []
        for n in range(20):  # without the at-fork lock handling about 1 in 30 children hung
            p = ctx.Process(target=_child_saves, args=(cp, n, out))
            p.start()
            procs.append(p)
        results = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(30)
            assert p.exitcode == 0
    finally:
        stop.set()
        refresher.join()
    assert all(len(r) == 5 for r in results)
    assert len(list(cp.threads("fork-*"))) == 100
    cp.close()


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "generic"])
def test_a_client_that_reads_from_replicas_still_loads_from_the_primary(
        cluster_servers: RedisClusterServers, prefix: str, fast_path: bool) -> None:
    """Every call goes to the primary owning the thread's slot: no load misses the save
    just before it, and the replicas serve none of our commands."""
    client = redis.RedisCluster.from_url(cluster_servers.url,
                                         load_balancing_strategy=LoadBalancingStrategy.ROUND_ROBIN)
    cp = RedisCheckpointer(client, key_prefix=prefix, fast_path=fast_path)
    replicas = [redis.Redis(port=n.port) for n in cluster_servers.nodes]
    replicas = [r for r in replicas if r.info("replication")["role"] == "slave"]
    before = [int(r.info("commandstats").get("cmdstat_hmget", {}).get("calls", 0)) for r in replicas]
    for i in range(200):
        saved = cp.save(f"t{i % 7}", {"i": i})
        loaded = cp.load(f"t{i % 7}")
        assert loaded is not None and loaded.id == saved.id
    after = [int(r.info("commandstats").get("cmdstat_hmget", {}).get("calls", 0)) for r in replicas]
    assert after == before
    for r in replicas:
        r.close()
    client.close()


def test_a_stale_slot_map_is_corrected_by_moved(cluster_servers: RedisClusterServers, prefix: str, api: str,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """The client's map sends a thread's calls to a primary that does not own its slot:
    the MOVED reply updates the map and the call goes to the owner in the same attempt,
    with either API (redis-py 7 and 8 differ here: the asyncio client's ``move_slot``
    became a coroutine). Later calls go straight to the owner."""
    import asyncio

    import redis.asyncio
    from redis.crc import key_slot

    from redis_checkpoint import AsyncRedisCheckpointer

    def misdirect(client: Any, cp: Any) -> Any:
        slot = key_slot(cp.keys("t").head.encode())
        owner = client.nodes_manager.slots_cache[slot][0]
        client.nodes_manager.slots_cache[slot] = [n for n in client.get_primaries() if n.name != owner.name][:1]
        return slot, owner

    if api == "sync":
        client = redis.RedisCluster.from_url(cluster_servers.url)
        cp = RedisCheckpointer(client, key_prefix=prefix)
        cp.save("t", 1)
        slot, owner = misdirect(client, cp)
        assert cp.save("t", 2, checkpoint_id="two").id == "two" and cp.load("t").state == 2  # type: ignore[union-attr]
        assert client.nodes_manager.slots_cache[slot][0].name == owner.name
        client.close()
        assert not [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]  # no retry, no backoff
        return

    async def go() -> None:
        client = redis.asyncio.RedisCluster.from_url(cluster_servers.url)
        cp = AsyncRedisCheckpointer(client, key_prefix=prefix)
        await cp.save("t", 1)
        slot, owner = misdirect(client, cp)
        assert (await cp.save("t", 2, checkpoint_id="two")).id == "two"
        assert (await cp.load("t")).state == 2  # type: ignore[union-attr]
        assert client.nodes_manager.slots_cache[slot][0].name == owner.name
        await client.aclose()

    asyncio.run(go())
    assert not [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]  # no retry, no backoff
