"""The admin API (``redis_checkpoint.admin``), which the command line is built on."""
from __future__ import annotations

import datetime
import io
import time
from typing import Any, List

import fakeredis
import pytest

from redis_checkpoint import RedisCheckpointer, admin
from redis_checkpoint.transfer import ImportFormatError


@pytest.fixture
def cp() -> Any:
    return RedisCheckpointer(fakeredis.FakeRedis(server=fakeredis.FakeServer()), key_prefix="adm")


@pytest.mark.redis
def test_stats_with_progress(redis_url: str, prefix: str) -> None:  # MEMORY USAGE: a real server
    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix)
    for t in ("a", "b", "c"):
        for i in range(3):
            cp.save(t, {"pad": "x" * 3000, "i": i})
    cp.with_ttl(60).save("c", {"i": 9})
    seen: List[int] = []
    found = admin.stats(cp, progress=seen.append)
    assert (found.threads, found.checkpoints) == (3, 10) and found.memory_bytes > 0
    assert found.compression_ratio is not None and found.compression_ratio > 1
    assert found.ttl_coverage == pytest.approx(1 / 3) and seen == [1, 2, 3]
    assert admin.stats(cp, match="nothing*") == admin.Stats(0, 0, 0, None, None)


def test_prune_one_thread_or_many_with_dry_run(cp: Any) -> None:
    for i in range(5):
        cp.save("old", i)
        cp.save("busy", i)
    assert admin.prune(cp, "busy", keep=3) == 2
    time.sleep(0.05)
    cp.save("busy", 99)
    dry = admin.prune(cp, keep=2, older_than=datetime.timedelta(seconds=0.03), dry_run=True)
    assert isinstance(dry, admin.PruneReport) and dry.deleted_threads == ["old"]
    assert dry.removed_checkpoints == {"busy": 2} and len(cp.list("old")) == 5  # nothing changed
    done: List[int] = []
    report = admin.prune(cp, keep=2, older_than=0.03, progress=done.append)
    assert report.deleted_threads == ["old"] and report.removed_checkpoints == {"busy": 2}
    assert cp.load("old") is None and len(cp.list("busy")) == 2 and done == [1, 2]
    with pytest.raises(ValueError, match="keep, older_than"):
        admin.prune(cp)
    with pytest.raises(ValueError, match="older_than"):
        admin.prune(cp, older_than=-1)
    with pytest.raises(ValueError, match="older_than"):  # it would match nothing, silently
        admin.prune(cp, older_than=float("nan"))
    with pytest.raises(TypeError, match="older_than .*timedelta.* must be a number, not str"):
        admin.prune(cp, older_than="7d")
    assert len(cp.list("busy")) == 2  # nothing was pruned by the refused calls


def test_export_and_import_with_progress_check_the_whole_file_first(cp: Any) -> None:
    for t in ("a", "b"):
        cp.save(t, {"t": t}, metadata={"by": "test"})
    out = io.BytesIO()
    seen: List[int] = []
    assert admin.export(cp, out, progress=seen.append) == (2, 2) and seen == [1, 2]
    target = RedisCheckpointer(fakeredis.FakeRedis(server=fakeredis.FakeServer()), key_prefix="adm")
    assert admin.import_(target, io.BytesIO(out.getvalue()), ttl_seconds=60) == (2, 2, 2)
    assert target.load("a").state == {"t": "a"} and target.client.pttl(target.keys("a").head) > 0
    with pytest.raises(ImportFormatError):
        admin.import_(target, io.BytesIO(out.getvalue()[:-5]))  # cut short: nothing written
    assert admin.import_(target, io.BytesIO(out.getvalue())) == (2, 2, 0)  # again: nothing new
