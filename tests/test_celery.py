"""Celery: a real prefork worker advances shared threads; retries never apply a step twice."""
from __future__ import annotations

import os
from collections import Counter
from typing import Iterator

import pytest

from redis_checkpoint import RedisCheckpointer

from .savers import chain_ok

pytestmark = pytest.mark.redis

from examples import launch  # noqa: E402


@pytest.fixture
def celery_app(redis_url: str, prefix: str) -> Iterator[object]:
    queue = f"q-{prefix}"
    os.environ.update(REDIS_URL=redis_url, CHECKPOINT_PREFIX=prefix, CHECKPOINT_QUEUE=queue)
    from examples.celery_app import app

    # the module may have been imported by another test with other settings
    app.conf.update(
        broker_url=redis_url, result_backend=redis_url, task_default_queue=queue,
        redis_checkpoint_url=redis_url, redis_checkpoint_options={"key_prefix": prefix},
    )
    worker = launch.celery_worker(redis_url, prefix, queue, concurrency=3)
    try:
        yield app
    finally:
        launch.stop(worker)
        assert worker.returncode == 0


def test_prefork_worker_advances_threads_exactly_once(celery_app: object, redis_url: str, prefix: str) -> None:
    from examples.celery_app import add

    per_thread = Counter()
    sent = []
    for i in range(60):
        thread = f"job-{i % 3}"
        per_thread[thread] += 1
        # every fourth task fails after its save and is retried by Celery with the same id
        sent.append((thread, add.delay(thread, i, fail_after_save=(i % 4 == 0))))
    replies = [(thread, result.get(timeout=180)) for thread, result in sent]
    assert sum(1 for _t, r in replies if r["retries"] == 1) == 15  # the forced retries did happen
    assert len({r["pid"] for _t, r in replies}) >= 2  # several prefork children did the work
    with RedisCheckpointer.from_url(redis_url, key_prefix=prefix) as cp:
        for t in range(3):
            thread = f"job-{t}"
            ids = chain_ok(cp, thread)  # linear history, no duplicate entry
            task_ids = {result.id for th, result in sent if th == thread}
            assert set(ids) == task_ids  # one checkpoint per task, named by its task id
            state = cp.load(thread).state  # type: ignore[union-attr]
            assert state == {"count": sum(i for i in range(t, 60, 3)), "steps": per_thread[thread]}


def test_worker_process_init_gives_a_child_fresh_connections(redis_url: str, prefix: str) -> None:
    from celery import Celery
    from celery.signals import worker_process_init

    from redis_checkpoint.contrib.celery import checkpointer_for

    app = Celery("t", set_as_current=False)
    app.conf.update(redis_checkpoint_url=redis_url, redis_checkpoint_options={"key_prefix": prefix})
    cp = checkpointer_for(app)
    assert checkpointer_for(app) is cp  # one per app and process
    before = cp.client.client_id()
    worker_process_init.send(sender=None)  # what a prefork child runs first
    assert cp.client.client_id() != before  # a new connection: nothing inherited is reused
    cp.save("t", 1)
    cp.close()


def test_checkpointer_for_needs_a_url() -> None:
    from celery import Celery

    from redis_checkpoint.contrib.celery import checkpointer_for

    with pytest.raises(ValueError, match="redis_checkpoint_url"):
        checkpointer_for(Celery("t", set_as_current=False))


def test_advance_refuses_a_name_that_cannot_be_part_of_an_id(redis_url: str, prefix: str) -> None:
    from celery import Celery

    from redis_checkpoint.contrib.celery import CheckpointTask, checkpointer_for

    app = Celery("named", set_as_current=False)
    app.conf.update(task_always_eager=True, task_eager_propagates=True,
                    redis_checkpoint_url=redis_url, redis_checkpoint_options={"key_prefix": prefix})

    @app.task(bind=True, base=CheckpointTask)
    def step(self: CheckpointTask, name: str) -> str:
        return self.advance("t", lambda state: (state or 0) + 1, name=name).id  # type: ignore[no-any-return]

    done = step.apply(args=("first",), task_id="task-1")
    assert done.get() == "task-1:first"
    with pytest.raises(ValueError, match="name must be"):
        step.apply(args=("has a space",), task_id="task-2").get()
    # a task id of the caller's choosing that no checkpoint id can be: the error names it
    with pytest.raises(ValueError, match="Celery task id 'job 7' cannot name a checkpoint"):
        step.apply(args=("first",), task_id="job 7").get()
    with checkpointer_for(app) as cp:
        assert [m.id for m in cp.list("t")] == ["task-1:first"]  # nothing written for either
