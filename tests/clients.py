"""A real client that lets a test act between two commands of the code under test."""
from __future__ import annotations

from typing import Any

import redis


class WritesAfterReading(redis.Redis):  # type: ignore[type-arg]
    """A real client that runs ``hook`` once, right after its first command naming ``key``."""

    key = ""
    hook: Any = None

    def execute_command(self, *args: Any, **options: Any) -> Any:
        reply = super().execute_command(*args, **options)
        if self.hook is not None and self.key in args:
            hook, self.hook = self.hook, None
            hook()
        return reply


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
