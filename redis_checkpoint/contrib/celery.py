"""Celery: tasks that advance a thread's state, exactly once per task id.

The task shape this serves: load the thread's latest state, compute the next
one, save it with compare-and-set, and start over on a conflict::

    from redis_checkpoint.contrib.celery import CheckpointTask

    app.conf.redis_checkpoint_url = "redis://localhost:6379/0"
    app.conf.redis_checkpoint_options = {"ttl_seconds": 86400}

    @app.task(bind=True, base=CheckpointTask, autoretry_for=(StorageError,))
    def add_message(self, thread_id, text):
        meta = self.advance(thread_id, lambda state: {"messages": [*(state or {}).get("messages", []), text]})
        return meta.id

The new checkpoint's id is the task id, so when Celery runs the task again
(``self.retry()``, a worker lost with ``acks_late``, a redelivery) the save of
a step that already happened is a no-op returning the stored checkpoint: the
step is applied once, and the step function is not even called again. Tasks
that save several times pass ``name=`` to tell their checkpoints apart.

With ``max_checkpoints``, this holds while the task's checkpoint is kept, and
for ``retry_budget`` + 60 s after retention removes it. In that time the step
function runs again but its result is not saved. A redelivery after that applies
the step a second time.

One checkpointer per app and process is built on first use from
``redis_checkpoint_url`` and ``redis_checkpoint_options``. In prefork pools a
``worker_process_init`` handler resets every such checkpointer's connection
pools in the child, so no socket is ever shared with the parent.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Dict, Mapping, Optional

from . import require

require("celery", "celery", "redis_checkpoint.contrib.celery")

from celery import Celery, Task  # noqa: E402
from celery.signals import worker_process_init  # noqa: E402

from ..base import CheckpointMetadata  # noqa: E402
from ..connection import reset_after_fork  # noqa: E402
from ..ids import validate_id  # noqa: E402
from ..locks import ForkSafeLock  # noqa: E402
from ..store import RedisCheckpointer  # noqa: E402

_lock = ForkSafeLock()
_by_app: "weakref.WeakKeyDictionary[Celery, RedisCheckpointer]" = weakref.WeakKeyDictionary()


def checkpointer_for(app: Celery) -> RedisCheckpointer:
    """The checkpointer of ``app`` in this process (``redis_checkpoint_url`` and ``_options``)."""
    found = _by_app.get(app)
    if found is None:
        with _lock:
            found = _by_app.get(app)
            if found is None:
                url = app.conf.get("redis_checkpoint_url")
                if not url:
                    raise ValueError("app.conf.redis_checkpoint_url is not set")
                options: Dict[str, Any] = dict(app.conf.get("redis_checkpoint_options") or {})
                found = _by_app[app] = RedisCheckpointer.from_url(url, **options)
    return found


class CheckpointTask(Task):  # type: ignore[misc]
    """Task base class: ``self.checkpointer`` and ``self.advance(thread_id, step)``."""

    abstract = True

    @property
    def checkpointer(self) -> RedisCheckpointer:
        return checkpointer_for(self.app)

    def advance(
        self,
        thread_id: str,
        step: Callable[[Any], Any],
        *,
        name: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> CheckpointMetadata:
        """``Checkpointer.advance`` with the task id (plus ``:name``) as checkpoint id."""
        if name is not None:
            validate_id(name, "name")  # it becomes part of the checkpoint id: visible ASCII
        task_id = self.request.id
        cid = None if task_id is None else (task_id if name is None else f"{task_id}:{name}")
        if cid is not None:
            try:
                validate_id(cid)
            except (TypeError, ValueError) as exc:  # a task id given to apply_async(task_id=...)
                raise ValueError(
                    f"Celery task id {task_id!r} cannot name a checkpoint: {exc}. Give the task an "
                    "id of visible ASCII characters (Celery's own ids are UUIDs), or call "
                    "self.checkpointer.advance() with a checkpoint_id of your own"
                ) from None
        meta = {"task": self.name, "task_id": task_id, **(metadata or {})}
        return self.checkpointer.advance(thread_id, step, checkpoint_id=cid, metadata=meta)


@worker_process_init.connect  # type: ignore[untyped-decorator]
def _reset_in_child(**_kwargs: Any) -> None:
    for cp in list(_by_app.values()):
        reset_after_fork(cp.client)
