"""``python -m redis_checkpoint.demo``: what the checkpointer is for, in one minute (``make demo``).

Workers advance order threads step by step. Two of them race on one step: the
compare-and-set save refuses the second, and ``advance`` resolves it by loading
the new state and computing again. A worker "crashes" and another resumes its
thread from the checkpoint; an operator rolls a thread back. With ``--url`` (or
``REDIS_CHECKPOINT_URL``/``REDIS_URL``) it uses that server; otherwise it starts
a throwaway ``redis-server``, which ``--keep`` leaves running for the command line.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import threading
from typing import Any, Callable, Dict, List, Optional

from . import ConflictError, RedisCheckpointer
from .connection import url_from_env

PREFIX = "demo"
THREADS = ["order-1001", "order-1002", "chat:{alice}"]
STEPS = 5


class Done(Exception):
    """The thread has all its steps: nothing to save."""


def step_of(worker: str) -> Callable[[Any], Dict[str, Any]]:
    """One step of work on a thread's state: what ``advance`` runs, and runs again on a conflict."""
    def step(state: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        steps = list(state["steps"]) if state else []
        if len(steps) >= STEPS:
            raise Done
        return {"steps": steps + [f"step {len(steps) + 1} by {worker}"]}
    return step


def race(cp: RedisCheckpointer, thread_id: str) -> None:
    """Two workers load the same checkpoint and both try to save the next step."""
    seen = cp.load(thread_id)
    assert seen is not None
    print(f"\n1. a race: worker-a and worker-b both load {thread_id} at step {len(seen.state['steps'])}")
    cp.save(thread_id, step_of("worker-a")(seen.state), metadata={"worker": "worker-a"}, expected_id=seen.id)
    print("   worker-a saves step 3 with expected_id=<what it loaded>: accepted")
    try:
        cp.save(thread_id, step_of("worker-b")(seen.state), metadata={"worker": "worker-b"}, expected_id=seen.id)
    except ConflictError as exc:
        print(f"   worker-b does the same: ConflictError, the thread moved on to {exc.current_id}")
    meta = cp.advance(thread_id, step_of("worker-b"), metadata={"worker": "worker-b"})
    latest = cp.load(thread_id)
    assert latest is not None
    print(f"   worker-b calls advance() instead: it reloads, computes again and saves {meta.id}:")
    print(f"   {latest.state['steps'][-2:]}; no step lost, none done twice")


def _worker(make: Callable[[], RedisCheckpointer], name: str) -> None:
    cp = make()
    for _ in range(STEPS):
        for thread_id in THREADS:
            try:
                cp.advance(thread_id, step_of(name), metadata={"worker": name})
            except Done:
                pass


def run(make: Callable[[], RedisCheckpointer], use_processes: bool) -> None:
    cp = make()
    for thread_id in THREADS:
        cp.delete_thread(thread_id)
    for _ in range(2):
        cp.advance(THREADS[0], step_of("worker-0"), metadata={"worker": "worker-0"})
    race(cp, THREADS[0])
    print(f"\n2. worker-0 crashes; workers 1 to 3 resume every thread from its latest checkpoint, "
          f"in {'processes' if use_processes else 'threads'}")
    ctx = multiprocessing.get_context("fork") if use_processes else None
    workers = [(ctx.Process if ctx else threading.Thread)(target=_worker, args=(make, f"worker-{n}"))
               for n in (1, 2, 3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for thread_id in THREADS:
        history = cp.list(thread_id)
        latest = cp.load(thread_id)
        assert latest is not None
        print(f"   {thread_id}: {len(history)} checkpoints; " + ", ".join(latest.state["steps"]))
    history = cp.list(THREADS[1])
    target = history[-2]
    old = cp.load(THREADS[1], target.id)
    assert old is not None
    new = cp.save(THREADS[1], old.state, metadata={"worker": "operator", "rollback_of": target.id})
    print(f"\n3. an operator rolls {THREADS[1]} back to its step 2 ({target.id}): a new checkpoint,\n"
          f"   {new.id}, holds that state, and the history keeps all {len(cp.list(THREADS[1]))} entries")


def command_line() -> str:
    """How to run this interpreter's ``redis-checkpoint``: by name when it is on PATH."""
    script = os.path.join(os.path.dirname(sys.executable), "redis-checkpoint")
    if shutil.which("redis-checkpoint") == script or not os.path.exists(script):
        return "redis-checkpoint"
    return os.path.relpath(script)


def next_steps(url: str, kept: bool) -> None:
    shown = url if kept else "URL"
    cli = f"{command_line()} --url {shown} --prefix {PREFIX}"
    print("\nNext:")
    if kept:
        print(f"  the demo's server is still running at {url}: try the command line on its data")
    else:
        print("  --keep (make demo KEEP=1) leaves the server running, to try the command line on its data:")
    print(f"  {cli} threads")
    print(f"  {cli} history order-1001")
    print(f"  {cli} show order-1002")
    print("  the README's 30 seconds, and docs/ for Django, Celery, LangGraph and operations")
    if kept:
        print(f"  stop the server with: redis-cli -u {url} shutdown nosave")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=url_from_env(), help="a Redis to use (default: start a throwaway one)")
    parser.add_argument("--keep", action="store_true", help="leave the throwaway redis-server running")
    args = parser.parse_args(argv)
    server: Any = None
    if args.url:
        url = args.url
        print(f"using the Redis server given by --url or the environment (key prefix {PREFIX!r})")
    elif shutil.which("redis-server"):
        from .testing import RedisServer

        server = RedisServer()
        url = server.url
        print(f"started a throwaway redis-server at {url}")
    else:
        print("no redis-server on PATH: install it (apt-get install redis-server, brew install redis) "
              "or pass --url redis://...", file=sys.stderr)
        return 2
    try:
        run(lambda: RedisCheckpointer.from_url(url, key_prefix=PREFIX), use_processes=True)
        next_steps(url, kept=server is not None and args.keep)
    finally:
        if server is not None and not args.keep:
            server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
