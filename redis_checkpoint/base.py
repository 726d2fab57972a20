"""The public value types and the abstract :class:`Checkpointer`."""
from __future__ import annotations

import abc
import datetime
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Dict, List, Mapping, Optional, Type

#: Sentinel for ``save(expected_id=...)``: "no compare-and-set". ``None`` means
#: "the thread must have no checkpoint yet".
ANY = object()


@dataclass(frozen=True)
class CheckpointMetadata:
    """What ``list`` returns and ``save`` reports: a checkpoint without its state.

    ``parent_id`` is the thread's current checkpoint at commit time (``None``
    for the first one); ``created_at`` is the Redis server's clock at commit,
    in UTC; ``size`` is the number of bytes the framed state takes in Redis.
    """

    id: str
    thread_id: str
    parent_id: Optional[str]
    created_at: datetime.datetime
    metadata: Dict[str, Any] = field(default_factory=dict)
    size: int = 0


@dataclass(frozen=True)
class Checkpoint:
    """One saved version of a thread's state."""

    id: str
    thread_id: str
    parent_id: Optional[str]
    created_at: datetime.datetime
    metadata: Dict[str, Any]
    state: Any


class Checkpointer(abc.ABC):
    """The checkpointer interface. :class:`~redis_checkpoint.RedisCheckpointer` implements it.

    Implementations are thread-safe: one instance serves every thread of a process.
    """

    @abc.abstractmethod
    def save(
        self,
        thread_id: str,
        state: Any,
        *,
        metadata: Optional[Mapping[str, Any]] = None,
        expected_id: Any = ANY,
        checkpoint_id: Optional[str] = None,
    ) -> CheckpointMetadata:
        """Save ``state`` as the thread's new current checkpoint."""

    @abc.abstractmethod
    def load(self, thread_id: str, checkpoint_id: Optional[str] = None) -> Optional[Checkpoint]:
        """The latest checkpoint (or the one named), or ``None``."""

    @abc.abstractmethod
    def list(
        self, thread_id: str, *, limit: Optional[int] = None, before: Optional[str] = None
    ) -> List[CheckpointMetadata]:
        """Checkpoint metadata, newest first in commit order."""

    @abc.abstractmethod
    def delete_thread(self, thread_id: str) -> bool:
        """Delete every checkpoint of the thread; ``True`` if anything was deleted."""

    def close(self) -> None:
        """Release resources the checkpointer owns."""

    def __enter__(self) -> "Checkpointer":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()
