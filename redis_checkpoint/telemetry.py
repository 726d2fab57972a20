"""What the checkpointer tells the application: OpenTelemetry spans and metrics, and a
``DEBUG`` log line per operation.

Through OpenTelemetry's API only (the ``otel`` extra); the application brings the SDK
and its exporters. Without the API installed, or with no tracer and no meter
provider configured, :func:`operation` costs two global reads, and no span, metric
or log record is made. The ``DEBUG`` line costs one ``isEnabledFor`` unless logging is
configured at that level.

Each operation (``save``, ``load``, ``list``, ``delete_thread``, ``advance``, and the
LangGraph savers' ``put``, ``put_writes``, ``get_tuple``, ``list``, ``prune``,
``copy_thread``) is one span named ``"<operation> <key prefix>"`` with the database
client conventions (``db.system.name``, ``db.operation.name``, ``server.address``,
``server.port``) and ours under ``redis_checkpoint.``: ``key_prefix``,
``state_bytes`` (CBOR) and ``stored_bytes`` (after compression), ``outcome``
(``saved``, ``replayed``, ``conflict``, ``replication_shortfall``, ``error``, or
``ok``), ``attempts``, LangGraph's ``namespace``, and the thread id only when the
checkpointer was built with ``trace_thread_ids=True`` (ids can be personal data).
Metrics: ``redis_checkpoint.operation.duration`` (s, by operation and outcome),
``redis_checkpoint.state.size`` (bytes stored per save), and the counters
``redis_checkpoint.conflicts``, ``.replays``, ``.retries`` and
``.replication_errors``. They are recorded here, around the operations, whatever
path the commands take: not in redis-py's command layer.
"""
from __future__ import annotations

import contextvars
import logging
import time
from types import TracebackType
from typing import Any, Dict, Optional, Type

try:  # the otel extra
    from opentelemetry import context as otel_context
    from opentelemetry import metrics, trace
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider, Status, StatusCode
    try:
        from opentelemetry.metrics import _internal as _metrics_state
        from opentelemetry.metrics._internal import _ProxyMeterProvider as ProxyMeterProvider
    except ImportError:  # pragma: no cover - an API without the private name
        ProxyMeterProvider = NoOpMeterProvider  # type: ignore[misc,assignment]
        _metrics_state = None  # type: ignore[assignment]
except ImportError:  # pragma: no cover - exercised by installs without the extra
    trace = metrics = None  # type: ignore[assignment]

from .errors import ConflictError, ReplicationError

logger = logging.getLogger("redis_checkpoint")
NAME = "redis_checkpoint"
_current: "contextvars.ContextVar[Optional[Operation]]" = contextvars.ContextVar("redis_checkpoint_op", default=None)
_instruments: Dict[str, Any] = {}


def _tracing() -> bool:
    return trace is not None and not isinstance(trace.get_tracer_provider(), (ProxyTracerProvider, NoOpTracerProvider))


def _metering() -> bool:
    return metrics is not None and not isinstance(metrics.get_meter_provider(), (ProxyMeterProvider, NoOpMeterProvider))


def _unset() -> bool:
    """Whether neither global provider has been set: the API's own module globals, read
    directly because the public getters cost a microsecond on every operation. An API
    without them takes the public way."""
    if trace is None:
        return True
    try:
        return trace._TRACER_PROVIDER is None and _metrics_state._METER_PROVIDER is None  # type: ignore[attr-defined]
    except AttributeError:
        return False


def _instrument(name: str) -> Any:
    """The metric ``name``, created once from the global meter provider."""
    found = _instruments.get(name)
    if found is None:
        meter = metrics.get_meter(NAME)
        if name == "duration":
            found = meter.create_histogram("redis_checkpoint.operation.duration", unit="s",
                                           description="Duration of checkpointer operations")
        elif name == "size":
            found = meter.create_histogram("redis_checkpoint.state.size", unit="By",
                                           description="Bytes a saved state takes in Redis")
        else:
            found = meter.create_counter(f"redis_checkpoint.{name}", description=f"Checkpointer {name}")
        _instruments[name] = found
    return found


