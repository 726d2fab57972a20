"""Celery app whose task advances a thread's counter, once per task id.

    REDIS_URL=redis://localhost:6379/0 celery -A examples.celery_app worker --pool prefork -c 2
"""
import os
from typing import Any, Dict

from celery import Celery

from redis_checkpoint import StorageError
from redis_checkpoint.contrib.celery import CheckpointTask

URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
QUEUE = os.environ.get("CHECKPOINT_QUEUE", "checkpoints")

app = Celery("checkpoint_example", broker=URL, backend=URL)
app.conf.update(
    redis_checkpoint_url=URL,
    redis_checkpoint_options={"key_prefix": os.environ.get("CHECKPOINT_PREFIX", "example")},
    task_default_queue=QUEUE,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
)


@app.task(bind=True, base=CheckpointTask, autoretry_for=(StorageError,), max_retries=5)
def add(self: CheckpointTask, thread_id: str, amount: int, fail_after_save: bool = False) -> Dict[str, Any]:
    """Add ``amount`` to the thread's counter. ``fail_after_save`` forces one Celery retry
    after the save has happened: the retry must not add twice."""

    def step(state: Any) -> Any:
        state = state or {"count": 0, "steps": 0}
        return {"count": state["count"] + amount, "steps": state["steps"] + 1}

    meta = self.advance(thread_id, step)
    if fail_after_save and self.request.retries == 0:
        raise self.retry(countdown=0)
    return {"id": meta.id, "pid": os.getpid(), "retries": self.request.retries}
