"""Hardening on real servers: eviction policies, BUSY scripts, pools under load, TLS, ACLs, secrets."""
from __future__ import annotations

import asyncio
import logging
import os
import resource
import subprocess
import sys
import threading
import time
import warnings
from typing import Any, List

import pytest
import redis
from langgraph.checkpoint.base import create_checkpoint, empty_checkpoint

from redis_checkpoint import (
    CorruptCheckpointError,
    EvictionWarning,
    RedisCheckpointer,
    StorageError,
)
from redis_checkpoint import admin as admin_views
from redis_checkpoint.codec import Codec
from redis_checkpoint.langgraph import RedisSaver
from redis_checkpoint.testing import RedisServer, free_port

from .clients import Pending
from .savers import chain_ok

pytestmark = pytest.mark.redis


# -- hostile bytes -------------------------------------------------------------

@pytest.mark.parametrize("header", [
    b"\x9b\x00\x00\x00\x00\xff\xff\xff\xff",  # an array of 4 billion items, no items
    b"\xbb\x00\x00\x00\x00\xff\xff\xff\xff",  # a map of 4 billion pairs
    b"\x5b\x00\x00\x00\x00\xff\xff\xff\xff",  # a 4 GiB byte string
    b"\x7b\x7f\xff\xff\xff\xff\xff\xff\xff",  # a text string of 2^63 bytes
    b"\x81" * 300 + b"\x00",  # nesting deeper than the limit
    b"\xd8\x1c\x81\xd8\x1d\x00",  # a shared / cyclic reference
])
def test_declared_sizes_cannot_allocate(header: bytes) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CorruptCheckpointError):
        Codec().decode(b"R\x10" + header)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024  # KiB: < 64 MiB


# -- eviction policy -----------------------------------------------------------

def warnings_of(cp: RedisCheckpointer) -> List[str]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        cp.save("t", 1)
        cp.save("t", 2)  # once per pool, not per save
    return [str(w.message) for w in seen if issubclass(w.category, EvictionWarning)]


def test_eviction_policies_that_can_lose_checkpoints_warn(prefix: str) -> None:
    with RedisServer() as server:
        admin = redis.Redis(port=server.port)
        for policy, ttl, expected in (
            ("noeviction", None, 0), ("allkeys-lru", None, 1), ("volatile-lru", None, 0),
            ("volatile-lru", 60, 1), ("allkeys-random", 60, 1),
        ):
            admin.config_set("maxmemory-policy", policy)
            with RedisCheckpointer.from_url(server.url, key_prefix=prefix, ttl_seconds=ttl) as cp:
                found = warnings_of(cp)
            assert len(found) == expected, (policy, ttl, found)
            assert all(policy in message and "noeviction" in message for message in found)
        admin.close()


def test_the_langgraph_saver_warns_too(prefix: str) -> None:
    pytest.importorskip("langgraph")
    from langgraph.checkpoint.base import empty_checkpoint

    from redis_checkpoint.langgraph import RedisSaver

    with RedisServer("--maxmemory-policy", "allkeys-lru") as server:
        saver = RedisSaver.from_url(server.url, key_prefix=prefix)
        config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            for _ in range(2):  # once per pool, not per put
                config = saver.put(config, empty_checkpoint(), {}, {})
        found = [str(w.message) for w in seen if issubclass(w.category, EvictionWarning)]
        assert len(found) == 1 and "allkeys-lru" in found[0], found
        saver.close()


def test_no_config_command_means_no_warning_and_no_failure(prefix: str) -> None:
    with RedisServer("--rename-command", "CONFIG", "", "--maxmemory-policy", "allkeys-lru") as server:
        with RedisCheckpointer.from_url(server.url, key_prefix=prefix) as cp:
            assert warnings_of(cp) == []
            assert cp.load("t").state == 2  # type: ignore[union-attr]


# -- a busy server ----------------------------------------------------------------

def test_busy_script_surfaces_fast_without_a_retry_storm(prefix: str) -> None:
    with RedisServer("--busy-reply-threshold", "100") as server:
        admin = redis.Redis(port=server.port)
        cp = RedisCheckpointer.from_url(server.url, key_prefix=prefix, retry_budget=30)
        cp.save("t", 0)
        spinner = Pending(server.port, "EVAL", "while true do end", 0)  # runs before the save
        start = time.monotonic()
        with pytest.raises(StorageError, match="BUSY") as err:
            cp.save("t", 1)
        waited = time.monotonic() - start
        assert err.value.operation == "save"
        assert waited < 15  # not retried until the 30 s budget: surfaced at once
        admin.script_kill()
        assert "Script killed" in str(spinner.join())
        assert [m for m in cp.list("t")][0].parent_id is None  # nothing was written
        cp.close()
        admin.close()


