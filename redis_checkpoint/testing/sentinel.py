"""A Sentinel-managed primary and replica with three sentinels, on loopback."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

import redis

from .server import RedisServer, ServerGroup, free_port, wait_replica_up, wait_until
from .tls import Certificates, server_options


class SentinelServer(RedisServer):
    """One ``redis-server --sentinel`` process watching service ``service``."""

    def __init__(self, primary_port: int, service: str, quorum: int = 2, tls: Optional[Certificates] = None) -> None:
        self.monitor = (primary_port, service, quorum)
        self.tls_port: Optional[int] = None
        extra: List[str] = []
        if tls is not None:
            self.tls_port = free_port()
            extra = server_options(tls, self.tls_port)
        super().__init__(*extra)

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
        return [self.binary, conf, "--sentinel", *self.extra]


class RedisSentinelServers(ServerGroup):
    """A primary, one replica and three sentinels (quorum 2) on loopback.

    Sentinels declare the primary down after 1 s. Returned once the replica is
    in sync and every sentinel sees the replica and the two other sentinels.

    With ``tls`` (:func:`~redis_checkpoint.testing.tls.make_certificates`), every
    process also listens for TLS on a port of its own; the replica and the sentinels
    reach the servers over TLS, so the sentinels name TLS ports, and a client on
    :attr:`tls_url` speaks TLS to the sentinels and the servers alike.
    """

    service = "checkpoints"

    def __init__(self, timeout: float = 60.0, tls: Optional[Certificates] = None) -> None:
        self.servers: List[RedisServer] = []
        self.sentinels: List[SentinelServer] = []
        self._tls = tls
        self._tls_ports: Dict[int, int] = {}  # a server's plain port: its TLS port
        self._launch(timeout)

    def _server(self, *extra: str) -> RedisServer:
        tls: List[str] = []
        if self._tls is not None:
            tls_port = free_port()
            tls = server_options(self._tls, tls_port)
        server = RedisServer("--repl-diskless-sync-delay", "0", "--appendonly", "yes", *extra, *tls)
        if tls:
            self._tls_ports[server.port] = tls_port
        self.servers.append(server)
        return server

    def announced(self, server: RedisServer) -> int:
        """The port the sentinels and replicas know ``server`` by (its TLS one, with ``tls``)."""
        return self._tls_ports.get(server.port, server.port)

    def _start(self, timeout: float) -> None:
        primary = self._server()
        replica = self._server("--replicaof", "127.0.0.1", str(self.announced(primary)))
        wait_replica_up(replica, timeout, primary_port=primary.port)
        for _ in range(3):
            self.sentinels.append(SentinelServer(self.announced(primary), self.service, tls=self._tls))
        self.wait_ready(timeout)

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.service}/0"

    @property
    def tls_url(self) -> str:
        """``rediss+sentinel://`` to the sentinels' TLS ports (pass ``ssl_ca_certs=`` the CA)."""
        if self._tls is None:
            raise RuntimeError("these sentinels were started without tls=")
        hosts = ",".join(f"localhost:{s.tls_port}" for s in self.sentinels)
        return f"rediss+sentinel://{hosts}/{self.service}/0"

    def primary(self) -> RedisServer:
        """The server the sentinels currently name as primary."""
        with redis.Redis(port=self.sentinels[0].port, socket_timeout=1) as client:
            address: Any = client.sentinel_get_master_addr_by_name(self.service)
        return next(s for s in self.servers if self.announced(s) == int(address[1]))

    def replica(self) -> RedisServer:
        primary = self.primary()
        return next(s for s in self.servers if s is not primary)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Every sentinel agrees on one live primary and sees its replica and both peers."""
        wait_until(self._ready, timeout, "the sentinels did not settle", pause=0.2)

    def _ready(self) -> bool:
        primary = self.primary()
        for sentinel in self.sentinels:
            with redis.Redis(port=sentinel.port, socket_timeout=1) as client:
                state: Any = client.sentinel_master(self.service)
            if int(state["port"]) != self.announced(primary) or "down" in state["flags"]:
                return False
            if int(state["num-slaves"]) < 1 or int(state["num-other-sentinels"]) < 2:
                return False
        with redis.Redis(port=self.replica().port, socket_timeout=1) as client:
            info = client.info("replication")
        return info.get("master_link_status") == "up" and int(info["master_port"]) == self.announced(primary)

    def close(self) -> None:
        for server in self.sentinels + self.servers:
            server.close()