class Operation:
    """One operation being observed: set ``outcome``, ``state_bytes``, ``stored_bytes``,
    ``namespace`` as they become known."""

    __slots__ = ("name", "engine", "thread_id", "outcome", "state_bytes", "stored_bytes", "namespace",
                 "attempts", "span", "started", "token", "metered", "context", "current")

    def __init__(self, name: str, engine: Any, thread_id: Any, current: bool = True) -> None:
        self.name = name
        self.current = current
        self.engine = engine
        self.thread_id = thread_id
        self.outcome = "ok"
        self.state_bytes: Optional[int] = None
        self.stored_bytes: Optional[int] = None
        self.namespace: Optional[str] = None
        self.attempts = 1
        self.span: Any = None
        self.metered = False
        self.token: Any = None
        self.context: Any = None
        self.started = 0.0

    def __enter__(self) -> "Operation":
        self.started = time.perf_counter()
        if self.current:
            self.token = _current.set(self)
        if _tracing():
            opts = self.engine.options
            self.span = trace.get_tracer(NAME).start_span(
                f"{self.name} {opts.key_prefix}", kind=trace.SpanKind.CLIENT, attributes=self._base())
            if self.current:  # advance's saves are its children
                self.context = otel_context.attach(trace.set_span_in_context(self.span))
        self.metered = _metering()
        return self

    def _base(self) -> Dict[str, Any]:
        opts = self.engine.options
        attrs: Dict[str, Any] = {"db.system.name": "redis", "db.system": "redis", "db.operation.name": self.name,
                                 "redis_checkpoint.key_prefix": opts.key_prefix}
        host, port = self.engine.address
        if host is not None:
            attrs["server.address"] = host
        if port is not None:
            attrs["server.port"] = port
        if opts.trace_thread_ids and self.thread_id is not None:
            attrs["redis_checkpoint.thread_id"] = str(self.thread_id)
        return attrs

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        if self.token is not None:
            _current.reset(self.token)
        if self.context is not None:
            otel_context.detach(self.context)
        if exc is not None:
            self.outcome = ("conflict" if isinstance(exc, ConflictError)
                            else "replication_shortfall" if isinstance(exc, ReplicationError) else "error")
        elapsed = time.perf_counter() - self.started
        if self.span is not None:
            self._end_span(exc)
        if self.metered:
            self._record(elapsed)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s prefix=%s outcome=%s state_bytes=%s stored_bytes=%s attempts=%d %.1f ms",
                         self.name, self.engine.options.key_prefix, self.outcome, self.state_bytes,
                         self.stored_bytes, self.attempts, elapsed * 1000)

    def _end_span(self, exc: Optional[BaseException]) -> None:
        span = self.span
        span.set_attribute("redis_checkpoint.outcome", self.outcome)
        span.set_attribute("redis_checkpoint.attempts", self.attempts)
        for key, value in (("state_bytes", self.state_bytes), ("stored_bytes", self.stored_bytes),
                           ("namespace", self.namespace)):
            if value is not None:
                span.set_attribute(f"redis_checkpoint.{key}", value)
        if exc is not None and self.outcome == "error":
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            span.set_attribute("error.type", type(exc).__name__)
        span.end()

    def _record(self, elapsed: float) -> None:
        labels = {"db.operation.name": self.name, "redis_checkpoint.outcome": self.outcome}
        _instrument("duration").record(elapsed, labels)
        if self.stored_bytes is not None and self.outcome in ("saved", "replayed"):
            _instrument("size").record(self.stored_bytes, {"db.operation.name": self.name})
        counter = {"conflict": "conflicts", "replayed": "replays",
                   "replication_shortfall": "replication_errors"}.get(self.outcome)
        if counter is not None:
            _instrument(counter).add(1, {"db.operation.name": self.name})


class _Unobserved:
    """What :func:`operation` gives when nothing observes: attributes set on it go nowhere."""

    outcome = state_bytes = stored_bytes = namespace = attempts = None

    def __enter__(self) -> "_Unobserved":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __setattr__(self, name: str, value: Any) -> None:
        return None


_UNOBSERVED = _Unobserved()


def operation(name: str, engine: Any, thread_id: Any = None, current: bool = True) -> Any:
    """``with operation("save", engine, thread_id) as op:`` around one operation; a shared
    object that records nothing unless a tracer or meter provider, or DEBUG logging, is on.
    ``current=False`` for a listing read as its caller goes: its span is no parent, as the
    caller's own operations run between its pages."""
    if engine is None or (_unset() and not logger.isEnabledFor(logging.DEBUG)):
        return _UNOBSERVED
    if _tracing() or _metering() or logger.isEnabledFor(logging.DEBUG):
        return Operation(name, engine, thread_id, current)
    return _UNOBSERVED


def current() -> Optional[Operation]:
    """The operation in progress in this context (thread or task), if any."""
    return _current.get()


def retried(op_name: str) -> None:
    """A failed attempt is being retried: one more attempt for the operation, one more
    on the retries counter."""
    found = _current.get()
    if found is not None:
        found.attempts += 1
        if found.metered:
            _instrument("retries").add(1, {"db.operation.name": found.name})
