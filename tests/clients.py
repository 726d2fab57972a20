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
