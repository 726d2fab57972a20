"""Throwaway ``redis-server`` processes on loopback, for tests, the demo and benchmarks.

Not used by the checkpointer itself. ``RedisServer()`` starts the binary found
on ``PATH`` on a free port, in a temporary directory, with persistence off and
``DEBUG`` enabled (for fault tests); ``close()`` stops it and removes the directory.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Any, List, Optional

import redis
from redis.crc import key_slot

INSTALL_HINT = (
    "redis-server was not found on PATH. Install it (Debian/Ubuntu: "
    "'apt-get install redis-server'; macOS: 'brew install redis'), or set "
    "REDIS_URL to a Redis server the tests may flush."
)


def free_port() -> int:
    """A free loopback port at most 55535 (a cluster node also needs port+10000)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port <= 55535:
            return port
    raise RuntimeError("no free port <= 55535")


class RedisServer:
    """One redis-server process on 127.0.0.1, with its own directory."""

    def __init__(self, *extra: str, port: Optional[int] = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(INSTALL_HINT)
        self.binary = binary
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix=f"rc-redis-{self.port}-")
        self.extra = list(extra)
        self.proc: "Optional[subprocess.Popen[bytes]]" = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def args(self) -> List[str]:
        return [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", self.dir,
            "--save", "",
            "--appendonly", "no",
            "--enable-debug-command", "yes",
            "--logfile", os.path.join(self.dir, "redis.log"),
            *self.extra,
        ]

    def start(self, timeout: float = 10.0) -> None:
        self.proc = subprocess.Popen(self.args(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.BusyLoadingError:
                    pass
                except redis.ConnectionError:
                    if self.proc.poll() is not None:
                        raise RuntimeError(f"redis-server exited; see {self.dir}/redis.log")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on {self.port} did not start")
                time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self, downtime: float = 0.0) -> None:
        self.stop()
        time.sleep(downtime)
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _replicas_ack(client: Any) -> bool:
    """True once a write to a slot this primary owns is acknowledged by a replica.

    A replica reports ``master_link_status:up`` before it acknowledges
    anything (seen here: WAIT timed out for about a second after cluster
    creation), so fault tests wait for a real acknowledgement.
    """
    myself = client.execute_command("CLUSTER", "MYID").decode()
    owned = [
        (int(r[0]), int(r[1])) for r in client.execute_command("CLUSTER", "SLOTS")
        if r[2][2].decode() == myself
    ]
    if not owned:
        return True
    start, end = owned[0]
    key = next(
        k for k in (f"rc-ready:{i}" for i in range(100000)) if start <= key_slot(k.encode()) <= end
    )
    pipe = client.pipeline(transaction=False)  # one connection: WAIT counts this SET
    pipe.set(key, 1, px=10000)
    pipe.execute_command("WAIT", 1, 200)
    return int(pipe.execute()[-1]) >= 1


def docker_answers() -> bool:
    """True when a Docker engine answers (testcontainers can then start Redis)."""
    try:
        import docker  # installed with testcontainers

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


class RedisClusterServers:
    """A local Redis Cluster: ``primaries`` primaries with one replica each, on loopback.

    Nodes start with ``cluster-node-timeout 2000`` and ``repl-diskless-sync-delay 0``;
    the cluster is created with ``redis-cli --cluster create`` and returned only once
    every slot is served and every replica reports ``master_link_status:up``, so
    fault tests may kill a primary right away.
    """

    def __init__(self, primaries: int = 3, timeout: float = 60.0) -> None:
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RuntimeError(INSTALL_HINT.replace("redis-server was", "redis-cli was"))
        self.nodes: List[RedisServer] = []
        try:
            for _ in range(primaries * 2):
                # nodes.conf lands in each node's own --dir
                node = RedisServer(
                    "--cluster-enabled", "yes",
                    "--cluster-node-timeout", "2000",
                    "--repl-diskless-sync-delay", "0",
                )
                self.nodes.append(node)
            subprocess.run(
                [cli, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in self.nodes),
                 "--cluster-replicas", "1", "--cluster-yes"],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout,
            )
            self.wait_ready(timeout)
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if all(self._node_ready(n) for n in self.nodes):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("the local cluster did not become ready")
            time.sleep(0.2)

    @staticmethod
    def _node_ready(node: RedisServer) -> bool:
        if node.proc is None or node.proc.poll() is not None:
            return True  # a node killed on purpose does not hold the others up
        client = redis.Redis(port=node.port, socket_timeout=1)
        try:
            if client.cluster("info")["cluster_state"] != "ok":
                return False
            info = client.info("replication")
            if info["role"] != "master":
                return info.get("master_link_status") == "up"
            return info["connected_slaves"] == 0 or _replicas_ack(client)
        except redis.RedisError:
            return False
        finally:
            client.close()

    def close(self) -> None:
        for node in self.nodes:
            node.close()


