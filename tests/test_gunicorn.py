"""gunicorn --preload -w 4: a checkpointer built before the fork, hit by concurrent clients."""
from __future__ import annotations

import json
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Set

import pytest

from redis_checkpoint import RedisCheckpointer

from .savers import chain_ok

pytestmark = pytest.mark.redis

from examples import launch  # noqa: E402


def call(port: int, method: str, path: str) -> Any:
    body = b"" if method == "POST" else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=body)
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.status == 200
        return json.load(resp)


def test_preloaded_app_in_four_workers(redis_url: str, prefix: str) -> None:
    proc, port = launch.gunicorn(redis_url, prefix, workers=4)
    try:
        with ThreadPoolExecutor(8) as pool:
            posts = list(pool.map(lambda i: call(port, "POST", f"/advance/t{i % 4}"), range(200)))
            whoami = list(pool.map(lambda _i: call(port, "GET", "/whoami"), range(200)))
    finally:
        launch.stop(proc)
    assert len(posts) == 200  # every request succeeded (call asserts 200)
    pids_by_client: Dict[int, Set[int]] = defaultdict(set)
    for reply in whoami:
        pids_by_client[reply["client_id"]].add(reply["pid"])
    assert all(len(pids) == 1 for pids in pids_by_client.values()), "a connection was shared across processes"
    assert len({r["pid"] for r in posts + whoami}) >= 2
    assert proc.pid not in {r["pid"] for r in posts}  # the preloading master served nothing
    with RedisCheckpointer.from_url(redis_url, key_prefix=prefix) as cp:
        for t in range(4):
            ids = chain_ok(cp, f"t{t}")
            assert len(ids) == 50
            assert cp.load(f"t{t}").state == {"count": 50}  # type: ignore[union-attr]
            assert set(ids) == {r["id"] for i, r in enumerate(posts) if i % 4 == t}
