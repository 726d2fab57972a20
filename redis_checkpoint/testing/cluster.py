"""A local Redis Cluster of throwaway nodes, for fault tests."""
from __future__ import annotations

import shutil
import subprocess
from typing import Any, List, Optional

import redis
from redis.crc import key_slot

from .server import INSTALL_HINT, RedisServer, ServerGroup, free_port, wait_until, write_acknowledged
from .tls import Certificates, server_options


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
    return write_acknowledged(client, key)


class RedisClusterServers(ServerGroup):
    """A local Redis Cluster: ``primaries`` primaries with one replica each, on loopback.

    Nodes start with ``cluster-node-timeout 2000`` and ``repl-diskless-sync-delay 0``;
    the cluster is created with ``redis-cli --cluster create`` and returned only once
    every slot is served and every replica reports ``master_link_status:up``, so
    fault tests may kill a primary right away.

    With ``tls`` (:func:`~redis_checkpoint.testing.tls.make_certificates`), each node
    also listens for TLS on a port of its own, and the nodes talk to each other over
    TLS; a client on :attr:`tls_url` is told the nodes' TLS ports.
    """

    def __init__(self, primaries: int = 3, timeout: float = 60.0, tls: Optional[Certificates] = None) -> None:
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RuntimeError(INSTALL_HINT.replace("redis-server was", "redis-cli was"))
        self.nodes: List[RedisServer] = []
        self.tls_ports: List[int] = []
        self._cli, self._primaries, self._tls = cli, primaries, tls
        self._launch(timeout)

    def _start(self, timeout: float) -> None:
        for _ in range(self._primaries * 2):
            tls: List[str] = []
            if self._tls is not None:
                self.tls_ports.append(free_port())
                tls = [*server_options(self._tls, self.tls_ports[-1]), "--tls-cluster", "yes"]
            # nodes.conf lands in each node's own --dir
            node = RedisServer(
                "--cluster-enabled", "yes",
                "--cluster-node-timeout", "2000",
                "--repl-diskless-sync-delay", "0",
                *tls,
            )
            self.nodes.append(node)
        subprocess.run(
            [self._cli, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in self.nodes),
             "--cluster-replicas", "1", "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout,
        )
        self.wait_ready(timeout)

    @property
    def url(self) -> str:
        return self.nodes[0].url

    @property
    def tls_url(self) -> str:
        """``rediss://`` to the first node's TLS port (pass ``ssl_ca_certs=`` the CA)."""
        if not self.tls_ports:
            raise RuntimeError("this cluster was started without tls=")
        return f"rediss://localhost:{self.tls_ports[0]}/0"

    def wait_ready(self, timeout: float = 60.0) -> None:
        wait_until(lambda: all(self._node_ready(n) for n in self.nodes), timeout,
                   "the local cluster did not become ready", pause=0.2)

    @staticmethod
    def _node_ready(node: RedisServer) -> bool:
        if not node.running:
            return True  # a node killed on purpose does not hold the others up
        try:
            with redis.Redis(port=node.port, socket_timeout=1) as client:
                if client.cluster("info")["cluster_state"] != "ok":
                    return False
                info = client.info("replication")
                if info["role"] != "master":
                    return bool(info.get("master_link_status") == "up")
                return info["connected_slaves"] == 0 or _replicas_ack(client)
        except redis.RedisError:
            return False

    def close(self) -> None:
        for node in self.nodes:
            node.close()
