"""The benchmark tools run and say what they measured (they assert no time)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from benchmarks.script_cost import BARE, CUTS

pytestmark = pytest.mark.redis
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_script_cost_times_every_step_of_the_save_script() -> None:
    # Its own throwaway server: the tool resets INFO commandstats, which other tests read.
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.script_cost", "--calls", "30", "--repeats", "1", "--size", "2000"],
        capture_output=True, timeout=120, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = done.stdout.decode()
    for step in [BARE] + [name for name, _ in CUTS]:
        assert f"  {step} " in text, (step, text)


def test_hotspots_prints_a_call_tree_per_operation() -> None:
    pytest.importorskip("pyinstrument")  # the bench extra, which make test installs
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.hotspots", "--calls", "30", "--size", "2000"],
        capture_output=True, timeout=120, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = done.stdout.decode()
    for op, ours in (("save", "RedisCheckpointer.save"), ("load", "RedisCheckpointer.load"),
                     ("list", "RedisCheckpointer.list")):
        assert f"## {op}, 30 calls" in text and ours in text, (op, text)


def test_chart_redraws_the_kept_report(tmp_path: "os.PathLike[str]") -> None:
    """The README's chart can be redrawn from the report kept beside it; no arguments is an error."""
    pytest.importorskip("matplotlib")
    out = os.path.join(str(tmp_path), "chart.png")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.chart", os.path.join("docs", "benchmark", "latest.json"), out],
        capture_output=True, timeout=120, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert subprocess.run([sys.executable, "-m", "benchmarks.chart"], capture_output=True, cwd=ROOT).returncode != 0
