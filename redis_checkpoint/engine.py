"""The engine: one checkpointer's client, scripts, retry policy and options.

Every API (``RedisCheckpointer``, the LangGraph saver, ``admin``, the command
line) goes through an :class:`Engine`'s public methods:

* :meth:`Engine.call` runs a short list of commands on one connection: plain, or
  as a ``MULTI``/``EXEC`` transaction, with ``WAIT`` behind it when the write must
  reach ``min_replicas``. It routes by key on a Redis Cluster (following
  ``MOVED`` and ``ASK``), loads scripts the server lost (``NOSCRIPT``) and sends
  again, retries under the retry policy, and turns what is left into
  :class:`StorageError`: the one place Redis errors are wrapped.
* :meth:`Engine.require_replicas` raises :class:`ReplicationError`: the one place.
* :meth:`Engine.scan_threads` lists thread ids with ``SCAN`` on every primary.

By default the commands go out below redis-py's command layer, packed and sent on
connections the engine keeps between calls (``wire.Direct``); ``fast_path=False``
sends them through redis-py's pipelines instead (``wire.Generic``). What the fast
path skips is listed in ``docs/design.md``.
"""
from __future__ import annotations

import copy
import functools
import weakref
from typing import Any, Generator, Iterator, List, Optional, Sequence, Tuple, TypeVar

import redis
from redis.commands.core import Script
from redis.exceptions import (
    AskError,
    ClusterDownError,
    ConnectionError,
    MovedError,
    NoScriptError,
    SlotNotCoveredError,
    TimeoutError,
)
from redis.sentinel import SentinelConnectionPool

from . import eviction
from . import keys as _keys
from .cluster import scan_threads, track
from .errors import ReplicationError, storage_error
from .options import Options
from .scripts import Scripts, is_fakeredis, scripts_for
from .steps import Call, Replies, Steps, Stream, T, drive, evalsha, stream
from .wire import Borrowed, Command, Direct, Generic, held_for

MULTI: Command = ("MULTI",)
EXEC: Command = ("EXEC",)
ASKING: Command = ("ASKING",)
_TOPOLOGY_ERRORS = (ConnectionError, TimeoutError, ClusterDownError, SlotNotCoveredError)

Sender = Any  # wire.Direct, wire.Borrowed, wire.Generic, or their async twins


class Link:
    """What engine copies share (``with_ttl``): the client, its scripts, and the
    connections kept per pool. Built once per checkpointer that owns a client."""

    __slots__ = ("client", "scripts", "cluster", "generic", "senders", "owned")

    def __init__(self, client: Any, fast_path: bool, owned: bool) -> None:
        if not hasattr(client, "evalsha"):
            raise TypeError(f"client must be a redis-py client, not {type(client).__name__}")
        if client.get_encoder().decode_responses:
            raise ValueError("client must be created with decode_responses=False")
        self.client = client
        self.scripts = scripts_for(client)
        self.cluster = isinstance(client, redis.RedisCluster)
        # fakeredis and single-connection clients keep redis-py's own path
        self.generic = (not fast_path or is_fakeredis(client)
                        or getattr(client, "single_connection_client", False))
        self.senders: "weakref.WeakKeyDictionary[Any, Sender]" = weakref.WeakKeyDictionary()
        self.owned = owned
        track(client)  # RedisCluster: fork safety (see cluster.py)

    def sender(self, node_client: Any) -> Sender:
        """How commands reach the server behind ``node_client`` (the client, or a
        cluster node's client)."""
        pool = node_client.connection_pool
        found = self.senders.get(pool)
        if found is None:
            if self.generic:
                found = Generic(node_client)
            elif isinstance(pool, SentinelConnectionPool) or getattr(pool, "cache", None) is not None:
                found = Borrowed(pool)
            else:
                found = Direct(held_for(pool))
            self.senders[pool] = found
        return found

    def route(self, key: Any) -> Tuple[Sender, Any]:
        """The sender for ``key``'s server, and its cluster node (``None`` off a cluster)."""
        if not self.cluster:
            return self.sender(self.client), None
        node = self.client.nodes_manager.get_node_from_slot(self.client.keyslot(key))
        return self.node_sender(node), node

    def node_sender(self, node: Any) -> Sender:
        return self.sender(node.redis_connection or self.client.get_redis_connection(node))

    def close(self) -> None:
        """Give kept connections back to their pools; disconnect an owned client."""
        for sender in list(self.senders.values()):
            if isinstance(sender, Direct):
                sender.held.release()
        if self.owned:
            self.client.close()  # RedisCluster.close() disconnects every node
            pool = getattr(self.client, "connection_pool", None)
            if pool is not None:
                pool.disconnect()


