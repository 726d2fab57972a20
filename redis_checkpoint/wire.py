"""Sending one call's commands on one connection, and reading every reply.

A *call* is a short list of commands that must travel together on one
connection: a ``MULTI``/``EXEC`` transaction, a script and the ``WAIT`` that
counts its replicas, or a single command. Two ways to send it, one contract:
``send(commands)`` returns one reply per command, each the parsed value or the
``ResponseError`` instance the server answered with (never raised, so the
connection is always read to the end).

* :class:`Direct` packs the commands with the connection's own packer
  (``Connection.pack_command``), sends them in one write and reads each reply
  with ``Connection.read_response``. Between calls it keeps a connection it
  took from the pool (:class:`Held`), so a call usually costs no pool checkout.
* :class:`Generic` sends the same commands through a redis-py ``Pipeline``:
  every command passes through redis-py's command layer (``execute_command``),
  where its own instrumentation sees it.

Their asyncio twins (:class:`AsyncHeld`, :class:`AsyncBorrowed`, :class:`AsyncNode`,
:class:`AsyncGeneric`) do the same on ``redis.asyncio`` connections. A task
cancelled between the write and the last reply closes its connection before the
pool gets it back, so no later call reads another call's reply.
"""
from __future__ import annotations

import asyncio
import os
import threading
import time
import weakref
from typing import Any, List, Optional, Sequence, Tuple

from redis.exceptions import ResponseError

from .locks import ForkSafeLock

Command = Tuple[Any, ...]

#: A kept connection unused for this long is checked before it is used again:
#: a server ``timeout`` or a proxy may have closed it meanwhile.
IDLE_CHECK = 1.0


class Held:
    """One connection of a pool kept between calls, lent to one caller at a time.

    A caller takes the kept connection if it is free, else checks one out of the
    pool (waiting there, on a blocking pool, as redis-py's commands do). Given
    back, a connection becomes the kept one if there is none and none of our
    callers is waiting on the pool; otherwise it goes back to the pool, where a
    waiter gets it. So at most one idle connection is hidden from the pool's
    other users, and our own callers never wait while a connection sits idle.
    After ``fork()`` the parent's connection is dropped unused (closing a copied
    socket in the child leaves the parent's intact); the pool resets itself too.
    """

    __slots__ = ("pool", "kept", "waiting", "lock", "pid", "__weakref__")

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self._reset()

    def _reset(self) -> None:
        self.kept: Optional[Tuple[Any, float]] = None
        self.waiting = 0
        self.lock = threading.Lock()
        self.pid = os.getpid()

    def take(self) -> Any:
        if self.pid != os.getpid():
            self._reset()
        with self.lock:
            kept, self.kept = self.kept, None
            if kept is None:
                self.waiting += 1
        if kept is None:
            try:
                return self.pool.get_connection()
            finally:
                with self.lock:
                    self.waiting -= 1
        conn, last = kept
        if time.monotonic() - last > IDLE_CHECK:
            try:  # can_read() connects a closed connection, which sending would do anyway
                if conn.can_read():  # closed by the server, or a stray reply: start afresh
                    conn.disconnect()
            except Exception:
                conn.disconnect()
        return conn

    def give(self, conn: Any) -> None:
        if self.pid != os.getpid():
            return
        with self.lock:
            if self.kept is None and not self.waiting:
                self.kept = (conn, time.monotonic())
                return
        self.pool.release(conn)

    def release(self) -> None:
        """Hand the kept connection back to the pool."""
        with self.lock:
            kept, self.kept = self.kept, None
        if kept is not None and self.pid == os.getpid():
            self.pool.release(kept[0])


_held_lock = ForkSafeLock()
# One Held per pool, whatever number of checkpointers share the pool; keyed weakly,
# so it never keeps a pool alive.
_held: "weakref.WeakKeyDictionary[Any, Held]" = weakref.WeakKeyDictionary()


def held_for(pool: Any) -> Held:
    """The :class:`Held` of ``pool``."""
    with _held_lock:
        found = _held.get(pool)
        if found is None:
            found = _held[pool] = Held(pool)
        return found


class Direct:
    """Packed commands on a connection held between calls."""

    __slots__ = ("held",)

    def __init__(self, held: Held) -> None:
        self.held = held

    def send(self, commands: Sequence[Command]) -> List[Any]:
        conn = self.held.take()
        try:
            return exchange(conn, commands)
        finally:
            self.held.give(conn)


class Borrowed:
    """Packed commands on a connection checked out of the pool for this call only.

    For pools whose checkout does real work on every use: a Sentinel pool checks on
    release that the connection still reaches the primary, and a pool with a
    client-side cache hands out connections that invalidate it.
    """

    __slots__ = ("pool",)

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    def send(self, commands: Sequence[Command]) -> List[Any]:
        conn = self.pool.get_connection()
        try:
            return exchange(conn, commands)
        finally:
            self.pool.release(conn)


def packed(conn: Any, commands: Sequence[Command]) -> List[bytes]:
    """``commands`` packed by ``conn``'s own packer, as one write."""
    pack = conn.pack_command
    if len(commands) == 1:
        chunks = pack(*commands[0])
    else:
        chunks = [chunk for command in commands for chunk in pack(*command)]
    return [b"".join(chunks)] if len(chunks) > 1 else chunks


