"""The benchmark tools run and say what they measured (they assert no time)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import redis

from benchmarks.latency import start_relay
from benchmarks.script_cost import BARE, CUTS
from redis_checkpoint.testing import RedisServer

pytestmark = pytest.mark.redis
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_module(*argv: str, timeout: float = 120) -> str:
    """``python -m <argv>`` from the checkout; its stdout, after checking it exited 0."""
    done = subprocess.run([sys.executable, "-m", *argv], capture_output=True, timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.decode()


def test_script_cost_times_every_step_of_the_save_script() -> None:
    # Its own throwaway server: the tool resets INFO commandstats, which other tests read.
    text = run_module("benchmarks.script_cost", "--calls", "30", "--repeats", "1", "--size", "2000")
    for step in [BARE] + [name for name, _ in CUTS]:
        assert f"  {step} " in text, (step, text)


def test_hotspots_prints_a_call_tree_per_operation() -> None:
    pytest.importorskip("pyinstrument")  # the bench extra, which make test installs
    text = run_module("benchmarks.hotspots", "--calls", "30", "--size", "2000")
    for op, ours in (("save", "RedisCheckpointer.save"), ("load", "RedisCheckpointer.load"),
                     ("list", "RedisCheckpointer.list")):
        assert f"## {op}, 30 calls" in text and ours in text, (op, text)


def test_chart_redraws_the_kept_report(tmp_path: "os.PathLike[str]") -> None:
    """The README's chart can be redrawn from the report kept beside it; no arguments is an error."""
    pytest.importorskip("matplotlib")
    out = os.path.join(str(tmp_path), "chart.png")
    run_module("benchmarks.chart", os.path.join("docs", "benchmark", "latest.json"), out)
    with open(out, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert subprocess.run([sys.executable, "-m", "benchmarks.chart"], capture_output=True, cwd=ROOT).returncode != 0


def test_the_benchmark_entry_point_writes_every_part_of_its_report(tmp_path: "os.PathLike[str]") -> None:
    """``make bench``'s entry point, cut down: every part and baseline is in the report."""
    out = str(tmp_path)
    text = run_module("benchmarks", "--quick", "--sizes", "1000", "--workers", "1",
                      "--seconds", "0.3", "--rounds", "1", "--out", out, timeout=300)
    with open(os.path.join(out, "latest.json")) as f:
        report = json.load(f)
    size = report["sizes"]["1000"]
    rows = {group: set(size[group]) for group in ("save", "load", "list10")}
    assert {"naive encode+SET", "raw SET", "raw SET, new keys", "save", "save (CAS)"} <= rows["save"]
    assert {"naive GET+decode", "raw GET", "load", "load by id"} <= rows["load"]
    assert {"bare ZREVRANGE", "list"} <= rows["list10"]
    assert all(m["ops_per_s"] > 0 and m["server_us"] > 0 for group in rows for m in size[group].values())
    assert size["memory"]["checkpoint_bytes"] > 0 and size["memory"]["raw_set_bytes"] > 0
    assert set(report["workers"]) >= {"save", "raw SET", "load", "raw GET", "list10"}
    assert [r["history"] for r in report["history"]] == [10, 1000]
    assert [r["threads"] for r in report["threads"]] == [1, 1000]
    if "skipped" not in report["langgraph"]:
        assert report["langgraph"]["redis-checkpoint"]["bytes_per_checkpoint"] > 0
    assert set(report["langgraph_vs_memory"]) == {"put", "get_tuple"}
    assert "## Headline" in text and "save / naive encode+SET" in text and "server core" in text, text[-2000:]


def test_the_latency_relay_passes_every_byte_both_ways() -> None:
    """``benchmarks.latency``'s relay, with a delay: a large value and a pipeline come back whole."""
    with RedisServer() as server:
        proc, port = start_relay(("127.0.0.1", server.port), 0.0001)
        try:
            client = redis.Redis(port=port)
            value = os.urandom(3 << 20)  # several chunks each way
            assert client.set("big", value) and client.get("big") == value
            pipe = client.pipeline(transaction=False)
            for i in range(500):
                pipe.incr("n")
            assert pipe.execute() == list(range(1, 501))
            client.close()
            with redis.Redis(port=server.port) as direct:
                assert direct.get("n") == b"500"  # it reached the real server
        finally:
            proc.terminate()
            proc.join()


def test_the_latency_tool_reports_a_row_per_path() -> None:
    text = run_module("benchmarks.latency", "--rounds", "1", "--size", "1000", "--delays", "direct,0,0.05")
    rows = [line for line in text.splitlines() if line.startswith(("straight", "relay"))]
    assert [row.split()[0] for row in rows] == ["straight", "relay,", "relay,"], text
    assert "relay, 0.05 ms each way" in text
    for row in rows:
        assert row.count(" x") == 3, row  # save, load and list(10) against raw
