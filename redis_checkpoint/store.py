"""``RedisCheckpointer``: the blocking, thread-safe Redis implementation."""
from __future__ import annotations

import copy
from typing import Any, Iterator, List, Mapping, Optional, Tuple

import redis
from redis.commands.core import Script
from redis.retry import Retry

from . import eviction
from . import keys as _keys
from .base import ANY, Checkpoint, Checkpointer, CheckpointMetadata
from .codec import DEFAULT_MAX_STATE_SIZE, Codec
from .cluster import scan_threads, track
from .connection import connect, describe
from .durability import run_and_wait
from .errors import (
    CheckpointNotFoundError,
    ConflictError,
    CorruptCheckpointError,
    ReplicationError,
    StorageError,
    check_int,
    storage_error,
)
from .ids import new_id, validate_id
from .options import take_own, ttl_ms, wait_ms
from .records import decode_id, decode_metadata, encode_metadata, metadata_of, parse_record
from .retries import DEFAULT_BUDGET, RetryPolicy
from .scripts import save_args, scripts_for

_LATEST = ("current", "record", "state")
_DEFERRED: Any = object()  # from_url: options first, the client once connected
PAGE = 1000  # list() reads long histories in pages of this many entries


class RedisCheckpointer(Checkpointer):
    """Versioned per-thread checkpoints in Redis, one atomic script call per save.

    One instance is meant to be shared by every thread of a process. Build it
    from an existing ``redis.Redis`` (it never closes a client it was given) or
    with :meth:`from_url` (it owns and closes that client).
    """

    def __init__(
        self,
        client: Any,
        *,
        key_prefix: str = "checkpoint",
        ttl_seconds: Optional[float] = None,
        refresh_ttl_on_read: bool = False,
        compression: Optional[str] = "snappy",
        compression_threshold: int = 1024,
        max_checkpoints: Optional[int] = None,
        max_state_size: int = DEFAULT_MAX_STATE_SIZE,
        min_replicas: int = 0,
        min_replicas_timeout: float = 1.0,
        retry: Optional[Retry] = None,
        retry_budget: float = DEFAULT_BUDGET,
    ) -> None:
        """Wrap ``client``; every option is checked here (``TypeError``/``ValueError`` naming it).

        ``from_url`` passes ``_DEFERRED`` to check the options before connecting.
        """
        self._prefix = _keys.validate_prefix(key_prefix)
        self._ttl_ms = ttl_ms(ttl_seconds)
        if not isinstance(refresh_ttl_on_read, bool):
            raise TypeError(f"refresh_ttl_on_read must be a bool, not {type(refresh_ttl_on_read).__name__}")
        self._refresh = refresh_ttl_on_read
        check_int("max_checkpoints", max_checkpoints, 1, optional=True)
        self._keep = max_checkpoints or 0
        self._codec = Codec(compression, compression_threshold, max_state_size)
        self._meta_codec = self._codec.strict()  # list() decodes up to 1000 records a call
        check_int("min_replicas", min_replicas, 0)
        self._min_replicas = min_replicas
        self._wait_ms = wait_ms(min_replicas_timeout)
        self._policy = RetryPolicy(retry, retry_budget)
        self._owns_client = False
        if client is not _DEFERRED:
            self._attach(client)

    def _attach(self, client: Any) -> None:
        if not hasattr(client, "evalsha"):
            raise TypeError(f"client must be a redis-py client, not {type(client).__name__}")
        if client.get_encoder().decode_responses:
            raise ValueError("client must be created with decode_responses=False")
        self._client = client
        self._eviction_checked = False
        self._scripts = scripts_for(client)
        track(client)  # RedisCluster: fork safety (see cluster.py)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> "RedisCheckpointer":
        """Connect to ``url`` on a bounded blocking pool (see ``connection.connect``).

        The checkpointer's own options are checked before anything connects.
        ``cluster=None`` (default) asks the server whether it is a Redis Cluster
        node (so the server must answer now: :class:`StorageError` otherwise) and
        builds a ``redis.RedisCluster`` if so; ``True``/``False`` force the choice
        and connect lazily. Pool and socket options (``max_connections``,
        ``pool_timeout``, ``socket_timeout``, ``sentinel_kwargs``, ...) go to the
        pool; the rest to the checkpointer.
        """
        cp = cls(_DEFERRED, **take_own(options))
        try:
            client = cp._policy.call(lambda: connect(url, **options), "connect")
        except redis.RedisError as exc:  # cluster=None asks the server at once
            raise StorageError(
                f"connect failed: {type(exc).__name__}: {exc}", operation="connect"
            ) from exc
        try:
            cp._attach(client)
        except BaseException:
            client.close()
            raise
        cp._owns_client = True
        return cp

    def with_ttl(self, ttl_seconds: Optional[float]) -> "RedisCheckpointer":
        """A checkpointer like this one with another TTL, sharing client, pool and scripts."""
        other = copy.copy(self)
        other._ttl_ms = ttl_ms(ttl_seconds)
        other._owns_client = False
        other._eviction_checked = False  # a TTL changes what volatile-* policies may evict
        return other

    @property
    def client(self) -> Any:
        return self._client

    @property
    def key_prefix(self) -> str:
        return self._prefix

    @property
    def ttl_seconds(self) -> Optional[float]:
        return self._ttl_ms / 1000 if self._ttl_ms else None

    def keys(self, thread_id: str) -> _keys.ThreadKeys:
        """The Redis keys of a thread (see ``docs/design.md``)."""
        return _keys.thread_keys(self._prefix, _keys.validate_thread_id(thread_id))

    # -- writes ------------------------------------------------------------

    def save(
        self,
        thread_id: str,
        state: Any,
        *,
        metadata: Optional[Mapping[str, Any]] = None,
        expected_id: Any = ANY,
        checkpoint_id: Optional[str] = None,
    ) -> CheckpointMetadata:
        """Save ``state`` as the thread's new current checkpoint, in one script call.

        ``expected_id`` makes it a compare-and-set: the save happens only if the
        thread's current checkpoint is ``expected_id`` (``None``: the thread has
        none), else :class:`ConflictError`. ``checkpoint_id`` names the new
        checkpoint; saving an id the thread already has is a no-op that returns
        the stored metadata. Why the id check comes first, as a timeline:

        1. process A saves id X with ``expected_id=W``; Redis commits X;
        2. the reply to A is lost (timeout, dropped connection);
        3. the retry policy re-sends the same call; Redis finds X already stored and
           returns X's metadata, not a conflict (current is X, not W) and not a
           second entry. Without a client-side id, step 3 would append twice.
        """
        return self._save(thread_id, state, metadata, expected_id, checkpoint_id)[0]

    def _save(
        self, thread_id: str, state: Any, metadata: Optional[Mapping[str, Any]], expected_id: Any,
        checkpoint_id: Optional[str],
    ) -> Tuple[CheckpointMetadata, bool]:
        """``save``, and whether the script wrote the checkpoint: False when the id was
        already stored, which includes a re-sent attempt finding the first one's write."""
        keys = self.keys(thread_id)
        meta, meta_blob = encode_metadata(self._meta_codec, metadata)
        cid = new_id() if checkpoint_id is None else validate_id(checkpoint_id)
        if expected_id is ANY:
            mode, expected = "", ""
        elif expected_id is None:
            mode, expected = "0", ""
        else:
            mode, expected = "1", validate_id(expected_id, "expected_id")
        blob = self._codec.encode(state)
        self._warn_if_evictable()
        need = self._min_replicas
        args = save_args(cid, mode, expected, blob, meta_blob, self._ttl_ms, self._keep, bool(need),
                         self._policy.replay_window_ms)
        (status, rec), acked = self._write("save", thread_id, self._scripts.save, keys, args)
        if status == -1:
            raise ConflictError(thread_id, expected_id, decode_id(rec, thread_id) if rec else None)
        created, size, parent, stored_meta = parse_record(rec, thread_id, cid)
        if status == 0:  # already saved: report what is stored
            meta = decode_metadata(self._meta_codec, stored_meta, thread_id, cid)
        saved = CheckpointMetadata(cid, thread_id, parent, created, meta, size)
        if acked < need:
            raise ReplicationError(saved, acked, need)
        return saved, status == 1

    def delete_thread(self, thread_id: str) -> bool:
        keys = self.keys(thread_id)
        return bool(self._run("delete_thread", thread_id, self._client.unlink, *keys))

    # -- reads -------------------------------------------------------------

    def load(self, thread_id: str, checkpoint_id: Optional[str] = None) -> Optional[Checkpoint]:
        reply = self._fetch(thread_id, checkpoint_id)
        if reply is None:
            return None
        cid, rec, blob = reply
        created, _size, parent, meta_blob = parse_record(rec, thread_id, cid)
        meta = decode_metadata(self._meta_codec, meta_blob, thread_id, cid)
        try:
            state = self._codec.decode(blob)
        except CorruptCheckpointError as exc:
            raise CorruptCheckpointError(str(exc), thread_id=thread_id, checkpoint_id=cid) from exc
        return Checkpoint(cid, thread_id, parent, created, meta, state)

    def _fetch(self, thread_id: str, checkpoint_id: Optional[str]) -> Optional[Tuple[str, bytes, bytes]]:
        """``(id, record, framed state)`` of a checkpoint, one round trip, or ``None``."""
        keys = self.keys(thread_id)
        cid = "" if checkpoint_id is None else validate_id(checkpoint_id)
        if self._refresh and self._ttl_ms:
            reply = self._run("load", thread_id, self._scripts.load_touch, keys, (cid, self._ttl_ms))
        elif cid:
            reply = self._run("load", thread_id, self._scripts.load, (keys.thread,), (cid,))
        else:  # the latest: fixed fields, one plain HMGET (see save.lua)
            reply = self._run("load", thread_id, self._client.hmget, keys.thread, _LATEST)
            if reply[0] is None or reply[1] is None or reply[2] is None:
                reply = None
        if reply is None:
            return None
        return decode_id(reply[0], thread_id), reply[1], reply[2]

    def list(
        self, thread_id: str, *, limit: Optional[int] = None, before: Optional[str] = None
    ) -> List[CheckpointMetadata]:
        """Metadata newest first, in commit order; ``before`` excludes that id and newer.

        Each call to Redis reads at most 1000 entries, O(log n + k) each.
        Raises :class:`CheckpointNotFoundError` when ``before`` is not in the history.
        """
        keys = self.keys(thread_id)
        check_int("limit", limit, 0, optional=True)
        cursor = "" if before is None else validate_id(before, "before")
        out: List[CheckpointMetadata] = []
        while limit is None or len(out) < limit:
            page = PAGE if limit is None else min(PAGE, limit - len(out))
            reply = self._run(
                "list", thread_id, self._scripts.list, (keys.history, keys.thread), (cursor, page)
            )
            if reply is None:
                if not out and cursor == (before or ""):
                    raise CheckpointNotFoundError(thread_id, cursor, "list")
                break  # the cursor was trimmed by retention meanwhile: nothing older is left
            scanned, last = reply[0], reply[1]
            out.extend(metadata_of(self._meta_codec, thread_id, reply[2:]))
            if scanned < page:
                break
            cursor = decode_id(last, thread_id)
        return out

    def threads(self, match: str = "*") -> Iterator[str]:
        """Every thread id under this prefix, scanning every primary of a cluster.

        ``match`` is a glob over thread ids (``*``, ``?``, ``[...]``, ``\\x``; see
        ``globs.thread_glob``), matched against the ids themselves, not their escaped
        keys. Uses SCAN, never KEYS; a thread saved or deleted during the scan may
        or may not appear.
        """
        if not isinstance(match, str) or not match:
            raise ValueError("match must be a non-empty glob pattern")
        yield from self._scan_threads(match, _keys.SUFFIXES[0])

    def _scan_threads(self, match: str, suffix: str) -> Iterator[str]:
        """Thread ids whose key ``suffix`` exists (the LangGraph saver scans its own)."""
        try:
            yield from scan_threads(self._client, self._prefix, match, suffix)
        except redis.RedisError as exc:
            raise storage_error("threads", match, exc) from exc

    # -- plumbing ----------------------------------------------------------

    def close(self) -> None:
        """Disconnect the pool if this checkpointer created it (``from_url``).

        A later call opens a new connection, as redis-py's clients do.
        """
        if self._owns_client:
            self._client.close()  # RedisCluster.close() disconnects every node
            pool = getattr(self._client, "connection_pool", None)
            if pool is not None:
                pool.disconnect()

    def __repr__(self) -> str:
        return (
            f"RedisCheckpointer({describe(self._client)}, key_prefix={self._prefix!r}, "
            f"ttl_seconds={self.ttl_seconds!r})"
        )

    def _warn_if_evictable(self) -> None:
        """Before the first write: :class:`EvictionWarning` if the server may evict our keys."""
        if not self._eviction_checked:
            self._eviction_checked = True
            eviction.check(self._client, bool(self._ttl_ms))

    def _write(self, op: str, thread_id: str, script: Script, keys: Any, args: Any) -> Tuple[Any, int]:
        """Run a writing script; ``(its reply, replicas that confirmed it)``.

        With ``min_replicas`` the script and ``WAIT`` share one connection
        (``durability.py``); without it nothing waits and the count is 0. The
        caller compares the count with ``min_replicas``.
        """
        need = self._min_replicas
        if not need:
            return self._run(op, thread_id, script, keys, args), 0
        reply, acked = self._run(op, thread_id, run_and_wait, self._client, script, keys, args, need, self._wait_ms)
        return reply, int(acked)

    def _run(self, op: str, thread_id: str, call: Any, *args: Any) -> Any:
        """Run a script (or a client method) on our client under the retry policy.

        The one place Redis errors are turned into :class:`StorageError`
        (``threads``, a generator, wraps its scan with the same helper).
        """

        def attempt() -> Any:
            if isinstance(call, Script):
                keys, script_args = args
                return call(keys, script_args, client=self._client)
            return call(*args)

        try:
            return self._policy.call(attempt, op, thread_id)
        except redis.RedisError as exc:
            raise storage_error(op, thread_id, exc) from exc