def exchange(conn: Any, commands: Sequence[Command]) -> List[Any]:
    """Send ``commands`` in one write on ``conn``, then read one reply for each.

    redis-py disconnects the connection on any error while sending or reading,
    so a connection handed back is either fully read or closed.
    """
    conn.send_packed_command(packed(conn, commands), check_health=False)
    replies: List[Any] = []
    read = conn.read_response
    for _ in commands:
        try:
            replies.append(read())
        except ResponseError as exc:
            replies.append(exc)
    return replies


class Generic:
    """The same commands through a redis-py pipeline on ``client`` (a node's client
    on a cluster): one connection, every command through ``execute_command``."""

    __slots__ = ("client",)

    def __init__(self, client: Any) -> None:
        self.client = client

    def send(self, commands: Sequence[Command]) -> List[Any]:
        pipe = self.client.pipeline(transaction=False)
        try:
            for command in commands:
                pipe.execute_command(*command)
            replies: List[Any] = pipe.execute(raise_on_error=False)
        finally:
            pipe.reset()
        return replies


# -- asyncio ----------------------------------------------------------------


async def aexchange(conn: Any, commands: Sequence[Command]) -> List[Any]:
    """:func:`exchange` on a ``redis.asyncio`` connection. Cancelled or failed part-way,
    the connection is closed: half a command, or replies nobody read, never reach the
    next user (Redis drops a transaction whose ``EXEC`` never came)."""
    try:
        await conn.send_packed_command(packed(conn, commands), check_health=False)
        replies: List[Any] = []
        for _ in commands:
            try:
                replies.append(await conn.read_response())
            except ResponseError as exc:
                replies.append(exc)
        return replies
    except BaseException:
        await conn.disconnect(nowait=True)
        raise


class AsyncHeld:
    """:class:`Held` and :class:`Direct` for a ``redis.asyncio`` pool: packed commands on
    connections kept between calls, taken with no wait on the pool when one is free.

    At most ``keep`` idle connections are kept, and none while one of our calls waits on
    the pool: one for a client the application shares (its other users find the rest in
    the pool), all for a client the checkpointer built and owns (``from_url``), whose
    only user it is. A connection kept on another event loop than the caller's goes
    back to the pool (an asyncio connection belongs to the loop it was opened on).
    """

    __slots__ = ("pool", "kept", "keep", "waiting", "__weakref__")

    def __init__(self, pool: Any, keep: int = 1) -> None:
        self.pool = pool
        self.keep = keep
        self.kept: List[Tuple[Any, Any, float]] = []
        self.waiting = 0

    async def send(self, commands: Sequence[Command]) -> List[Any]:
        loop = asyncio.get_running_loop()
        conn = None
        while self.kept and conn is None:
            kept, on, last = self.kept.pop()
            if on is not loop:
                await self.pool.release(kept)
                continue
            conn = kept
            if time.monotonic() - last > IDLE_CHECK and conn.is_connected:
                await _drop_if_stale(conn)
        if conn is None:
            self.waiting += 1
            try:
                conn = await self.pool.get_connection()
            finally:
                self.waiting -= 1
        try:
            return await aexchange(conn, commands)
        finally:
            if len(self.kept) < self.keep and not self.waiting:
                self.kept.append((conn, loop, time.monotonic()))
            else:
                await self.pool.release(conn)

    async def release(self) -> None:
        """Hand the kept connections back to the pool."""
        kept, self.kept = self.kept, []
        for conn, _loop, _last in kept:
            await self.pool.release(conn)


async def _drop_if_stale(conn: Any) -> None:
    """Disconnect a connection the server closed meanwhile, or that holds a stray reply."""
    unread = getattr(conn, "can_read", None) or conn.can_read_destructive  # redis-py 7 has the latter
    try:
        stale = await unread()
    except Exception:
        stale = True
    if stale:
        await conn.disconnect(nowait=True)


_aheld: "weakref.WeakKeyDictionary[Any, AsyncHeld]" = weakref.WeakKeyDictionary()


def aheld_for(pool: Any, owned: bool = False) -> AsyncHeld:
    """The :class:`AsyncHeld` of ``pool``: one per pool, whatever number of checkpointers
    share it (no lock: asyncio pools are used from their loop's thread). ``owned``: the
    checkpointer built the pool, and may keep every connection it opens idle."""
    found = _aheld.get(pool)
    if found is None:
        keep = getattr(pool, "max_connections", 1) if owned else 1
        found = _aheld[pool] = AsyncHeld(pool, max(1, min(int(keep), 1 << 16)))
    return found


class AsyncBorrowed:
    """Packed commands on a connection of a ``redis.asyncio`` pool, for this call only."""

    __slots__ = ("pool",)

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    async def send(self, commands: Sequence[Command]) -> List[Any]:
        conn = await self.pool.get_connection()
        try:
            return await aexchange(conn, commands)
        finally:
            await self.pool.release(conn)


class AsyncNode:
    """Packed commands on a connection of a ``redis.asyncio`` cluster node."""

    __slots__ = ("node",)

    def __init__(self, node: Any) -> None:
        self.node = node

    async def send(self, commands: Sequence[Command]) -> List[Any]:
        conn = self.node.acquire_connection()
        try:
            return await aexchange(conn, commands)
        finally:
            self.node.release(conn)


class AsyncGeneric:
    """The same commands through a ``redis.asyncio`` pipeline on ``client``."""

    __slots__ = ("client",)

    def __init__(self, client: Any) -> None:
        self.client = client

    async def send(self, commands: Sequence[Command]) -> List[Any]:
        pipe = self.client.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        replies: List[Any] = await pipe.execute(raise_on_error=False)
        return replies
