"""Benchmarks for redis-checkpoint: ``python -m benchmarks`` (``make bench``)."""
from __future__ import annotations

import argparse
import contextlib
from typing import Any, Callable, Iterator, List, Optional, Tuple


@contextlib.contextmanager
def target(url: Optional[str]) -> Iterator[Tuple[Any, str, bool]]:
    """``(client, url, started)`` for ``url``, or for a throwaway redis-server when it is empty.

    The client is closed, and a server started here is stopped, on the way out.
    """
    import redis

    with contextlib.ExitStack() as stack:
        started = not url
        if not url:
            from redis_checkpoint.testing import RedisServer

            server = RedisServer()
            stack.callback(server.close)
            url = server.url
        client = redis.Redis.from_url(url)
        stack.callback(client.close)
        yield client, url, started


def run_alone(module: str, doc: str, run: Callable[[str, int], Any], report: Callable[[Any], List[str]],
              argv: Optional[List[str]]) -> None:
    """``python -m benchmarks.<module> [--url URL] [--rounds N]``: ``run(url, rounds)`` on ``URL``, or
    on a throwaway redis-server, and print ``report`` of it."""
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{module}", description=doc.split("\n")[0])
    parser.add_argument("--url")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    with target(args.url) as (_client, url, _local):
        print("\n".join(report(run(url, args.rounds))))
