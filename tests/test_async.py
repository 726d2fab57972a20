"""AsyncRedisCheckpointer and AsyncRedisSaver on the event loop: concurrency, cancellation,
and the backends and options of the blocking classes. The shared contract runs in
``test_contract.py`` (its ``async`` form)."""
from __future__ import annotations

import asyncio
import logging
import sys
import threading
from typing import Any, Tuple

import pytest
import redis
import redis.asyncio

from redis_checkpoint import AsyncRedisCheckpointer, ConflictError, RedisCheckpointer, ReplicationError, StorageError
from redis_checkpoint.langgraph import AsyncRedisSaver, RedisSaver
from redis_checkpoint.testing import RedisClusterServers, RedisSentinelServers, RedisServer, free_port



def run(coro: Any) -> Any:
    return asyncio.run(coro)


# -- concurrency on one loop ------------------------------------------------------------


@pytest.mark.redis
def test_concurrent_advances_on_one_loop_lose_no_update(redis_url: str, prefix: str) -> None:
    async def go() -> None:
        async with AsyncRedisCheckpointer.from_url(redis_url, key_prefix=prefix) as cp:
            async def step(state: Any) -> Any:  # a coroutine step, yielding to the others
                await asyncio.sleep(0)
                return {"n": (state or {"n": 0})["n"] + 1}

            await asyncio.gather(*[cp.advance("counter", step, max_conflicts=500) for _ in range(60)])
            latest = await cp.load("counter")
            assert latest is not None and latest.state == {"n": 60}
            assert len(await cp.list("counter")) == 60
            # the task id makes a retried step a no-op, as in the blocking class
            once = await cp.advance("counter", step, checkpoint_id="job-1")
            again = await cp.advance("counter", step, checkpoint_id="job-1")
            assert again.id == once.id and (await cp.load("counter")).state == {"n": 61}  # type: ignore[union-attr]
            with pytest.raises(ConflictError):
                await cp.save("counter", {}, expected_id=None)

    run(go())


@pytest.mark.redis
def test_sync_and_async_checkpointers_share_threads(redis_url: str, prefix: str) -> None:
    sync = RedisCheckpointer.from_url(redis_url, key_prefix=prefix)
    first = sync.save("t", {"from": "sync"})

    async def go() -> str:
        async with AsyncRedisCheckpointer.from_url(redis_url, key_prefix=prefix, ttl_seconds=60) as cp:
            assert (await cp.load("t")).state == {"from": "sync"}  # type: ignore[union-attr]
            meta = await cp.save("t", {"from": "async", "pad": b"x" * 50_000}, expected_id=first.id)
            assert [t async for t in cp.threads()] == ["t"]
            return meta.id

    cid = run(go())
    latest = sync.load("t")
    assert latest is not None and latest.id == cid and latest.state["from"] == "async"
    assert 0 < sync.client.pttl(sync.keys("t").head) <= 60_000  # the async save's TTL
    sync.close()


def test_async_from_url_checks_options_before_connecting() -> None:
    with pytest.raises(TypeError, match="did you mean 'ttl_seconds'"):
        AsyncRedisCheckpointer.from_url("redis://127.0.0.1:1/0", tll_seconds=5)
    with pytest.raises(ValueError, match="max_checkpoints"):
        AsyncRedisCheckpointer.from_url("redis://127.0.0.1:1/0", max_checkpoints=0)
    with pytest.raises(TypeError, match="redis.asyncio client"):
        AsyncRedisCheckpointer(redis.Redis())  # a blocking client goes to RedisCheckpointer


def test_an_unreachable_server_fails_the_first_operation_in_one_line() -> None:
    async def go() -> None:
        cp = AsyncRedisCheckpointer.from_url(f"redis://127.0.0.1:{free_port()}/0")
        with pytest.raises(StorageError, match="connection refused"):
            await cp.load("t")
        await cp.aclose()

    run(go())


# -- cancellation -----------------------------------------------------------------------


