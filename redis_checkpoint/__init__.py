"""redis-checkpoint: atomic, versioned per-thread checkpoints in Redis."""
from __future__ import annotations

from .base import ANY, Checkpoint, Checkpointer, CheckpointMetadata
from .errors import (
    CheckpointError,
    CheckpointNotFoundError,
    ConflictError,
    CorruptCheckpointError,
    EvictionWarning,
    ReplicationError,
    SerializationError,
    StateTooLargeError,
    StateVersionError,
    StorageError,
)
from .types import StateType, UnknownTypeError
from .async_store import AsyncRedisCheckpointer
from .store import RedisCheckpointer

__version__ = "0.2.0.dev0"

__all__ = [
    "ANY",
    "AsyncRedisCheckpointer",
    "Checkpoint",
    "CheckpointError",
    "CheckpointMetadata",
    "CheckpointNotFoundError",
    "Checkpointer",
    "ConflictError",
    "CorruptCheckpointError",
    "EvictionWarning",
    "RedisCheckpointer",
    "ReplicationError",
    "SerializationError",
    "StateTooLargeError",
    "StateType",
    "StateVersionError",
    "StorageError",
    "UnknownTypeError",
]
