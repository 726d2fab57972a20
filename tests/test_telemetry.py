"""OpenTelemetry spans and metrics, and the DEBUG log line, through the SDK's in-memory
exporter and metric reader, on a real server and a cluster."""
from __future__ import annotations

import logging
import uuid
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import redis
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from redis_checkpoint import ConflictError, RedisCheckpointer, ReplicationError
from redis_checkpoint.testing import RedisClusterServers

pytestmark = pytest.mark.redis

Telemetry = Tuple[InMemorySpanExporter, InMemoryMetricReader]


@pytest.fixture(scope="session")
def providers() -> Telemetry:
    """The SDK's providers, set once for the process (OpenTelemetry allows one of each)."""
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    return exporter, reader


@pytest.fixture
def otel(providers: Telemetry) -> Iterator[Telemetry]:
    providers[0].clear()
    providers[1].get_metrics_data()  # reset nothing, but settle what came before
    yield providers


def ours(exporter: InMemorySpanExporter, prefix: str) -> List[Any]:
    return [s for s in exporter.get_finished_spans()
            if s.attributes.get("redis_checkpoint.key_prefix") == prefix]


def points(reader: InMemoryMetricReader, name: str) -> List[Tuple[Dict[str, Any], Any]]:
    """``(attributes, data point)`` of metric ``name`` read now."""
    found = []
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    found += [(dict(p.attributes), p) for p in metric.data.data_points]
    return found


def test_core_operations_have_spans_with_their_attributes(otel: Telemetry, redis_url: str, prefix: str) -> None:
    exporter, reader = otel
    with RedisCheckpointer.from_url(redis_url, key_prefix=prefix) as cp:
        cp.save("secret-user-42", {"pad": "x" * 5000})
        cp.load("secret-user-42")
        cp.list("secret-user-42")
        cp.advance("secret-user-42", lambda s: {**s, "n": 1})
        cp.delete_thread("secret-user-42")
    spans = ours(exporter, prefix)
    names = [s.name.split()[0] for s in spans]
    assert names == ["save", "load", "list", "load", "save", "advance", "delete_thread"], names
    save = spans[0]
    attrs = dict(save.attributes)
    assert save.name == f"save {prefix}" and save.kind == trace.SpanKind.CLIENT
    assert attrs["db.system.name"] == "redis" and attrs["db.operation.name"] == "save"
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["server.port"] == int(redis_url.rsplit(":", 1)[1].split("/")[0])
    assert attrs["redis_checkpoint.outcome"] == "saved" and attrs["redis_checkpoint.attempts"] == 1
    assert attrs["redis_checkpoint.state_bytes"] > 5000 > attrs["redis_checkpoint.stored_bytes"] > 0  # compressed
    assert spans[1].attributes["redis_checkpoint.stored_bytes"] == attrs["redis_checkpoint.stored_bytes"]
    advance = spans[5]
    assert advance.attributes["redis_checkpoint.attempts"] == 1
    assert advance.attributes["redis_checkpoint.outcome"] == "saved"
    assert spans[3].parent.span_id == advance.context.span_id == spans[4].parent.span_id  # its load and save
    # thread ids stay out of every span unless the application opts in
    assert not any("secret-user-42" in str(v) for s in spans for v in s.attributes.values())
    sizes = [p for a, p in points(reader, "redis_checkpoint.state.size") if a["db.operation.name"] == "save"]
    assert sizes and sizes[0].count >= 2
    durations = {(a["db.operation.name"], a["redis_checkpoint.outcome"])
                 for a, _p in points(reader, "redis_checkpoint.operation.duration")}
    expected = {("save", "saved"), ("load", "ok"), ("list", "ok"), ("advance", "saved"), ("delete_thread", "ok")}
    assert expected <= durations


def test_thread_ids_only_when_opted_in(otel: Telemetry, redis_url: str, prefix: str) -> None:
    exporter, _reader = otel
    with RedisCheckpointer.from_url(redis_url, key_prefix=prefix, trace_thread_ids=True) as cp:
        cp.save("user-7", 1)
    assert ours(exporter, prefix)[0].attributes["redis_checkpoint.thread_id"] == "user-7"
    with pytest.raises(TypeError, match="trace_thread_ids"):
        RedisCheckpointer.from_url(redis_url, trace_thread_ids="yes")


def counter(reader: InMemoryMetricReader, name: str) -> int:
    return sum(p.value for _a, p in points(reader, f"redis_checkpoint.{name}"))


