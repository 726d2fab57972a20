"""LangGraph integration: ``RedisSaver`` and ``AsyncRedisSaver``, drop-in checkpoint savers
(``[langgraph]`` extra)."""
from __future__ import annotations

from typing import Any, Optional

from ..contrib import require

require("langgraph.checkpoint.base", "langgraph", "redis_checkpoint.langgraph")

from .async_saver import AsyncRedisSaver  # noqa: E402
from .migrate import import_from_langgraph_redis  # noqa: E402
from .saver import RedisSaver  # noqa: E402


class ShallowRedisSaver(RedisSaver):
    """``RedisSaver`` that keeps only the newest checkpoint of each namespace
    (``max_checkpoints=1`` unless given), as langgraph-checkpoint-redis's
    ``ShallowRedisSaver`` does."""

    def __init__(self, *args: Any, max_checkpoints: Optional[int] = None, **options: Any) -> None:
        super().__init__(*args, max_checkpoints=max_checkpoints or 1, **options)


class AsyncShallowRedisSaver(AsyncRedisSaver):
    """``AsyncRedisSaver`` that keeps only the newest checkpoint of each namespace."""

    def __init__(self, *args: Any, max_checkpoints: Optional[int] = None, **options: Any) -> None:
        super().__init__(*args, max_checkpoints=max_checkpoints or 1, **options)

__all__ = ["AsyncRedisSaver", "AsyncShallowRedisSaver", "RedisSaver", "ShallowRedisSaver",
           "import_from_langgraph_redis"]