# -- connection pools ---------------------------------------------------------------

def test_threads_wait_for_a_bounded_pool_and_an_exhausted_pool_is_a_clear_error(
    redis_url: str, prefix: str
) -> None:
    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix, max_connections=2, pool_timeout=30)
    errors: List[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                cp.save(f"t{n % 4}", i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(len(chain_ok(cp, f"t{k}")) for k in range(4)) == 320
    cp.close()
    tight = RedisCheckpointer.from_url(redis_url, key_prefix=prefix, max_connections=1, pool_timeout=0.2,
                                       retry_budget=0.5)
    pool = tight.client.connection_pool
    held = pool.get_connection()
    try:
        with pytest.raises(StorageError, match="No connection available") as err:
            tight.save("x", 1)
        assert err.value.operation == "save"
    finally:
        pool.release(held)
    assert tight.load("x") is None  # nothing was written
    tight.close()


# -- TLS ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificates(tmp_path_factory: Any) -> Any:
    from redis_checkpoint.testing.tls import make_certificates

    return make_certificates(str(tmp_path_factory.mktemp("tls")))


def test_tls_server_through_rediss_url(certificates: Any, prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    tls_port = free_port()
    from redis_checkpoint.testing.tls import server_options

    with RedisServer(*server_options(certificates, tls_port)):
        url = f"rediss://localhost:{tls_port}/0"
        with RedisCheckpointer.from_url(url, key_prefix=prefix, ssl_ca_certs=certificates.ca) as cp:
            meta = cp.save("t", {"secret": "over tls"})
            assert cp.load("t").id == meta.id  # type: ignore[union-attr]
            assert cp.client.connection_pool.connection_class.__name__ == "SSLConnection"
        # a certificate this client does not trust: refused, said so, and never retried
        with pytest.raises(StorageError, match="does not trust") as err:
            RedisCheckpointer.from_url(url, key_prefix=prefix)
        assert "ssl_ca_certs=" in str(err.value) and err.value.operation == "connect"
        caplog.set_level(logging.WARNING, "redis_checkpoint")
        with RedisCheckpointer.from_url(url, key_prefix=prefix, cluster=False) as lazy:
            with pytest.raises(StorageError, match="does not trust the server's TLS certificate"):
                lazy.save("t", 1)
        assert not [r for r in caplog.records if "attempt" in r.getMessage()]


@pytest.mark.cluster
def test_tls_cluster(certificates: Any, prefix: str) -> None:
    """A Redis Cluster that speaks TLS, nodes to each other too (managed services offer
    this): the checkpointer finds the cluster, routes to every primary and reads back,
    blocking and asyncio alike."""
    from redis_checkpoint import AsyncRedisCheckpointer
    from redis_checkpoint.langgraph import RedisSaver
    from redis_checkpoint.testing import RedisClusterServers

    with RedisClusterServers(tls=certificates) as cluster:
        with RedisCheckpointer.from_url(cluster.tls_url, key_prefix=prefix, ssl_ca_certs=certificates.ca) as cp:
            assert isinstance(cp.client, redis.RedisCluster)
            threads = [f"t{i}" for i in range(30)]  # ids whose slots fall on every primary
            assert len({cp.client.get_node_from_key(f"{prefix}:{{{t}}}:head").name for t in threads}) == 3
            for t in threads:
                cp.save(t, {"thread": t, "step": 1})
                cp.save(t, {"thread": t, "step": 2})
            assert all(cp.load(t).state == {"thread": t, "step": 2} for t in threads)  # type: ignore[union-attr]
            assert sorted(cp.threads()) == sorted(threads) and len(cp.list("t7")) == 2
            conn = cp.client.get_default_node().redis_connection.connection_pool.get_connection()
            assert type(conn).__name__ == "SSLConnection"

        async def go() -> None:
            async with AsyncRedisCheckpointer.from_url(cluster.tls_url, key_prefix=prefix,
                                                       ssl_ca_certs=certificates.ca) as acp:
                for t in threads:
                    latest = await acp.load(t)
                    assert latest is not None
                    await acp.save(t, {"thread": t, "step": 3}, expected_id=latest.id)
                assert [(await acp.load(t)).state["step"] for t in threads] == [3] * 30  # type: ignore[union-attr]

        asyncio.run(go())
        config = {"configurable": {"thread_id": "lg", "checkpoint_ns": ""}}
        with RedisSaver.from_url(cluster.tls_url, key_prefix=prefix + "lg", ssl_ca_certs=certificates.ca) as saver:
            from langgraph.checkpoint.base import empty_checkpoint

            saver.put(config, empty_checkpoint(), {"step": 0}, {})
            assert saver.get_tuple(config) is not None
        with pytest.raises(StorageError, match="does not trust"):  # the CA is not passed
            RedisCheckpointer.from_url(cluster.tls_url, key_prefix=prefix)


#: redis-py 8.0 and 8.1 (the newest for Python 3.10) name each sentinel's error by its
#: class alone, so a StorageError can only give the general hint, and cannot tell an
#: untrusted certificate (which is then retried).
SENTINEL_REASONS = not redis.__version__.startswith(("8.0.", "8.1."))
SENTINELS_UNANSWERED = "no sentinel answered: .* ssl_ca_certs="
PLAIN_TO_TLS_SENTINELS = ("closed the connection at once: if they only take TLS" if SENTINEL_REASONS
                          else SENTINELS_UNANSWERED)


def test_tls_sentinel(certificates: Any, prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    """Sentinels and servers that take only TLS clients (replication over TLS too): a
    rediss+sentinel:// URL reaches both with TLS, follows a failover, and waits for the
    replica; mixing up TLS and plain, or leaving out the CA, is named, not retried blind."""
    from redis.asyncio.retry import Retry as AsyncRetry
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from redis_checkpoint import AsyncRedisCheckpointer
    from redis_checkpoint.testing import RedisSentinelServers, wait_until

    with RedisSentinelServers(tls=certificates) as sentinels:
        url = sentinels.tls_url
        with RedisCheckpointer.from_url(url, key_prefix=prefix, ssl_ca_certs=certificates.ca,
                                        min_replicas=1, retry_budget=30) as cp:
            first = cp.save("t", {"step": 1})
            pool = cp.client.connection_pool
            assert "SSL" in pool.connection_class.__name__
            assert all(s.connection_pool.connection_class is redis.SSLConnection
                       for s in pool.sentinel_manager.sentinels)
            old = sentinels.primary()
            assert pool.get_master_address()[1] == sentinels.announced(old)
            with redis.Redis(port=sentinels.sentinels[0].port) as admin:
                admin.execute_command("SENTINEL", "FAILOVER", sentinels.service)
            wait_until(lambda: sentinels.primary() is not old, 60, "the sentinels did not fail over")
            sentinels.wait_ready()
            second = cp.save("t", {"step": 2}, expected_id=first.id)  # on the new primary, a replica waited for
            assert pool.get_master_address()[1] == sentinels.announced(sentinels.primary())
            assert [m.id for m in cp.list("t")] == [second.id, first.id]

        async def go() -> None:
            async with AsyncRedisCheckpointer.from_url(url, key_prefix=prefix, ssl_ca_certs=certificates.ca) as acp:
                latest = await acp.load("t")
                assert latest is not None and latest.id == second.id
                await acp.save("t", {"step": 3}, expected_id=latest.id)
            async with AsyncRedisCheckpointer.from_url(url, key_prefix=prefix, ssl_ca_certs=certificates.ca,
                                                       sentinel_kwargs={"retry": AsyncRetry(NoBackoff(), 0)},
                                                       retry_budget=0.5) as plain:
                with pytest.raises(StorageError, match=PLAIN_TO_TLS_SENTINELS):
                    await plain.load("t")

        asyncio.run(go())
        config = {"configurable": {"thread_id": "lg", "checkpoint_ns": ""}}
        with RedisSaver.from_url(url, key_prefix=prefix + "lg", ssl_ca_certs=certificates.ca) as saver:
            saver.put(config, empty_checkpoint(), {"step": 0}, {})
            assert saver.get_tuple(config) is not None

        retried = [r.getMessage() for r in caplog.records if "attempt" in r.getMessage()]
        assert not [m for m in retried if "<redis." in m]  # no client reprs in the retry log
        caplog.set_level(logging.WARNING, "redis_checkpoint")
        caplog.clear()
        with RedisCheckpointer.from_url(url, key_prefix=prefix, retry_budget=2) as no_ca:  # the CA is not passed
            with pytest.raises(StorageError, match="does not trust the sentinels' TLS certificate"
                               if SENTINEL_REASONS else SENTINELS_UNANSWERED):
                no_ca.save("t", 4)
        if SENTINEL_REASONS:  # refused at once, not retried
            assert not [r for r in caplog.records if "attempt" in r.getMessage()]
        # sentinels reached without TLS (sentinel_kwargs= given without ssl=True)
        with RedisCheckpointer.from_url(url, key_prefix=prefix, ssl_ca_certs=certificates.ca,
                                        sentinel_kwargs={"retry": Retry(NoBackoff(), 0)}, retry_budget=0.5) as plain:
            with pytest.raises(StorageError, match=PLAIN_TO_TLS_SENTINELS):
                plain.save("t", 4)
        with RedisCheckpointer.from_url(url, key_prefix=prefix, ssl_ca_certs=certificates.ca) as cp:
            assert cp.load("t").state == {"step": 3}  # type: ignore[union-attr]


# -- ACL --------------------------------------------------------------------------------

ACL_COMMANDS = (  # as README.md and SECURITY.md list them (ASKING: a cluster moving a slot)
    "+evalsha +script|load +multi +exec +asking +hmget +hget +hset +hdel +hincrby +hexists +hlen +hscan +zadd "
    "+zrem +zcard +zscore +zrange +zrangebylex +zrevrangebylex +zlexcount +zremrangebylex +zremrangebyrank "
    "+pexpire +pttl +persist +unlink +exists +copy +rename +set +type +time +scan +info +wait +memory|usage "
    "+config|get"
)


def test_least_privilege_acl_user(prefix: str) -> None:
    with RedisServer() as server:
        admin = redis.Redis(port=server.port)
        admin.execute_command(
            "ACL", "SETUSER", "checkpoints", "on", ">cp-pass", "resetkeys", f"~{prefix}:*", "resetchannels",
            "-@all", *ACL_COMMANDS.split(),
        )
        admin.set("other", "untouched")
        url = f"redis://checkpoints:cp-pass@127.0.0.1:{server.port}/0"
        with RedisCheckpointer.from_url(url, key_prefix=prefix, max_checkpoints=3, ttl_seconds=60) as cp:
            ids = [cp.save("t", i).id for i in range(5)]
            assert cp.load("t").state == 4 and cp.load("t", ids[3]).state == 3  # type: ignore[union-attr]
            assert [m.id for m in cp.list("t")] == ids[:1:-1]
            info = admin_views.thread_info(cp, "t")
            assert info is not None and info.checkpoints == 3
            assert admin_views.prune(cp, "t", 1) == 2
            assert list(cp.threads()) == ["t"] and cp.delete_thread("t")
            with pytest.raises(redis.exceptions.NoPermissionError):
                cp.client.get("other")
            with pytest.raises(redis.exceptions.NoPermissionError):
                cp.client.set("other", "changed")
        # the LangGraph saver under the same user: every script and command it sends
        with RedisSaver.from_url(url, key_prefix=prefix, max_checkpoints=2) as saver:
            config: Any = {"configurable": {"thread_id": "g", "checkpoint_ns": ""}}
            checkpoint = empty_checkpoint()
            for step in range(3):
                checkpoint = create_checkpoint(checkpoint, None, step)
                version = saver.get_next_version(None)
                checkpoint["channel_values"], checkpoint["channel_versions"] = {"n": step}, {"n": version}
                config = saver.put(config, checkpoint, {"step": step, "run_id": "r"}, {"n": version})
                saver.put_writes(config, [("n", step)], f"task{step}")
            saver.copy_thread("g", "h")
            saver.copy_thread("g", "h")  # over an existing target
            latest = saver.get_tuple({"configurable": {"thread_id": "h"}})
            assert latest is not None and latest.checkpoint["channel_values"] == {"n": 2}
            assert len(list(saver.list({"configurable": {"thread_id": "g"}}))) == 2
            saver.prune(["g"])
            saver.delete_for_runs(["r"])
            saver.delete_thread("g")
            assert list(saver.list(None)) == []
        with RedisCheckpointer.from_url(url, key_prefix="elsewhere", retry_budget=0.2) as outside:
            with pytest.raises(StorageError, match="NoPermissionError"):
                outside.save("t", 1)
        assert admin.get("other") == b"untouched" and admin.keys("elsewhere*") == []
        admin.close()


# -- secrets ----------------------------------------------------------------------------

def test_no_password_in_reprs_or_errors(prefix: str) -> None:
    with RedisServer("--requirepass", "hunter2-secret") as server:
        url = f"redis://:hunter2-secret@127.0.0.1:{server.port}/0"
        with RedisCheckpointer.from_url(url, key_prefix=prefix) as cp:
            cp.save("t", 1)
            assert "hunter2" not in repr(cp)
        wrong = f"redis://:wrong-hunter3@127.0.0.1:{server.port}/0"
        with pytest.raises(StorageError) as err:
            RedisCheckpointer.from_url(wrong, key_prefix=prefix, retry_budget=0.2)
        assert "hunter3" not in str(err.value) and "hunter2" not in str(err.value)
        sentinel = f"redis+sentinel://:s3ntinel-pass@127.0.0.1:{free_port()}/svc/0"
        with pytest.raises(StorageError) as err:
            RedisCheckpointer.from_url(sentinel, key_prefix=prefix, retry_budget=0.2).save("t", 1)
        assert "s3ntinel" not in str(err.value)
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        done = subprocess.run([sys.executable, "-m", "redis_checkpoint", "--url", wrong, "threads"],
                              capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 3 and "hunter" not in done.stderr + done.stdout