def test_conflict_replay_retry_and_replication_shortfall(otel: Telemetry, redis_url: str, prefix: str) -> None:
    exporter, reader = otel
    before = {name: counter(reader, name) for name in ("conflicts", "replays", "retries", "replication_errors")}
    with RedisCheckpointer.from_url(redis_url, key_prefix=prefix, cluster=False) as cp:
        first = cp.save("t", 1, checkpoint_id="c1")
        cp.save("t", 1, checkpoint_id="c1")  # the same id again: a replay
        with pytest.raises(ConflictError):
            cp.save("t", 2, expected_id="not-current")
        cp.load("t")  # a connection is kept; kill it, so the next save needs a second attempt
        killer = redis.Redis.from_url(redis_url)
        killer.client_kill_filter(_type="normal", skipme=True)
        killer.close()
        cp.save("t", 3, expected_id=first.id)
    with RedisCheckpointer.from_url(redis_url, key_prefix=prefix, min_replicas=1, min_replicas_timeout=0.05) as lone:
        with pytest.raises(ReplicationError):
            lone.save("u", 1)  # no replica to confirm it
    outcomes = [(s.name.split()[0], s.attributes["redis_checkpoint.outcome"], s.attributes["redis_checkpoint.attempts"])
                for s in ours(exporter, prefix) if s.name.startswith("save")]
    assert outcomes == [("save", "saved", 1), ("save", "replayed", 1), ("save", "conflict", 1),
                        ("save", "saved", 2), ("save", "replication_shortfall", 1)], outcomes
    after = {name: counter(reader, name) - before[name] for name in before}
    assert after == {"conflicts": 1, "replays": 1, "retries": 1, "replication_errors": 1}, after


@pytest.mark.cluster
def test_spans_on_the_cluster(otel: Telemetry, cluster_servers: RedisClusterServers, prefix: str) -> None:
    exporter, _reader = otel
    with RedisCheckpointer.from_url(cluster_servers.url, key_prefix=prefix) as cp:
        for i in range(5):
            cp.save(f"t{i}", {"i": i})
            assert cp.load(f"t{i}").state == {"i": i}  # type: ignore[union-attr]
    spans = ours(exporter, prefix)
    assert [s.name.split()[0] for s in spans] == ["save", "load"] * 5
    assert all(s.attributes["db.system.name"] == "redis" and "server.port" in s.attributes for s in spans)


def test_langgraph_operations_have_spans_with_the_namespace(otel: Telemetry, redis_url: str, prefix: str) -> None:
    from langgraph.checkpoint.base import empty_checkpoint

    from redis_checkpoint.langgraph import RedisSaver

    exporter, _reader = otel
    with RedisSaver.from_url(redis_url, key_prefix=prefix) as saver:
        config = {"configurable": {"thread_id": "t", "checkpoint_ns": "sub:1"}}
        checkpoint = empty_checkpoint()
        config = saver.put(config, checkpoint, {}, {})
        saver.put_writes(config, [("ch", 1)], "task")
        saver.get_tuple(config)
        list(saver.list(config))
        saver.copy_thread("t", "t2")
        saver.prune(["t"])
        saver.delete_thread("t2")
    spans = ours(exporter, prefix)
    names = [s.name.split()[0] for s in spans]
    assert names == ["put", "put_writes", "get_tuple", "list", "copy_thread", "prune", "delete_thread"], names
    assert all(s.attributes["redis_checkpoint.namespace"] == "sub:1" for s in spans[:4])
    assert spans[0].attributes["redis_checkpoint.outcome"] == "saved"


def test_a_debug_line_per_operation_without_state_or_secrets(redis_url: str, prefix: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    password_url = redis_url  # a URL with credentials never reaches the line either way
    with RedisCheckpointer.from_url(password_url, key_prefix=prefix) as cp:
        with caplog.at_level(logging.DEBUG, logger="redis_checkpoint"):
            cp.save("t", {"secret": "hunter2-" + uuid.uuid4().hex})
            cp.load("t")
    lines = [r.getMessage() for r in caplog.records if r.name == "redis_checkpoint"]
    assert any(line.startswith(f"save prefix={prefix} outcome=saved state_bytes=") for line in lines), lines
    assert any(line.startswith(f"load prefix={prefix} outcome=ok") for line in lines), lines
    assert not any("hunter2" in line or "secret" in line for line in lines)


def test_the_asyncio_classes_have_the_same_spans(otel: Telemetry, redis_url: str, prefix: str) -> None:
    import asyncio

    from langgraph.checkpoint.base import empty_checkpoint

    from redis_checkpoint import AsyncRedisCheckpointer
    from redis_checkpoint.langgraph import AsyncRedisSaver

    exporter, _reader = otel

    async def go() -> None:
        async with AsyncRedisCheckpointer.from_url(redis_url, key_prefix=prefix) as cp:
            await cp.save("t", 1)
            await cp.advance("t", lambda s: s + 1)
        async with AsyncRedisSaver.from_url(redis_url, key_prefix=prefix) as saver:
            config = await saver.aput({"configurable": {"thread_id": "g", "checkpoint_ns": ""}},
                                      empty_checkpoint(), {}, {})
            await saver.aget_tuple(config)

    asyncio.run(go())
    spans = ours(exporter, prefix)
    assert [s.name.split()[0] for s in spans] == ["save", "load", "save", "advance", "put", "get_tuple"]
    assert spans[2].parent.span_id == spans[3].context.span_id  # advance's save is its child, across awaits
