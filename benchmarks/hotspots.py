"""Where a client process spends a save, a load and a list: pyinstrument's call tree.

    python -m benchmarks.hotspots [--url URL] [--ops save,load,list] [--size 10000] [--calls 3000]

Each operation runs ``--calls`` times under pyinstrument (in the ``bench``
extra), after a warm-up, on one thread with a 10-entry history. The tree shows
the time spent waiting for Redis (``recv_into``) next to encoding, decoding, the
script call and our own code. Without ``--url`` a throwaway redis-server is
started. Nothing here asserts a time.
"""
from __future__ import annotations

import argparse
from typing import Any, Callable, Dict, List, Optional

from redis_checkpoint import RedisCheckpointer

from . import target
from .states import conversation


def operations(cp: RedisCheckpointer, state: Any) -> Dict[str, Callable[[], Any]]:
    return {
        "save": lambda: cp.save("t", state),
        "load": lambda: cp.load("t"),
        "list": lambda: cp.list("t", limit=10),
    }


def profile(fn: Callable[[], Any], calls: int) -> str:
    """pyinstrument's text call tree of ``calls`` runs of ``fn``."""
    try:
        from pyinstrument import Profiler
    except ImportError:  # pragma: no cover - the bench extra brings it
        raise SystemExit("pyinstrument is missing: pip install 'redis-checkpoint[bench]'")
    for _ in range(50):
        fn()
    profiler = Profiler(interval=0.0001)
    profiler.start()
    for _ in range(calls):
        fn()
    profiler.stop()
    return str(profiler.output_text(unicode=True, color=False))


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hotspots", description=__doc__.split("\n")[0])
    parser.add_argument("--url")
    parser.add_argument("--ops", default="save,load,list")
    parser.add_argument("--size", type=int, default=10_000, help="state size, bytes of JSON")
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args(argv)
    with target(args.url) as (client, _url, _started):
        cp = RedisCheckpointer(client, key_prefix="hotspots")
        state = conversation(args.size)
        cp.delete_thread("t")
        for _ in range(10):
            cp.save("t", state)
        ops = operations(cp, state)
        for name in args.ops.split(","):
            if name not in ops:
                parser.error(f"--ops: unknown operation {name!r}; choose from {', '.join(ops)}")
            print(f"## {name}, {args.calls} calls, {args.size} B state")
            print(profile(ops[name], args.calls))
        cp.delete_thread("t")


if __name__ == "__main__":
    main()
