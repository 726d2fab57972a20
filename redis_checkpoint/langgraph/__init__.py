"""LangGraph integration: ``RedisSaver``, a drop-in checkpoint saver (``[langgraph]`` extra)."""
from __future__ import annotations

from ..contrib import require

require("langgraph.checkpoint.base", "langgraph", "redis_checkpoint.langgraph")

from .saver import RedisSaver  # noqa: E402

__all__ = ["RedisSaver"]
