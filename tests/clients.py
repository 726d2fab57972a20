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


class Sleeping:
    """``DEBUG SLEEP seconds`` on the server at ``port``, its reply read by :meth:`join`.

    The command is on the wire when the constructor returns, so the server runs
    it before any command sent after that, on any connection: Redis serves
    ready connections in the order epoll reports them, oldest first. A thread
    and a fixed pause let the command under test go first on a loaded machine
    (seen under ``pytest -n auto``), and the test then proved nothing.
    """

    def __init__(self, port: int, seconds: float) -> None:
        self._conn = redis.Connection(port=port, socket_timeout=seconds + 10)
        self._conn.send_command("DEBUG", "SLEEP", seconds)

    def is_alive(self) -> bool:
        """Whether the server has not answered yet: it still sleeps."""
        return not self._conn.can_read(timeout=0)

    def join(self) -> None:
        """Wait until the sleep is over."""
        try:
            self._conn.read_response()
        finally:
            self._conn.disconnect()
