"""``python -m redis_checkpoint.demo``: a small end-to-end scenario (``make demo``).

Worker processes advance a few threads step by step with compare-and-set saves,
a "crashed" worker's thread is resumed by another one from its checkpoint, one
thread is rolled back, and the history is printed. With ``--url`` (or
``REDIS_CHECKPOINT_URL``/``REDIS_URL``) it uses that server; otherwise it starts
a throwaway ``redis-server`` when the binary exists, else runs on fakeredis
in-process (threads instead of processes). It says which.
"""
from __future__ import annotations

import argparse
import multiprocessing
import shutil
import threading
from typing import Any, Callable, Dict, List, Optional

from . import ConflictError, RedisCheckpointer
from .connection import url_from_env

THREADS = ["order-1001", "order-1002", "chat:{alice}"]
STEPS = 5


def advance(cp: RedisCheckpointer, thread_id: str, worker: str) -> None:
    """Load the latest state, do one step, save it only if nobody else did meanwhile."""
    while True:
        latest = cp.load(thread_id)
        state: Dict[str, Any] = latest.state if latest else {"steps": [], "done": False}
        if state["done"]:
            return
        state["steps"].append(f"step {len(state['steps']) + 1} by {worker}")
        state["done"] = len(state["steps"]) >= STEPS
        try:
            cp.save(
                thread_id,
                state,
                metadata={"worker": worker, "step": len(state["steps"])},
                expected_id=latest.id if latest else None,
            )
        except ConflictError:
            continue  # another worker advanced the thread: reload and retry
        return


def _worker(make: Callable[[], RedisCheckpointer], name: str) -> None:
    cp = make()
    for _ in range(STEPS):
        for thread_id in THREADS:
            advance(cp, thread_id, name)


def run(make: Callable[[], RedisCheckpointer], use_processes: bool) -> None:
    cp = make()
    for thread_id in THREADS:
        cp.delete_thread(thread_id)
    # a worker saves two steps of the first thread, then "crashes"
    advance(cp, THREADS[0], "worker-0")
    advance(cp, THREADS[0], "worker-0")
    print(f"worker-0 stopped after 2 steps of {THREADS[0]}; the others resume from its checkpoint")
    ctx = multiprocessing.get_context("fork") if use_processes else None
    workers = [
        (ctx.Process if ctx else threading.Thread)(target=_worker, args=(make, f"worker-{n}"))
        for n in (1, 2, 3)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for thread_id in THREADS:
        latest = cp.load(thread_id)
        assert latest is not None
        print(f"\n{thread_id}: {len(latest.state['steps'])} steps, latest {latest.id}")
        for meta in reversed(cp.list(thread_id, limit=10)):
            print(f"  {meta.created_at:%H:%M:%S.%f}  {meta.id}  step {meta.metadata['step']}"
                  f"  by {meta.metadata['worker']}  ({meta.size} bytes)")
    history = cp.list(THREADS[1])
    target = history[-2]  # roll back to step 2: saved as a new checkpoint, history kept
    old = cp.load(THREADS[1], target.id)
    assert old is not None
    new = cp.save(THREADS[1], old.state, metadata={"worker": "operator", "step": 2, "rollback_of": target.id})
    print(f"\nrolled {THREADS[1]} back to {target.id}: new checkpoint {new.id}, "
          f"{len(cp.list(THREADS[1]))} entries in its history")


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=url_from_env())
    args = parser.parse_args(argv)
    server: Any = None
    if args.url:
        url = args.url
        print("using the Redis server given by --url or the environment (key prefix 'demo')")
    elif shutil.which("redis-server"):
        from .testing import RedisServer

        server = RedisServer()
        url = server.url
        print(f"started a throwaway redis-server on 127.0.0.1:{server.port}")
    else:
        url = ""
        print("no redis-server binary found: running on fakeredis, in-process, with threads")
    try:
        if url:
            run(lambda: RedisCheckpointer.from_url(url, key_prefix="demo"), use_processes=True)
        else:
            import fakeredis

            fake = fakeredis.FakeRedis()
            run(lambda: RedisCheckpointer(fake, key_prefix="demo"), use_processes=False)
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
