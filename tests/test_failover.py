"""Redis Cluster faults with real nodes: a killed primary, a forced failover, a slot moving.

These tests change the cluster's topology, so they get a cluster of their own.
"""
from __future__ import annotations

import threading
import time
from typing import Iterator, List, Tuple

import pytest
import redis
from redis.crc import key_slot

from redis_checkpoint import RedisCheckpointer
from redis_checkpoint.testing import RedisClusterServers, RedisServer, wait_until

from .savers import Savers, check_histories

pytestmark = [pytest.mark.redis, pytest.mark.cluster]


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterServers]:
    with RedisClusterServers() as servers:
        yield servers


def node_of(cluster: RedisClusterServers, port: int) -> RedisServer:
    return next(n for n in cluster.nodes if n.port == port)


def owner_port(cluster: RedisClusterServers, key: str) -> int:
    """Port of the primary that serves ``key`` now (asked of a live node)."""
    for node in cluster.nodes:
        if not node.running:
            continue
        with redis.Redis(port=node.port, socket_timeout=2) as client:
            slot = key_slot(key.encode())
            for start, end, primary, *_ in client.execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end:
                    return int(primary[1])
    raise RuntimeError("no live node answered")


def threads_on(cp: RedisCheckpointer, cluster: RedisClusterServers, port: int, count: int, tag: str) -> List[str]:
    out, i = [], 0
    while len(out) < count:
        tid = f"{tag}{i}"
        if owner_port(cluster, cp.keys(tid).head) == port:
            out.append(tid)
        i += 1
    return out


def live_nodes_say_ok(cluster: RedisClusterServers) -> bool:
    for node in cluster.nodes:
        if node.running:
            with redis.Redis(port=node.port, socket_timeout=1) as client:
                if client.cluster("info")["cluster_state"] != "ok":
                    return False
    return True


def wait_cluster_ok(cluster: RedisClusterServers, timeout: float = 60.0) -> None:
    wait_until(lambda: live_nodes_say_ok(cluster), timeout, "cluster did not recover")


def wait_promoted(cluster: RedisClusterServers, node: RedisServer, timeout: float = 60.0) -> None:
    """Wait until ``node`` is a primary and every live node says the cluster is ok."""
    start = time.monotonic()

    def promoted() -> bool:
        with redis.Redis(port=node.port, socket_timeout=1) as client:
            return bool(client.info("replication")["role"] == "master")

    wait_until(promoted, timeout, "the replica was not promoted")
    wait_cluster_ok(cluster, max(1.0, timeout - (time.monotonic() - start)))


def replica_of(cluster: RedisClusterServers, primary_port: int) -> RedisServer:
    with redis.Redis(port=primary_port) as client:
        info = client.info("replication")
    port = next(int(v["port"]) for k, v in info.items() if k.startswith("slave"))
    return node_of(cluster, port)


def test_killed_primary_loses_no_save_acknowledged_with_min_replicas(
    cluster: RedisClusterServers, prefix: str
) -> None:
    """The replica falls behind (DEBUG SLEEP), then its primary is killed with -9.

    Writers with ``min_replicas=1`` get ``ReplicationError`` for the saves the
    replica did not confirm, retry them, and lose nothing they were told was
    saved. A writer without it is told "saved" for writes that the promoted
    replica never had: that is what Redis' asynchronous replication allows, and
    what the README documents.
    """
    cp = RedisCheckpointer.from_url(cluster.url, key_prefix=prefix)
    victim_port = owner_port(cluster, cp.keys("probe").head)
    tids = threads_on(cp, cluster, victim_port, 8, "k")
    durable = Savers(
        cluster.url, prefix, [tids[0:2], tids[2:4], tids[4:6]],
        min_replicas=1, min_replicas_timeout=0.2, retry_budget=60,
    )
    plain = Savers(cluster.url, prefix, [tids[6:8]], retry_budget=60)
    victim = node_of(cluster, victim_port)
    heir = replica_of(cluster, victim_port)
    heir_client = redis.Redis(port=heir.port, socket_timeout=10)
    sleeper = threading.Thread(target=lambda: heir_client.execute_command("DEBUG", "SLEEP", 2))
    sleeper.start()
    time.sleep(1.0)  # a second of writes the replica has not seen
    victim.kill()  # kill -9, while four processes save to its slots
    killed_at = time.monotonic()
    sleeper.join()
    wait_promoted(cluster, heir)
    promoted_after = time.monotonic() - killed_at
    # only now may it come back: restarted empty *before* the promotion, it would
    # still own its slots and its replica would resync to its empty dataset
    victim.start()  # rejoins as a replica of the new primary
    cluster.wait_ready()
    time.sleep(1.0)  # saving goes on with a replica again
    results = durable.stop()
    plain_results = plain.stop()
    totals = check_histories(cp, results)
    plain_totals = check_histories(cp, plain_results, allow_lost=True)
    print(f"promoted after {promoted_after:.1f}s; min_replicas=1: {totals}; plain: {plain_totals}")
    assert totals.get("storage", 0) == 0, [r[2] for r in results]
    assert totals.get("replication", 0) > 0  # the knob did refuse to acknowledge
    assert totals["acked"] > 60
    assert plain_totals.get("lost", 0) > 0  # Redis' own limit, documented in the README
    cp.close()


