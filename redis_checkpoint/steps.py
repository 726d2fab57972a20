"""Operations written once, run with blocking or asyncio I/O.

An operation is a generator of *steps*. Each time it needs Redis it yields a
:class:`Call` (the commands that travel together on one connection, and how) and
gets back that call's ``(replies, replicas acknowledged)``, or has the error the call
raised thrown in where it yielded. What it returns is the operation's result.
A listing also yields :class:`Emit` items, handed to the caller as they come, so a
consumer that stops early stops the reading.

``Engine`` runs steps with blocking I/O and ``AsyncEngine`` on the event loop
(``drive`` for a result, ``stream`` for a listing): what is sent and how replies
are read lives only here and in the modules that write operations as steps.
"""
from __future__ import annotations

from contextlib import closing
from typing import (
    Any, AsyncIterator, Awaitable, Callable, Generator, Iterator, List, NamedTuple, Optional, Sequence,
    Tuple, TypeVar,
)

from redis.commands.core import Script

from .wire import Command

T = TypeVar("T")


class Call(NamedTuple):
    """Commands for the server that owns ``key``: plain, or in ``MULTI``/``EXEC``
    (``transaction``), with ``WAIT min_replicas`` after it (``durable``)."""

    op: str
    thread_id: Optional[str]
    key: Any
    body: Sequence[Command]
    scripts: Sequence[Script] = ()
    transaction: bool = False
    durable: bool = False


class Emit(NamedTuple):
    """One item of a listing, for the caller."""

    value: Any


Replies = Tuple[List[Any], int]
Steps = Generator[Call, Replies, T]
Stream = Generator[Any, Any, None]  # yields Call and Emit


def evalsha(script: Script, keys: Sequence[Any], args: Sequence[Any]) -> Command:
    return ("EVALSHA", script.sha, len(keys), *keys, *args)


def run(op: str, thread_id: Optional[str], script: Script, keys: Sequence[Any],
        args: Sequence[Any]) -> Steps[Any]:
    """One script call, routed by its first key; its reply."""
    (reply,), _ = yield Call(op, thread_id, keys[0], (evalsha(script, keys, args),), (script,))
    return reply


def command(op: str, thread_id: Optional[str], key: Any, *args: Any) -> Steps[Any]:
    """One plain command, routed by ``key``; its reply."""
    (reply,), _ = yield Call(op, thread_id, key, (args,))
    return reply


def collect(listing: Stream) -> Steps[List[Any]]:
    """Steps that read a whole listing: its items, in order."""
    items: List[Any] = []

    def keep(item: Any) -> Tuple[bool, bool]:
        items.append(item)
        return False, False

    yield from relay(listing, keep)
    return items


def relay(listing: Stream, pick: Callable[[Any], Tuple[bool, bool]]) -> Stream:
    """The calls of ``listing`` and the items ``pick`` passes: ``pick(item)`` says
    whether to pass it, and whether the listing is done after it."""
    with closing(listing):
        step = next(listing, None)
        while step is not None:
            if isinstance(step, Emit):
                keep, done = pick(step.value)
                if keep:
                    yield step
                if done:
                    return
                step = next(listing, None)
                continue
            try:
                replies = yield step
            except Exception as exc:
                step = _throw(listing, exc)
            else:
                step = _send(listing, replies)


def drive(steps: Steps[T], perform: Callable[[Call], Replies]) -> T:
    """Run ``steps`` to its result, each call through ``perform``."""
    try:
        call = next(steps)
        while True:
            try:
                replies = perform(call)
            except Exception as exc:
                call = steps.throw(exc)
            else:
                call = steps.send(replies)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def adrive(steps: Steps[T], perform: Callable[[Call], Awaitable[Replies]]) -> T:
    """:func:`drive` on the event loop."""
    try:
        call = next(steps)
        while True:
            try:
                replies = await perform(call)
            except Exception as exc:
                call = steps.throw(exc)
            else:
                call = steps.send(replies)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def stream(steps: Stream, perform: Callable[[Call], Replies]) -> Iterator[Any]:
    """The items a listing emits, its calls made through ``perform`` as it goes."""
    with closing(steps):
        step = next(steps, None)
        while step is not None:
            if isinstance(step, Emit):
                yield step.value
                step = next(steps, None)
                continue
            try:
                replies = perform(step)
            except Exception as exc:
                step = _throw(steps, exc)
            else:
                step = _send(steps, replies)


async def astream(steps: Stream, perform: Callable[[Call], Awaitable[Replies]]) -> AsyncIterator[Any]:
    """:func:`stream` on the event loop."""
    with closing(steps):
        step = next(steps, None)
        while step is not None:
            if isinstance(step, Emit):
                yield step.value
                step = next(steps, None)
                continue
            try:
                replies = await perform(step)
            except Exception as exc:
                step = _throw(steps, exc)
            else:
                step = _send(steps, replies)


def _send(steps: Stream, value: Any) -> Any:
    try:
        return steps.send(value)
    except StopIteration:
        return None


def _throw(steps: Stream, exc: Exception) -> Any:
    try:
        return steps.throw(exc)
    except StopIteration:
        return None
