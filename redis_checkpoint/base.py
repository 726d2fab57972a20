"""The public value types and the abstract :class:`Checkpointer`."""
from __future__ import annotations

import abc
import datetime
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Callable, Dict, Generator, List, Mapping, Optional, Tuple, Type, TypeVar

from . import telemetry
from .errors import ConflictError

_Self = TypeVar("_Self", bound="Checkpointer")

#: Sentinel for ``save(expected_id=...)``: "no compare-and-set". ``None`` means
#: "the thread must have no checkpoint yet".
ANY = object()


@dataclass(frozen=True)
class CheckpointMetadata:
    """What ``list`` returns and ``save`` reports: a checkpoint without its state.

    ``parent_id`` is the thread's current checkpoint at commit time (``None``
    for the first one); ``created_at`` is the Redis server's clock at commit,
    in UTC; ``size`` is the number of bytes the framed state takes in Redis;
    ``version`` is the ``state_version`` it was saved with (0: none).
    """

    id: str
    thread_id: str
    parent_id: Optional[str]
    created_at: datetime.datetime
    metadata: Dict[str, Any] = field(default_factory=dict)
    size: int = 0
    version: int = 0


@dataclass(frozen=True)
class Checkpoint:
    """One saved version of a thread's state. ``version`` is the ``state_version`` it
    was saved with; ``state`` has been upgraded to the checkpointer's own."""

    id: str
    thread_id: str
    parent_id: Optional[str]
    created_at: datetime.datetime
    metadata: Dict[str, Any]
    state: Any
    version: int = 0


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

    def advance(
        self,
        thread_id: str,
        step: Callable[[Any], Any],
        *,
        checkpoint_id: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        max_conflicts: int = 50,
    ) -> CheckpointMetadata:
        """Save ``step(latest state, or None)`` as the next checkpoint, with compare-and-set.

        The common "load, compute, save" shape, safe under concurrency: the save
        expects the checkpoint that was loaded, and on a :class:`ConflictError`
        the latest state is loaded again and ``step`` runs again (so ``step``
        must depend on the state alone). With ``checkpoint_id`` (a task id, a
        request id), a step whose save already happened is not applied again:
        the stored checkpoint is returned. Raises :class:`ConflictError` after
        ``max_conflicts`` conflicts in a row.
        """
        check_advance(step, max_conflicts)
        with telemetry.operation("advance", getattr(self, "engine", None), thread_id) as op:
            plan = advance_plan(checkpoint_id, metadata, max_conflicts, op)
            try:
                kind, arg = next(plan)
                while True:
                    out: Any
                    try:
                        if kind == "load":
                            out = self.load(thread_id, arg)
                        elif kind == "step":
                            out = step(arg)
                        else:
                            out = self.save(thread_id, **arg)
                    except ConflictError as exc:
                        kind, arg = plan.throw(exc)
                    else:
                        kind, arg = plan.send(out)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]

    def close(self) -> None:
        """Release resources the checkpointer owns."""

    def __enter__(self: _Self) -> _Self:  # with RedisCheckpointer.from_url(...) as cp: a RedisCheckpointer
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()


def check_advance(step: Any, max_conflicts: Any) -> None:
    """``advance``'s own arguments, checked before anything is read."""
    if not callable(step):
        raise TypeError(f"step must be callable, not {type(step).__name__}")
    if not isinstance(max_conflicts, int) or isinstance(max_conflicts, bool) or max_conflicts < 1:
        raise ValueError(f"max_conflicts must be an int >= 1, got {max_conflicts!r}")


def advance_plan(checkpoint_id: Optional[str], metadata: Optional[Mapping[str, Any]],
                 max_conflicts: int, op: Any) -> Generator[Tuple[str, Any], Any, CheckpointMetadata]:
    """``advance``'s loop, written once for the blocking and the asyncio checkpointer.

    It yields what to do next and is sent the result: ``("load", checkpoint_id or
    None)``, ``("step", state)`` and ``("save", keywords)``; a save's
    :class:`ConflictError` is thrown back in. It returns the saved metadata, and
    records on ``op`` (the operation's telemetry) the saves tried and the outcome.
    """
    saves = 0

    def save(keywords: Dict[str, Any]) -> Generator[Tuple[str, Any], Any, CheckpointMetadata]:
        nonlocal saves
        saves += 1
        op.attempts = saves
        saved: CheckpointMetadata = yield "save", keywords
        op.outcome = "saved"
        return saved

    if checkpoint_id is not None:
        done = yield "load", checkpoint_id
        if done is not None:  # a retry of a step that was saved: do not recompute it
            return (yield from save({"state": done.state, "checkpoint_id": checkpoint_id}))
    conflict: Optional[ConflictError] = None
    for _ in range(max_conflicts):
        current = yield "load", None
        state = yield "step", current.state if current is not None else None
        try:
            return (yield from save({
                "state": state, "metadata": metadata, "checkpoint_id": checkpoint_id,
                "expected_id": current.id if current is not None else None,
            }))
        except ConflictError as exc:
            conflict = exc
    assert conflict is not None
    raise conflict