def test_forced_failover_loses_nothing_even_without_wait(cluster: RedisClusterServers, prefix: str, api: str) -> None:
    """``CLUSTER FAILOVER`` while two processes save, with either API."""
    cp = RedisCheckpointer.from_url(cluster.url, key_prefix=prefix)
    primary_port = owner_port(cluster, cp.keys("probe").head)
    tids = threads_on(cp, cluster, primary_port, 4, "f")
    savers = Savers(cluster.url, prefix, [tids[0:2], tids[2:4]], api, retry_budget=60)
    replica = replica_of(cluster, primary_port)
    # coordinated: the primary stops writes until the replica has caught up, then
    # they swap. Redis aborts a manual failover that takes over 5 s (possible on
    # a loaded 2-core machine), so ask again until it happens.
    for _attempt in range(5):
        with redis.Redis(port=replica.port) as client:
            client.execute_command("CLUSTER", "FAILOVER")
        deadline = time.monotonic() + 8
        while owner_port(cluster, cp.keys(tids[0]).head) != replica.port and time.monotonic() < deadline:
            time.sleep(0.1)
        if owner_port(cluster, cp.keys(tids[0]).head) == replica.port:
            break
    else:
        with open(f"{replica.dir}/redis.log") as log:
            raise AssertionError("the failover did not happen:\n" + "".join(log.readlines()[-20:]))
    time.sleep(1.0)
    results = savers.stop()
    totals = check_histories(cp, results)
    print(totals)
    assert totals.get("storage", 0) == 0, [r[2] for r in results]
    cp.close()


def two_threads_in_one_slot(cp: RedisCheckpointer) -> Tuple[str, str]:
    seen = {}
    for i in range(100000):
        tid = f"m{i}"
        slot = key_slot(cp.keys(tid).head.encode())
        if slot in seen:
            return seen[slot], tid
        seen[slot] = tid
    raise AssertionError("unreachable")


def migrate_slot(cluster: RedisClusterServers, slot: int, source: int, target: int) -> None:
    """Move ``slot`` from the primary on ``source`` to the one on ``target``, a few keys at a time."""
    src = redis.Redis(port=source)
    dst = redis.Redis(port=target)
    src_id = src.execute_command("CLUSTER", "MYID").decode()
    dst_id = dst.execute_command("CLUSTER", "MYID").decode()
    dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
    src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
    time.sleep(0.5)  # saves keep going while the slot is half-moved
    while True:
        keys = src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 10)
        if not keys:
            break
        src.execute_command("MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", *keys)
        time.sleep(0.2)
    # In the order the cluster specification (and redis-cli --cluster reshard) uses:
    # the target first, then the source, then the other primaries. Source first
    # leaves a moment in which the source answers MOVED to the target and the
    # still-importing target MOVED back; redis-py spends its 16 redirections on
    # that ping-pong ("TTL exhausted"), which a loaded CI machine made long
    # enough to hit once.
    dst.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    src.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    for node in cluster.nodes:
        if node.port in (source, target):
            continue
        with redis.Redis(port=node.port) as client:
            if client.info("replication")["role"] == "master":
                client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    src.close()
    dst.close()


def test_moving_a_slot_while_saving_loses_and_duplicates_nothing(
    cluster: RedisClusterServers, prefix: str, api: str
) -> None:
    """A slot migrates key by key (ASK, then MOVED) while two processes save to it."""
    cluster.wait_ready()
    cp = RedisCheckpointer.from_url(cluster.url, key_prefix=prefix)
    plain, durable = two_threads_in_one_slot(cp)
    slot = key_slot(cp.keys(plain).head.encode())
    source = owner_port(cluster, cp.keys(plain).head)
    with redis.Redis(port=source) as client:
        primaries = {
            int(p[1]) for _s, _e, p, *_ in client.execute_command("CLUSTER", "SLOTS")
        }
    target = next(p for p in primaries if p != source)
    # one saver plain (redis-py follows ASK/MOVED), one with min_replicas (our
    # own pipeline on the owner's connection follows them)
    savers = Savers(cluster.url, prefix, [[plain]], api, retry_budget=60)
    durable_savers = Savers(cluster.url, prefix, [[durable]], api, retry_budget=60, min_replicas=1)
    mover = threading.Thread(target=migrate_slot, args=(cluster, slot, source, target))
    mover.start()
    mover.join(60)
    assert not mover.is_alive()
    time.sleep(0.5)
    results = savers.stop() + durable_savers.stop()
    assert owner_port(cluster, cp.keys(plain).head) == target
    totals = check_histories(cp, results)
    print(totals)
    assert totals.get("storage", 0) == 0, [r[2] for r in results]
    cp.close()
