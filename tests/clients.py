"""Real clients that let a test act on a server around the code under test."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, List

import redis


class AfterCall:
    """Runs ``hook`` once, right after the first call of ``engine`` that sends ``script``
    (a redis-py ``Script``, or a command name such as ``"HMGET"``) with ``key`` among its
    arguments. ``ran`` tells whether it did. The engine is the real one: only its
    public ``call`` is wrapped, on this instance."""

    def __init__(self, engine: Any, script: Any, key: str, hook: Callable[[], Any]) -> None:
        self.ran = False
        call = engine.call

        def wrapped(op: Any, thread_id: Any, route: Any, body: Any, *args: Any, **kwargs: Any) -> Any:
            reply = call(op, thread_id, route, body, *args, **kwargs)
            name = getattr(script, "sha", script)
            if not self.ran and any(c[0] == "EVALSHA" and c[1] == name or c[0] == name for c in body) \
                    and any(key in c for c in body):
                self.ran = True
                hook()
            return reply

        engine.call = wrapped


class Pending:
    """A command sent to the server at ``port``, its reply read later by :meth:`join`.

    The command is on the wire when the constructor returns, so the server runs
    it before any command sent after that, on any connection: Redis serves
    ready connections in the order epoll reports them, oldest first. With a
    thread and a fixed pause instead, the command under test could go first on
    a loaded machine (seen under ``pytest -n auto``), and the test then proved
    nothing or failed.
    """

    def __init__(self, port: int, *command: Any, timeout: float = 30.0) -> None:
        self._conn = redis.Connection(port=port, socket_timeout=timeout)
        self._conn.send_command(*command)

    def is_alive(self) -> bool:
        """Whether the server has not answered yet."""
        return not self._conn.can_read(timeout=0)

    def join(self) -> Any:
        """The reply, or the error the server answered with; waits for it."""
        try:
            return self._conn.read_response()
        except redis.ResponseError as exc:
            return exc
        finally:
            self._conn.disconnect()


def sleeping(port: int, seconds: float) -> Pending:
    """``DEBUG SLEEP seconds`` on the server at ``port``, before anything sent after this."""
    return Pending(port, "DEBUG", "SLEEP", seconds, timeout=seconds + 10)


def command_calls(client: Any, command: str) -> int:
    """How many times the server ran ``command`` (``INFO commandstats``; ``"memory|usage"``
    for a subcommand)."""
    return int(client.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0))


class ConnectionKiller:
    """``CLIENT KILL`` of every normal connection but its own, every 3 ms, from a thread,
    while the ``with`` block runs; :attr:`kills` counts the connections killed.

    A storm of a fixed number of saves could end before many kills on a fast or a
    loaded run (20 where more than 20 were wanted, seen in CI), so a writer saves
    while :meth:`going`: its own count, then until :attr:`enough`.
    """

    WANTED = 20  # more kills than this, or the test proved nothing
    CAP = 20_000  # most saves per writer: past its own count, but never for ever

    def __init__(self, port: int) -> None:
        self._admin = redis.Redis(port=port)
        self._stop = threading.Event()
        self._kills: List[int] = []
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._kills.append(self._admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))
            time.sleep(0.003)

    @property
    def kills(self) -> int:
        return sum(self._kills)

    @property
    def enough(self) -> bool:
        return self.kills > self.WANTED

    def going(self, saves: int, count: int) -> bool:
        """Whether a writer that made ``saves`` goes on: to its ``count``, then until
        :attr:`enough`, and never past :attr:`CAP`."""
        return (saves < count or not self.enough) and saves < self.CAP

    def __enter__(self) -> "ConnectionKiller":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self._admin.close()


class Calls:
    """Records every script an engine runs, by file name: ``(name, ARGV, reply)``. Only the
    engine's public ``call`` is wrapped, on this instance."""

    def __init__(self, engine: Any) -> None:
        self.log: List[Any] = []
        names = {script.sha: name for name, script in engine.scripts._asdict().items()}
        call = engine.call

        def wrapped(op: Any, thread_id: Any, route: Any, body: Any, *args: Any, **kwargs: Any) -> Any:
            replies, acked = call(op, thread_id, route, body, *args, **kwargs)
            for command, reply in zip(body, replies):
                if command[0] == "EVALSHA":
                    self.log.append((names[command[1]], command[3 + command[2]:], reply))
            return replies, acked

        engine.call = wrapped

    def names(self, *wanted: str) -> List[str]:
        return [name for name, _, _ in self.log if not wanted or name in wanted]

    def clear(self) -> None:
        self.log.clear()
