"""``python -m examples {django,celery,gunicorn,asgi}``: run one example end to end.

Uses ``REDIS_URL`` when set, else a throwaway redis-server on a free port.
"""
import argparse
import json
import os
import sys
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import launch


def post(port: int, path: str) -> Any:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def get(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as resp:
        return json.load(resp)


def run_http(kind: str, url: str, prefix: str) -> None:
    starts = {"gunicorn": launch.gunicorn, "django": launch.django, "asgi": launch.uvicorn}
    proc, port = starts[kind](url, prefix)
    try:
        route = "/advance/{}" if kind == "gunicorn" else "/threads/{}/advance"
        clients = 32 if kind == "asgi" else 8  # concurrent requests in flight
        with ThreadPoolExecutor(clients) as pool:
            served = list(pool.map(lambda i: post(port, route.format(f"thread-{i % 3}")), range(clients * 4)))
        for t in range(3):
            path = f"/state/thread-{t}" if kind == "gunicorn" else f"/threads/thread-{t}"
            print(f"thread-{t}:", get(port, path)["state"])
        print(f"{len(served)} requests, {clients} at a time, served by {len({s.get('pid') for s in served})} processes")
    finally:
        launch.stop(proc)


def run_celery(url: str, prefix: str) -> None:
    queue = f"q-{prefix}"
    worker = launch.celery_worker(url, prefix, queue)
    os.environ.update(launch.env_for(url, prefix, CHECKPOINT_QUEUE=queue))
    from .celery_app import add, app

    try:
        results = [add.delay(f"thread-{i % 3}", 1, fail_after_save=(i % 5 == 0)) for i in range(30)]
        pids = {r.get(timeout=120)["pid"] for r in results}
        cp = app.tasks[add.name].checkpointer
        for t in range(3):
            print(f"thread-{t}:", cp.load(f"thread-{t}").state, f"({len(cp.list(f'thread-{t}'))} checkpoints)")
        print(f"worker processes used: {len(pids)}")
    finally:
        launch.stop(worker)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m examples")
    parser.add_argument("example", choices=["django", "celery", "gunicorn", "asgi"])
    args = parser.parse_args()
    server = None
    url = os.environ.get("REDIS_URL")
    if not url:
        from redis_checkpoint.testing import RedisServer

        server = RedisServer()
        url = server.url
        print(f"throwaway redis-server on {url}")
    prefix = f"example-{uuid.uuid4().hex[:8]}"
    try:
        if args.example == "celery":
            run_celery(url, prefix)
        else:
            run_http(args.example, url, prefix)
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    sys.exit(main())