class EngineBase:
    """What the sync and async engines share: options, scripts, keys, and how a call's
    attempt goes (routing, ``ASK``, ``NOSCRIPT``, reading the replies), as steps."""

    def __init__(self, link: Any, options: Options) -> None:
        self.link = link
        self.options = options
        self.scripts: Scripts = link.scripts
        self.policy = options.policy
        self.closes = True  # with_ttl copies share the link and leave it open
        self._eviction_checked = False

    @property
    def client(self) -> Any:
        return self.link.client

    @functools.cached_property
    def address(self) -> Tuple[Optional[str], Optional[int]]:
        """``(host, port)`` of the server (a cluster's first node), for telemetry."""
        client = self.client
        kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
        if kwargs is not None:
            return kwargs.get("host") or kwargs.get("path"), kwargs.get("port")
        node = client.get_default_node() if hasattr(client, "get_default_node") else None
        return (node.host, node.port) if node is not None else (None, None)

    @property
    def save_options(self) -> str:
        """``save.lua``'s ARGV[6]: the options every save of this engine passes."""
        o = self.options
        return (f"{o.ttl_ms} {o.keep} {o.policy.replay_window_ms} {1 if o.min_replicas else 0} "
                f"{o.segment_checkpoints} {o.segment_bytes}")

    def with_ttl(self: _E, ttl_seconds: Optional[float]) -> _E:
        """An engine on the same client, scripts and connections with another TTL."""
        other = copy.copy(self)
        other.options = self.options.with_ttl(ttl_seconds)
        other.closes = False
        other._eviction_checked = False  # a TTL changes what volatile-* policies may evict
        return other

    # -- keys --------------------------------------------------------------

    def thread_keys(self, thread_id: Any, name: str = "thread_id") -> _keys.ThreadKeys:
        return _keys.thread_keys(self.options.key_prefix, _keys.validate_thread_id(thread_id, name))

    def graph_keys(self, thread_id: Any, name: str = "thread_id") -> _keys.GraphKeys:
        return _keys.graph_keys(self.options.key_prefix, _keys.validate_thread_id(thread_id, name))

    def require_replicas(self, acked: int, op: str, thread_id: str, metadata: object = None) -> None:
        """:class:`ReplicationError` when a durable write reached fewer than ``min_replicas``."""
        need = self.options.min_replicas
        if acked < need:
            raise ReplicationError(metadata, acked, need, thread_id=thread_id, operation=op)

    def attempt(self, call: Call) -> Generator[Tuple[Any, Any], Any, Replies]:
        """One attempt of ``call``, as steps: ``(sender, commands)`` to send, answered
        with the replies; ``(MOVE, error)`` and ``(REFRESH, None)`` for the cluster's map."""
        wait = self.options.min_replicas if call.durable else 0
        sender, node = self.link.route(call.key)
        try:
            try:
                return (yield from self._exchange(sender, call, wait, asking=False))
            except MovedError as moved:  # caught before AskError, its base class in redis-py
                if node is None:  # a plain client on a cluster node: no map to follow
                    raise
                # the slot has a new owner, and the refusing node ran nothing: note the
                # owner in the client's map and send the call there at once
                yield MOVE, moved
                sender, node = self.link.route(call.key)
                return (yield from self._exchange(sender, call, wait, asking=False))
            except AskError as ask:  # the slot is moving: this key is on the importing node now
                target = self.client.nodes_manager.get_node(host=ask.host, port=ask.port)
                if target is None:
                    raise
                return (yield from self._exchange(self.link.node_sender(target), call, wait, asking=True))
        except MovedError as moved:
            if node is not None:
                yield MOVE, moved
            raise  # retried: the next attempt goes to the new owner
        except _TOPOLOGY_ERRORS:
            if node is not None:
                # RedisCluster refreshes its topology after such errors on its own
                # commands; these bypassed it, so refresh here, then let the retry
                # policy try again.
                yield REFRESH, None
            raise

    def _exchange(self, sender: Sender, call: Call, wait: int,
                  asking: bool) -> Generator[Tuple[Any, Any], Any, Replies]:
        wire: List[Command] = [ASKING] if asking else []
        wire += [MULTI, *call.body, EXEC] if call.transaction else call.body
        if wait:
            wire.append(("WAIT", wait, self.options.wait_ms))
        replies = yield sender, wire
        try:
            return unframe(replies, call.transaction, bool(wait), asking)
        except NoScriptError:
            if not call.scripts:
                raise
        # the server lost its scripts (restart, failover, SCRIPT FLUSH): nothing of
        # this call ran but what came before the script in a transaction, which the
        # same call sends again
        for reply in (yield sender, [("SCRIPT", "LOAD", s.script) for s in call.scripts]):
            if isinstance(reply, Exception):
                raise reply
        return unframe((yield sender, wire), call.transaction, bool(wait), asking)


