"""Every module-level lock of the package is free in a child forked while it was held."""
from __future__ import annotations

import importlib
import multiprocessing
from typing import Any

import pytest

fork = multiprocessing.get_context("fork")
LOCKS = [
    ("redis_checkpoint.ids", "_lock"),
    ("redis_checkpoint.scripts", "_lock"),
    ("redis_checkpoint.eviction", "_lock"),
    ("redis_checkpoint.cluster", "_guard"),
    ("redis_checkpoint.contrib.django", "_lock"),
    ("redis_checkpoint.contrib.celery", "_lock"),
    ("redis_checkpoint.wire", "_held_lock"),
]


def _take(module: str, name: str, out: Any) -> None:
    out.put(getattr(importlib.import_module(module), name).acquire(timeout=5))


@pytest.mark.parametrize("module,name", LOCKS)
def test_lock_held_at_fork_is_free_in_the_child(module: str, name: str) -> None:
    lock = getattr(importlib.import_module(module), name)
    out = fork.Queue()
    with lock:  # as if another thread of the parent were inside it at the fork
        child = fork.Process(target=_take, args=(module, name, out))
        child.start()
    try:
        assert out.get(timeout=30) is True
    finally:
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
    assert lock.acquire(timeout=1)  # and the parent's own lock was released as usual
    lock.release()