@pytest.mark.redis
def test_a_cancelled_save_leaves_all_or_nothing_and_no_unread_reply(redis_url: str, prefix: str) -> None:
    big = {"pad": b"p" * 400_000}  # written and answered over many turns of the loop

    async def go() -> None:
        client = redis.asyncio.Redis.from_url(redis_url, max_connections=4)
        cp = AsyncRedisCheckpointer(client, key_prefix=prefix)
        outcomes = set()
        for turns in range(60):
            cid = f"c{turns}"
            task = asyncio.ensure_future(cp.save("t", {**big, "n": turns}, checkpoint_id=cid))
            for _ in range(turns):
                await asyncio.sleep(0)
            task.cancel()
            try:
                await task
                outcomes.add("saved")
            except asyncio.CancelledError:
                outcomes.add("cancelled")
            got = await cp.load("t", cid)
            listed = cid in [m.id for m in await cp.list("t")]
            assert (got is None) == (not listed)  # the checkpoint is whole, or absent
            if got is not None:
                assert got.state == {**big, "n": turns}
            # the next calls read their own replies: nothing stale was left on a connection
            marker = await cp.save(f"m{turns}", {"turn": turns})
            assert (await cp.load(f"m{turns}")).id == marker.id  # type: ignore[union-attr]
            for conn in list(client.connection_pool._available_connections):
                unread = getattr(conn, "can_read", None) or conn.can_read_destructive  # redis-py 7 has the latter
                assert not conn.is_connected or not await unread()
        assert outcomes == {"saved", "cancelled"}
        await client.aclose()

    run(go())


@pytest.mark.redis
def test_a_cancelled_saver_put_leaves_the_saver_usable(redis_url: str, prefix: str) -> None:
    from langgraph.checkpoint.base import empty_checkpoint

    async def go() -> None:
        async with AsyncRedisSaver.from_url(redis_url, key_prefix=prefix) as saver:
            for turns in range(0, 30, 3):
                checkpoint = empty_checkpoint()
                checkpoint["channel_values"] = {"big": b"b" * 200_000}
                checkpoint["channel_versions"] = {"big": saver.get_next_version(None)}
                config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
                task = asyncio.ensure_future(saver.aput(config, checkpoint, {}, checkpoint["channel_versions"]))
                for _ in range(turns):
                    await asyncio.sleep(0)
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                found = await saver.aget_tuple({"configurable": {"thread_id": "t", "checkpoint_id": checkpoint["id"]}})
                if found is not None:  # whole: with its channel value
                    assert found.checkpoint["channel_values"] == {"big": b"b" * 200_000}

    run(go())


# -- backends and options ---------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.cluster
def test_cluster_url_is_detected_and_spread(cluster_servers: RedisClusterServers, prefix: str) -> None:
    async def go() -> None:
        async with AsyncRedisCheckpointer.from_url(cluster_servers.url, key_prefix=prefix, max_checkpoints=3) as cp:
            for i in range(40):
                await cp.save(f"t{i}", {"i": i})
                await cp.save(f"t{i}", {"i": i + 1})
            assert isinstance(cp.client, redis.asyncio.RedisCluster)
            assert sorted([t async for t in cp.threads()]) == sorted(f"t{i}" for i in range(40))
            assert (await cp.load("t7")).state == {"i": 8}  # type: ignore[union-attr]

    run(go())


@pytest.mark.redis
def test_min_replicas_waits_and_raises_as_the_blocking_class(
    replicated: Tuple[RedisServer, RedisServer], prefix: str
) -> None:
    primary, replica = replicated

    async def go() -> None:
        async with AsyncRedisCheckpointer.from_url(primary.url, key_prefix=prefix, min_replicas=1,
                                                   min_replicas_timeout=0.3) as cp:
            meta = await cp.save("t", {"n": 1})
            on_replica = RedisCheckpointer.from_url(replica.url, key_prefix=prefix)
            assert on_replica.load("t").id == meta.id  # type: ignore[union-attr]
            on_replica.close()
            sleeper = threading.Thread(target=lambda: redis.Redis(port=replica.port).execute_command(
                "DEBUG", "SLEEP", "1.2"))
            sleeper.start()
            await asyncio.sleep(0.1)
            with pytest.raises(ReplicationError) as err:
                await cp.save("t", {"n": 2}, checkpoint_id="lagging")
            sleeper.join()
            assert err.value.acknowledged == 0 and err.value.metadata.id == "lagging"

    run(go())


