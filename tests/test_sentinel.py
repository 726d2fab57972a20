"""Sentinel: a primary, a replica and three sentinels on loopback, failed over while saving."""
from __future__ import annotations

import logging
import time
from typing import Callable, Dict, Iterator

import pytest
import redis
from redis.sentinel import Sentinel

from redis_checkpoint import RedisCheckpointer, StorageError
from redis_checkpoint.connection import BlockingSentinelConnectionPool
from redis_checkpoint.testing import RedisSentinelServers, RedisServer, wait_until

from .savers import Savers, check_histories

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def sentinels() -> Iterator[RedisSentinelServers]:
    with RedisSentinelServers() as servers:
        yield servers


def wait_new_primary(sentinels: RedisSentinelServers, old: RedisServer, timeout: float = 60.0) -> float:
    start = time.monotonic()
    wait_until(lambda: sentinels.primary() is not old, timeout, "sentinels did not fail over")
    return time.monotonic() - start


def test_from_url_and_master_for_follow_the_primary(sentinels: RedisSentinelServers, prefix: str) -> None:
    with RedisCheckpointer.from_url(sentinels.url, key_prefix=prefix) as cp:
        assert isinstance(cp.client.connection_pool, BlockingSentinelConnectionPool)
        for sentinel in cp.client.connection_pool.sentinel_manager.sentinels:  # no retries below ours
            assert sentinel.connection_pool.connection_kwargs["retry"].get_retries() == 0
        assert "sentinel service 'checkpoints'/0" in repr(cp)
        meta = cp.save("t", {"n": 1})
    sentinel = Sentinel([("127.0.0.1", s.port) for s in sentinels.sentinels])
    client = sentinel.master_for(sentinels.service)
    cp = RedisCheckpointer(client, key_prefix=prefix)
    assert cp.load("t").id == meta.id  # type: ignore[union-attr]
    assert client.connection_pool.get_master_address()[1] == sentinels.primary().port


def fail_over_while_saving(sentinels: RedisSentinelServers, prefix: str, fault: Callable[[RedisServer], None],
                           restart_old: bool, api: str = "sync") -> Dict[str, int]:
    """Three processes save with min_replicas=1 while ``fault(primary)`` runs; the checked totals."""
    cp = RedisCheckpointer.from_url(sentinels.url, key_prefix=prefix)
    old = sentinels.primary()
    savers = Savers(
        sentinels.url, prefix, [["a", "b"], ["c", "d"], ["e"]], api,
        min_replicas=1, min_replicas_timeout=0.5, retry_budget=60,
    )
    fault(old)
    took = wait_new_primary(sentinels, old)
    if restart_old:
        old.start()  # its AOF brings back its data; the sentinels make it a replica
    sentinels.wait_ready()
    time.sleep(1.0)
    results = savers.stop()
    totals = check_histories(cp, results)
    print(f"new primary after {took:.1f}s; {totals}")
    assert totals.get("storage", 0) == 0, [r[2] for r in results]
    cp.close()
    return totals


def test_sentinel_failover_while_saving_loses_nothing(sentinels: RedisSentinelServers, prefix: str, api: str) -> None:
    def failover(_primary: RedisServer) -> None:
        with redis.Redis(port=sentinels.sentinels[0].port) as admin:
            admin.execute_command("SENTINEL", "FAILOVER", sentinels.service)

    fail_over_while_saving(sentinels, prefix, failover, restart_old=False, api=api)


def test_killed_primary_loses_no_save_acknowledged_with_min_replicas(
    sentinels: RedisSentinelServers, prefix: str
) -> None:
    totals = fail_over_while_saving(sentinels, prefix, lambda primary: primary.kill(), restart_old=True)
    assert totals["acked"] > 30


def test_unknown_service_is_named(sentinels: RedisSentinelServers, prefix: str) -> None:
    url = sentinels.url.replace(f"/{sentinels.service}/", "/no-such-service/")
    with RedisCheckpointer.from_url(url, key_prefix=prefix, retry_budget=0.5) as cp:
        with pytest.raises(StorageError) as err:
            cp.save("t", 1)
    assert str(err.value) == ("save of thread 't' failed: MasterNotFoundError: No master found for "
                              "'no-such-service' (the sentinels answered, but none names a live primary "
                              "for that service: check its name)")


def test_sentinels_that_want_a_password(
    sentinels: RedisSentinelServers, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The URL's credentials are the servers'; sentinels with a password of their own are
    told so, at once, and take it through sentinel_kwargs=."""
    admins = [redis.Redis(port=s.port, single_connection_client=True) for s in sentinels.sentinels]
    try:
        for admin in admins:
            admin.execute_command("ACL", "SETUSER", "default", "resetpass", ">sentinel-secret")
        caplog.set_level(logging.WARNING, "redis_checkpoint")
        with RedisCheckpointer.from_url(sentinels.url, key_prefix=prefix) as cp:
            with pytest.raises(StorageError, match="the sentinels refused the credentials: .* sentinel_kwargs="):
                cp.save("t", 1)
        assert not [r for r in caplog.records if "attempt" in r.getMessage()]  # not retried
        with RedisCheckpointer.from_url(sentinels.url, key_prefix=prefix,
                                        sentinel_kwargs={"password": "sentinel-secret"}) as cp:
            meta = cp.save("t", 1)
            assert cp.load("t").id == meta.id  # type: ignore[union-attr]
    finally:
        for admin in admins:  # each connection logged in before the password was set
            admin.execute_command("ACL", "SETUSER", "default", "nopass")
            admin.close()
