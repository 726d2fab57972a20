"""The checkpointer's retry policy: redis-py's ``Retry`` plus a total time budget.

Every operation runs through :meth:`RetryPolicy.call`, which is redis-py's own
``Retry.call_with_retry`` (backoff from ``redis.backoff``) with one addition:
an ``is_retryable`` check that refuses to start another attempt once
``budget`` seconds have passed since the operation began. The budget is a
local of each call, so one policy is safely shared by every thread.

Retried, because each may clear up by itself during a failover or resharding:
connection errors and timeouts (a killed or restarted node, a lost reply),
``CLUSTERDOWN``, ``TRYAGAIN``, an uncovered slot, and ``MOVED``/``ASK`` seen
where redis-py does not follow them (the pipeline that runs a save with WAIT).
Not retried: refused credentials, a server certificate this client does not
trust, out of memory, ``READONLY``, ``BUSY`` and other script errors: they need
an operator, and retrying would only add load.

Re-sending a save whose reply was lost is safe: the save script recognises
the checkpoint id it already stored (see ``save.lua``).

Each failed attempt is logged at WARNING on the ``redis_checkpoint`` logger,
naming the operation, the thread and the error (never a URL or an argument),
so a save that stalls through a failover shows in the application's log
before it succeeds or raises. As a library should, the logger only has a
``NullHandler``: nothing reaches stderr unless the application configures
logging (Django and Celery do), so the command line's errors stay one line.
"""
from __future__ import annotations

import copy
import logging
import socket
import time
from typing import Awaitable, Callable, Optional, Tuple, Type, TypeVar

from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import (
    AskError,
    ClusterDownError,
    ConnectionError,
    MovedError,
    SlotNotCoveredError,
    TimeoutError,
    TryAgainError,
)
from redis.retry import Retry

from . import telemetry
from .errors import check_number, refused_credentials, short_message, untrusted_certificate

T = TypeVar("T")
logger = logging.getLogger("redis_checkpoint")
logger.addHandler(logging.NullHandler())  # silent unless the application configures logging

RETRYABLE: Tuple[Type[Exception], ...] = (
    ConnectionError,
    TimeoutError,
    socket.timeout,
    ClusterDownError,
    TryAgainError,
    SlotNotCoveredError,
    MovedError,
    AskError,
)
DEFAULT_BUDGET = 10.0
#: How long after an operation's last attempt starts a copy of it may still reach
#: Redis: 60 s covers a client with redis-py 8's own connection retries (10, with a
#: 5 s socket timeout) inside each of our attempts.
REPLAY_MARGIN = 60.0
#: The window never exceeds a day, so an unbounded budget (``float("inf")``)
#: does not keep the records of removed checkpoints for ever.
REPLAY_WINDOW_CAP = 86400.0


def default_retry() -> Retry:
    """Unlimited attempts, 10 ms doubling to 1 s with full jitter: the budget ends it."""
    return Retry(ExponentialWithJitterBackoff(cap=1.0, base=0.01), retries=-1, supported_errors=RETRYABLE)


class RetryPolicy:
    """A redis-py ``Retry`` bounded by ``budget`` seconds per operation."""

    __slots__ = ("retry", "budget", "replay_window_ms", "_async_retry")

    def __init__(self, retry: Optional[Retry] = None, budget: float = DEFAULT_BUDGET) -> None:
        if retry is None:
            retry = default_retry()
        elif not isinstance(retry, Retry):
            raise TypeError(f"retry must be a redis.retry.Retry, not {type(retry).__name__}")
        else:
            retry = copy.copy(retry)  # never change the caller's object
            retry.update_supported_errors(RETRYABLE)
        self.retry = retry
        self.budget = check_number("retry_budget", budget, 0.0)
        #: How long a re-sent save may still arrive after the first: budget plus
        #: margin, at most a day. Fixed with the budget, so saves do not recompute it.
        self.replay_window_ms = int(min(self.budget + REPLAY_MARGIN, REPLAY_WINDOW_CAP) * 1000)
        self._async_retry: Optional[AsyncRetry] = None

    def call(self, do: Callable[[], T], op: str = "operation", thread_id: Optional[str] = None) -> T:
        """Run ``do``, retrying retryable errors until the retry count or the budget runs out.

        ``op`` and ``thread_id`` name the call in the log line of each failed attempt.
        """
        failed, retryable = self._hooks(op, thread_id)
        return self.retry.call_with_retry(do, failed, is_retryable=retryable)

    async def acall(self, do: Callable[[], Awaitable[T]], op: str = "operation",
                    thread_id: Optional[str] = None) -> T:
        """:meth:`call` on the event loop: redis-py's asyncio ``Retry`` with the same
        backoff, attempts and errors, sleeping with ``asyncio.sleep``."""
        if self._async_retry is None:
            # built once from the sync Retry's parts, as redis-py's asyncio clients
            # convert a sync Retry they are given
            self._async_retry = AsyncRetry(self.retry._backoff, self.retry._retries,
                                           self.retry._supported_errors)
        failed, retryable = self._hooks(op, thread_id)

        async def afailed(error: Exception) -> None:
            failed(error)

        return await self._async_retry.call_with_retry(do, afailed, is_retryable=retryable)

    def _hooks(self, op: str, thread_id: Optional[str]) -> Tuple[Callable[[Exception], None],
                                                                  Callable[[Exception], bool]]:
        """The log line of each failed attempt, and the budget check, for one operation."""
        deadline = time.monotonic() + self.budget
        attempts = 0

        def failed(error: Exception) -> None:  # redis-py 7 passes no failure count
            nonlocal attempts
            attempts += 1
            telemetry.retried(op)
            where = op if thread_id is None else f"{op} of thread {thread_id!r}"
            logger.warning("%s: attempt %d failed: %s: %s", where, attempts, type(error).__name__, short_message(error))

        return failed, lambda error: time.monotonic() < deadline and not hopeless(error)


def hopeless(error: Exception) -> bool:
    """Whether trying again cannot help though redis-py raises a ``ConnectionError``: the
    server refused our credentials (retrying would hammer an ACL), or we refused its
    certificate."""
    return refused_credentials(error) or untrusted_certificate(error)