def wait_replica_up(replica: RedisServer, timeout: float = 30.0) -> None:
    """Wait until ``replica`` reports ``master_link_status:up``."""
    client = redis.Redis(port=replica.port, socket_timeout=1)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                if client.info("replication").get("master_link_status") == "up":
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"replica on {replica.port} did not sync")
            time.sleep(0.1)
    finally:
        client.close()


class SentinelServer(RedisServer):
    """One ``redis-server --sentinel`` process watching service ``service``."""

    def __init__(self, primary_port: int, service: str, quorum: int = 2) -> None:
        self.monitor = (primary_port, service, quorum)
        super().__init__()

    def args(self) -> List[str]:
        primary_port, service, quorum = self.monitor
        conf = os.path.join(self.dir, "sentinel.conf")
        if not os.path.exists(conf):  # sentinel rewrites its file: keep it across restarts
            with open(conf, "w") as fh:
                fh.write(
                    f"port {self.port}\nbind 127.0.0.1\ndir {self.dir}\n"
                    f"logfile {os.path.join(self.dir, 'sentinel.log')}\n"
                    f"sentinel monitor {service} 127.0.0.1 {primary_port} {quorum}\n"
                    f"sentinel down-after-milliseconds {service} 1000\n"
                    f"sentinel failover-timeout {service} 10000\n"
                )
        return [self.binary, conf, "--sentinel"]


class RedisSentinelServers:
    """A primary, one replica and three sentinels (quorum 2) on loopback.

    Sentinels declare the primary down after 1 s. Returned once the replica is
    in sync and every sentinel sees the replica and the two other sentinels.
    """

    service = "checkpoints"

    def __init__(self, timeout: float = 60.0) -> None:
        self.servers: List[RedisServer] = []
        self.sentinels: List[SentinelServer] = []
        try:
            primary = RedisServer("--repl-diskless-sync-delay", "0", "--appendonly", "yes")
            self.servers.append(primary)
            replica = RedisServer(
                "--repl-diskless-sync-delay", "0", "--appendonly", "yes",
                "--replicaof", "127.0.0.1", str(primary.port),
            )
            self.servers.append(replica)
            wait_replica_up(replica, timeout)
            for _ in range(3):
                self.sentinels.append(SentinelServer(primary.port, self.service))
            self.wait_ready(timeout)
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.service}/0"

    def primary(self) -> RedisServer:
        """The server the sentinels currently name as primary."""
        client = redis.Redis(port=self.sentinels[0].port, socket_timeout=1)
        try:
            address: Any = client.sentinel_get_master_addr_by_name(self.service)
            port = address[1]
        finally:
            client.close()
        return next(s for s in self.servers if s.port == int(port))

    def replica(self) -> RedisServer:
        primary = self.primary()
        return next(s for s in self.servers if s is not primary)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Every sentinel agrees on one live primary and sees its replica and both peers."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._ready():
                    return
            except (redis.RedisError, StopIteration):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the sentinels did not settle")
            time.sleep(0.2)

    def _ready(self) -> bool:
        primary = self.primary()
        for sentinel in self.sentinels:
            client = redis.Redis(port=sentinel.port, socket_timeout=1)
            try:
                state: Any = client.sentinel_master(self.service)
                if int(state["port"]) != primary.port or "down" in state["flags"]:
                    return False
                if int(state["num-slaves"]) < 1 or int(state["num-other-sentinels"]) < 2:
                    return False
            finally:
                client.close()
        replica = self.replica()
        client = redis.Redis(port=replica.port, socket_timeout=1)
        try:
            info = client.info("replication")
        finally:
            client.close()
        return info.get("master_link_status") == "up" and int(info["master_port"]) == primary.port

    def close(self) -> None:
        for server in self.sentinels + self.servers:
            server.close()
