"""LangGraph integration: ``RedisSaver``, a drop-in checkpoint saver (``[langgraph]`` extra)."""
from __future__ import annotations

from ..contrib import require

require("langgraph.checkpoint.base", "langgraph", "redis_checkpoint.langgraph")

from .saver import RedisSaver  # noqa: E402

#: The same class: every method of ``RedisSaver`` has its ``a*`` twin, so code written
#: for langgraph-checkpoint-redis's ``AsyncRedisSaver`` needs only the import changed.
AsyncRedisSaver = RedisSaver

__all__ = ["AsyncRedisSaver", "RedisSaver"]