@pytest.mark.redis
@pytest.mark.slow
def test_sentinel_url(prefix: str) -> None:
    with RedisSentinelServers() as sentinels:
        async def go() -> None:
            async with AsyncRedisCheckpointer.from_url(sentinels.url, key_prefix=prefix) as cp:
                meta = await cp.save("t", {"via": "sentinel"})
                assert (await cp.load("t")).id == meta.id  # type: ignore[union-attr]
                assert "Sentinel" in type(cp.client.connection_pool).__name__

        run(go())


@pytest.mark.redis
def test_tls_url(tmp_path: Any, prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    from redis_checkpoint.testing.tls import make_certificates, server_options

    certificates = make_certificates(str(tmp_path))
    tls_port = free_port()
    with RedisServer(*server_options(certificates, tls_port)):
        async def go() -> None:
            url = f"rediss://localhost:{tls_port}/0"
            async with AsyncRedisCheckpointer.from_url(url, key_prefix=prefix, ssl_ca_certs=certificates.ca,
                                                       cluster=False) as cp:
                meta = await cp.save("t", {"secret": "over tls"})
                assert (await cp.load("t")).id == meta.id  # type: ignore[union-attr]
            async with AsyncRedisCheckpointer.from_url(url, key_prefix=prefix) as untrusted:
                with pytest.raises(StorageError, match="does not trust"):
                    await untrusted.load("t")
            async with AsyncRedisCheckpointer.from_url(url, key_prefix=prefix, cluster=False) as lazy:
                with pytest.raises(StorageError, match="does not trust the server's TLS certificate"):
                    await lazy.save("t", 1)

        caplog.set_level(logging.WARNING, "redis_checkpoint")
        run(go())
        assert not [r for r in caplog.records if "attempt" in r.getMessage()]  # never retried


@pytest.mark.redis
def test_a_dropped_connection_is_retried(redis_url: str, prefix: str) -> None:
    async def go() -> None:
        async with AsyncRedisCheckpointer.from_url(redis_url, key_prefix=prefix, cluster=False) as cp:
            await cp.save("t", 1)
            killer = redis.Redis.from_url(redis_url)
            killer.client_kill_filter(_type="normal", skipme=True)  # every connection of the pool
            killer.close()
            assert (await cp.save("t", 2, checkpoint_id="after")).id == "after"
            assert [m.id for m in await cp.list("t")][0] == "after"

    run(go())


# -- AsyncRedisSaver ----------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.skipif(sys.version_info < (3, 11), reason="LangGraph's interrupt() in an async graph needs Python 3.11")
def test_async_saver_takes_the_incumbents_calls(redis_url: str, prefix: str) -> None:
    from tests import lg_graph

    async def go() -> None:
        client = redis.asyncio.Redis.from_url(redis_url)
        saver = AsyncRedisSaver(redis_client=client, key_prefix=prefix)
        await saver.setup()
        await saver.asetup()
        graph = lg_graph.build(saver)
        config = {"configurable": {"thread_id": "t"}}
        await graph.ainvoke({"messages": [("user", "refund order 7")]}, config)
        state = await graph.aget_state(config)
        assert state.next == ("review",)
        with pytest.raises(asyncio.InvalidStateError, match="RedisSaver"):
            saver.get_tuple(config)  # on the loop it would block it
        assert (await asyncio.to_thread(saver.get_tuple, config)) is not None  # from a thread it waits
        assert len(await asyncio.to_thread(lambda: list(saver.list(config)))) >= 2
        await client.aclose()  # a client given is never closed by the saver
        async with AsyncRedisSaver.from_conn_string(redis_url, key_prefix=prefix) as same:
            assert (await same.aget_tuple(config)) is not None

    run(go())
    # the blocking saver reads what the async one wrote
    with RedisSaver.from_url(redis_url, key_prefix=prefix) as saver:
        assert saver.get_tuple({"configurable": {"thread_id": "t"}}) is not None


@pytest.mark.redis
@pytest.mark.slow
def test_the_asgi_example_counts_every_concurrent_request(redis_url: str) -> None:
    import os
    import re
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, REDIS_URL=redis_url, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    done = subprocess.run([sys.executable, "-m", "examples", "asgi"], capture_output=True, text=True,
                          timeout=300, cwd=root, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    counts = [int(n) for n in re.findall(r"thread-\d: \{'count': (\d+)\}", done.stdout)]
    assert len(counts) == 3 and sum(counts) == 128, done.stdout  # no update lost under concurrency
    assert "served by 2 processes" in done.stdout, done.stdout