_E = TypeVar("_E", bound=EngineBase)
#: What an attempt asks of the cluster client besides sending.
MOVE = "move"
REFRESH = "refresh"


class Engine(EngineBase):
    """A client and validated options, with blocking I/O. See the module docstring."""

    link: Link

    @classmethod
    def open(cls, client: Any, options: Options, *, owned: bool = False) -> "Engine":
        return cls(Link(client, options.fast_path, owned), options)

    # -- running steps -----------------------------------------------------

    def drive(self, steps: Steps[T]) -> T:
        """Run an operation written as steps (``steps.py``) to its result."""
        return drive(steps, self.perform)

    def stream(self, steps: Stream) -> Iterator[Any]:
        """The items of a listing written as steps, read as the caller goes."""
        return stream(steps, self.perform)

    def perform(self, call: Call) -> Replies:
        return self.call(*call)

    def run(self, op: str, thread_id: Optional[str], script: Script, keys: Sequence[Any],
            args: Sequence[Any]) -> Any:
        """One script call, routed by its first key; its reply."""
        return self.call(op, thread_id, keys[0], [evalsha(script, keys, args)], (script,))[0][0]

    def command(self, op: str, thread_id: Optional[str], key: Any, *args: Any) -> Any:
        """One plain command whose key ``key`` routes it; its raw reply."""
        return self.call(op, thread_id, key, [args])[0][0]

    def call(
        self, op: str, thread_id: Optional[str], key: Any, body: Sequence[Command],
        scripts: Sequence[Script] = (), transaction: bool = False, durable: bool = False,
    ) -> Replies:
        """Run ``body`` on the connection of ``key``'s server, under the retry policy.

        ``transaction`` wraps it in ``MULTI``/``EXEC`` (all or nothing, even over
        ``maxmemory``); ``durable`` sends ``WAIT min_replicas`` after it on the same
        connection when ``min_replicas`` is set. Returns the replies of ``body`` and
        the number of replicas that confirmed (0 without a ``WAIT``). A reply that
        is an error raises it; after the retry policy, as :class:`StorageError`.
        """
        call = Call(op, thread_id, key, body, scripts, transaction, durable)
        try:
            return self.policy.call(lambda: self._attempt(call), op, thread_id)
        except redis.RedisError as exc:
            raise storage_error(op, thread_id, exc) from exc

    def _attempt(self, call: Call) -> Replies:
        steps = self.attempt(call)
        try:
            what, arg = next(steps)
            while True:
                try:
                    if what is MOVE:
                        out = self.client.nodes_manager.move_slot(arg)  # redis-py >= 7.4
                    elif what is REFRESH:
                        out = None
                        refresh(self.client)
                    else:
                        out = what.send(arg)
                except Exception as exc:
                    what, arg = steps.throw(exc)
                else:
                    what, arg = steps.send(out)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    # -- scanning and the rest ---------------------------------------------

    def scan_threads(self, match: str, suffix: str, op: str = "threads") -> Iterator[str]:
        """Thread ids under this prefix matching the glob ``match`` whose key ``suffix`` exists."""
        try:
            yield from scan_threads(self.client, self.options.key_prefix, match, suffix)
        except redis.RedisError as exc:
            raise storage_error(op, match, exc) from exc

    def warn_if_evictable(self) -> None:
        """Before the first write: :class:`EvictionWarning` if the server may evict our keys."""
        if not self._eviction_checked:
            self._eviction_checked = True
            eviction.check(self.client, bool(self.options.ttl_ms))

    def close(self) -> None:
        if self.closes:
            self.link.close()


def refresh(client: Any) -> None:
    """Reload a cluster client's map of slots; a failure is left for the next attempt."""
    try:
        client.nodes_manager.initialize()
    except redis.RedisError:
        pass  # still failing over: the next attempt will tell


def unframe(replies: List[Any], transaction: bool, wait: bool, asking: bool) -> Tuple[List[Any], int]:
    """The replies of a call's own commands, and the ``WAIT`` count.

    Raises the first error in the order the commands went: ``ASKING``, the body (in a
    transaction, an error answered while queueing, such as ``MOVED``, ``OOM`` or
    ``READONLY``, is the cause of ``EXECABORT``), what ``EXEC`` ran, then ``WAIT``
    (which a replica refuses, when a primary turned replica got the call).
    """
    start = 1 if asking else 0
    end = len(replies) - 1 if wait else len(replies)
    for reply in replies[:end]:
        if isinstance(reply, Exception):
            raise reply
    results = replies[end - 1] if transaction else replies[start:end]
    for reply in results:
        if isinstance(reply, Exception):
            raise reply
    if not wait:
        return results, 0
    acked = replies[-1]
    if isinstance(acked, Exception):
        raise acked
    return results, int(acked)
