"""Module-level locks that a fork never leaves held in the child.

A ``threading.Lock`` copied by ``fork()`` while another thread of the parent
holds it stays locked in the child for ever: the thread that would release it
does not exist there. gunicorn ``--preload`` and Celery prefork fork processes
that may have threads, so every lock this package keeps at module level is a
:class:`ForkSafeLock`, renewed (unlocked) in each child right after the fork.
None of our critical sections forks, so no child ever releases a renewed lock.
"""
from __future__ import annotations

import os
import threading
import weakref
from typing import Any


class ForkSafeLock:
    """A ``threading.Lock`` for ``with`` blocks, replaced by a fresh one in a forked child."""

    __slots__ = ("_lock", "__weakref__")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        _every.add(self)

    def __enter__(self) -> "ForkSafeLock":
        self._lock.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._lock.release()

    def acquire(self, timeout: float = -1) -> bool:
        return self._lock.acquire(timeout=timeout)

    def release(self) -> None:
        self._lock.release()

    def _renew(self) -> None:
        self._lock = threading.Lock()


_every: "weakref.WeakSet[ForkSafeLock]" = weakref.WeakSet()


def _renew_all() -> None:
    for lock in list(_every):
        lock._renew()


if hasattr(os, "register_at_fork"):  # POSIX only; there is no fork elsewhere
    os.register_at_fork(after_in_child=_renew_all)
