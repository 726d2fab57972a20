"""The coverage-guided fuzz campaign (atheris), in its short bounded mode."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECONDS = int(os.environ.get("FUZZ_SECONDS", "15"))


def test_decoder_fuzzing_finds_no_crash(tmp_path: Any) -> None:
    pytest.importorskip("atheris", reason="atheris has no wheel for this platform; see fuzz/fuzz_codec.py")
    corpus = tmp_path / "corpus"
    shutil.copytree(os.path.join(ROOT, "fuzz", "corpus"), corpus)
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "fuzz", "fuzz_codec.py"), str(corpus),
         f"-max_total_time={SECONDS}", "-rss_limit_mb=1024", "-malloc_limit_mb=256",
         f"-artifact_prefix={tmp_path}/crash-"],
        capture_output=True, text=True, timeout=SECONDS + 120, cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=ROOT),
    )
    tail = done.stderr[-3000:]
    assert done.returncode == 0, tail
    assert "Done" in tail and not list(tmp_path.glob("crash-*")), tail
