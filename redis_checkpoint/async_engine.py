"""The engine on ``redis.asyncio``: the same steps, calls and retry policy on the event loop.

:class:`AsyncEngine` runs the operations ``core`` and the LangGraph saver write as
steps (``steps.py``) exactly as :class:`~redis_checkpoint.engine.Engine` does, with
``await`` where that blocks: the commands, their routing, ``NOSCRIPT``, ``ASK`` and
the replies are read by the code they share (``EngineBase.attempt``).

Commands go out packed on a connection of the client's pool kept between calls
(``wire.AsyncHeld``; checked out per call from a Sentinel pool, ``wire.AsyncBorrowed``),
or of the cluster node's (``wire.AsyncNode``);
``fast_path=False`` and fakeredis use redis-py's asyncio pipelines (``wire.AsyncGeneric``).
"""
from __future__ import annotations

import asyncio
import inspect
import warnings
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, Optional, Sequence

import redis
import redis.asyncio
from redis.asyncio.sentinel import SentinelConnectionPool

from .engine import MOVE, REFRESH, EngineBase, Sender
from .errors import storage_error
from .eviction import warning_for
from .options import Options
from .scripts import is_fakeredis, scripts_for
from .steps import Call, Replies, Steps, Stream, T, adrive, astream
from .cluster import thread_scan
from .wire import AsyncBorrowed, AsyncGeneric, AsyncHeld, AsyncNode, Command, aheld_for

Resolve = Callable[[], Awaitable[Any]]


class AsyncLink:
    """What async engine copies share: the client, its scripts and senders.

    ``resolve``, when given, is awaited before the first call and returns the client
    to use instead (``from_url`` asking the server whether it is a cluster node)."""

    def __init__(self, client: Any, fast_path: bool, owned: bool, resolve: Optional[Resolve] = None) -> None:
        if not hasattr(client, "evalsha") or not inspect.iscoroutinefunction(getattr(client, "execute_command", None)):
            raise TypeError(f"client must be a redis.asyncio client, not {type(client).__name__} "
                            "(a blocking client goes to RedisCheckpointer)")
        if client.get_encoder().decode_responses:
            raise ValueError("client must be created with decode_responses=False")
        self.fast_path = fast_path
        self.owned = owned
        self.scripts = scripts_for(client)
        self._resolve = resolve
        self._lock: Optional[asyncio.Lock] = None
        self._use(client)

    def _use(self, client: Any) -> None:
        self.client = client
        self.cluster = isinstance(client, redis.asyncio.RedisCluster)
        self.generic = (not self.fast_path or is_fakeredis(client)
                        or getattr(client, "single_connection_client", False))
        self.senders: Dict[Any, Sender] = {}
        self.ready = not self.cluster and self._resolve is None

    async def prepare(self) -> None:
        """Before the first call: resolve the client, and load a cluster's map of slots."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.ready:
                return
            if self._resolve is not None:
                client = await self._resolve()
                self._resolve = None
                self._use(client)
            if self.cluster:
                await self.client.initialize()
            self.ready = True

    def route(self, key: Any) -> Any:
        if not self.cluster:
            found = self.senders.get(None)
            if found is None:
                pool = self.client.connection_pool
                if self.generic:
                    found = AsyncGeneric(self.client)
                elif isinstance(pool, SentinelConnectionPool):  # it checks the primary on each checkout
                    found = AsyncBorrowed(pool)
                else:
                    found = aheld_for(pool, self.owned)
                self.senders[None] = found
            return found, None
        node = self.client.nodes_manager.get_node_from_slot(self.client.keyslot(key))
        return self.node_sender(node), node

    def node_sender(self, node: Any) -> Sender:
        # an asyncio cluster node has connections, not a client: packed commands go on them
        found = self.senders.get(node.name)
        if found is None or found.node is not node:
            found = self.senders[node.name] = AsyncNode(node)
        return found

    async def close(self) -> None:
        """Give the kept connection back to its pool; disconnect an owned client and its pool."""
        for sender in list(self.senders.values()):
            if isinstance(sender, AsyncHeld):
                await sender.release()
        if self.owned:
            pool = getattr(self.client, "connection_pool", None)
            await self.client.aclose()
            if pool is not None:
                await pool.disconnect()


class AsyncEngine(EngineBase):
    """An asyncio client and validated options (see the module docstring)."""

    link: AsyncLink

    @classmethod
    def open(cls, client: Any, options: Options, *, owned: bool = False,
             resolve: Optional[Resolve] = None) -> "AsyncEngine":
        return cls(AsyncLink(client, options.fast_path, owned, resolve), options)

    async def drive(self, steps: Steps[T]) -> T:
        """Run an operation written as steps to its result."""
        return await adrive(steps, self.perform)

    def stream(self, steps: Stream) -> AsyncIterator[Any]:
        """The items of a listing written as steps, read as the caller goes."""
        return astream(steps, self.perform)

    async def perform(self, call: Call) -> Replies:
        return await self.call(*call)

    async def call(
        self, op: str, thread_id: Optional[str], key: Any, body: Sequence[Command],
        scripts: Sequence[Any] = (), transaction: bool = False, durable: bool = False,
    ) -> Replies:
        """``Engine.call`` on the event loop."""
        call = Call(op, thread_id, key, body, scripts, transaction, durable)
        try:
            if not self.link.ready:
                await self.link.prepare()
            return await self.policy.acall(lambda: self._attempt(call), op, thread_id)
        except redis.RedisError as exc:
            raise storage_error(op, thread_id, exc) from exc

    async def _attempt(self, call: Call) -> Replies:
        steps = self.attempt(call)
        try:
            what, arg = next(steps)
            while True:
                try:
                    if what is MOVE:
                        out = self.client.nodes_manager.move_slot(arg)
                        if inspect.isawaitable(out):  # a coroutine from redis-py 8 on, plain before
                            out = await out
                    elif what is REFRESH:
                        out = None
                        await refresh(self.client)
                    else:
                        out = await what.send(arg)
                except Exception as exc:
                    what, arg = steps.throw(exc)
                else:
                    what, arg = steps.send(out)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    async def scan_threads(self, match: str, suffix: str, op: str = "threads") -> AsyncIterator[str]:
        """Thread ids under this prefix matching the glob ``match`` whose key ``suffix`` exists."""
        pattern, pick = thread_scan(self.options.key_prefix, match, suffix)
        try:
            if not self.link.ready:
                await self.link.prepare()
            async for key in self.client.scan_iter(match=pattern, count=1000):
                thread_id = pick(key)
                if thread_id is not None:
                    yield thread_id
        except redis.RedisError as exc:
            raise storage_error(op, match, exc) from exc

    async def warn_if_evictable(self) -> None:
        """Before the first write: :class:`EvictionWarning` if the server may evict our keys."""
        if self._eviction_checked:
            return
        self._eviction_checked = True
        try:
            if not self.link.ready:
                await self.link.prepare()
            reply = await self.client.config_get("maxmemory-policy")
        except (redis.RedisError, AttributeError):
            return
        warning = warning_for(reply, bool(self.options.ttl_ms))
        if warning is not None:
            warnings.warn(warning, stacklevel=4)

    async def close(self) -> None:
        if self.closes:
            await self.link.close()


async def refresh(client: Any) -> None:
    """Reload a cluster client's map of slots; a failure is left for the next attempt."""
    try:
        await client.nodes_manager.initialize()
    except redis.RedisError:
        pass
