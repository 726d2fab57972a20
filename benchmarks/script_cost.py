"""Where the save script spends its time on the server.

    python -m benchmarks.script_cost [--url URL] [--size 10000] [--calls 3000] [--repeats 3]

Runs an empty script with no arguments (the fixed cost of any ``EVALSHA``),
then ``save.lua`` cut short after each step (the cut returns at once) on a
thread that already has checkpoints, the state passed as an argument (as for
states up to ``core.INLINE_MAX`` bytes). The time per call is the server's own,
from ``INFO commandstats``, so the network does not enter it. Each step costs
the difference from the cut before it. Without ``--url`` a throwaway
redis-server is started. Nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import statistics
from typing import Any, Callable, Dict, List, Optional, Tuple

from redis_checkpoint import RedisCheckpointer
from redis_checkpoint.codec import Codec
from redis_checkpoint.ids import new_id
from redis_checkpoint.scripts import text

from . import target
from .states import conversation

#: (step, first line of save.lua *after* it): the script is cut just before that line.
CUTS: Tuple[Tuple[str, Optional[str]], ...] = (
    ("start with the arguments", "local h = redis.call('HMGET'"),
    ("the head's HMGET", "local ttl, keep, window"),
    ("options and TIME", "local stored"),
    ("replay and compare-and-set checks", "if h[4] then"),
    ("the previous state's home", "local at = sn"),
    ("the record", "if inline then"),
    ("the head's HSET and the state's", "redis.call('ZADD', history"),
    ("the history's ZADD", "if ttl > 0 then"),
    ("TTL, retention check and reply", None),
)


BARE = "any EVALSHA, no arguments"


def cut_scripts() -> List[Tuple[str, str]]:
    """``(step, script text ending after that step)``: an empty script, then save.lua step by step.
    A cut returns a record-like string, as a save returns its record."""
    lines = text("save").decode().split("\n")
    out = [(BARE, "#!lua\nreturn 'cut'\n")]
    for step, marker in CUTS:
        if marker is None:
            out.append((step, "\n".join(lines)))
            continue
        at = [n for n, line in enumerate(lines) if line.startswith(marker)]
        if not at:
            raise SystemExit(f"save.lua has no line starting {marker!r}: update CUTS in {__name__}")
        out.append((step, "\n".join(lines[: at[0]]) + "\nreturn 'cut'\n"))
    return out


def server_us_per_call(client: Any, script: Any, keys: Any, args: Callable[[], Tuple[Any, ...]],
                       calls: int) -> float:
    script(keys=keys, args=args())  # loads it
    client.config_resetstat()
    for _ in range(calls):
        script(keys=keys, args=args())
    stats = client.info("commandstats")["cmdstat_evalsha"]
    return float(stats["usec"]) / float(stats["calls"])


def measure(client: Any, size: int, calls: int, repeats: int) -> Dict[str, float]:
    """Median server µs per call of each cut, over ``repeats`` rounds."""
    cp = RedisCheckpointer(client, key_prefix="scriptcost")
    state = conversation(size)
    blob = Codec().encode(state)
    keys = list(cp.keys("t"))
    options = cp.engine.save_options
    scripts = [(step, client.register_script(body)) for step, body in cut_scripts()]
    runs: Dict[str, List[float]] = {step: [] for step, _ in scripts}

    def save_args() -> Tuple[Any, ...]:
        cid = new_id()
        return (cid, cid, len(blob), "", b"", options, blob)

    for _ in range(repeats):
        for step, script in scripts:
            cp.delete_thread("t")
            cp.save("t", state)  # a thread that already has a checkpoint
            args: Callable[[], Tuple[Any, ...]] = tuple if step == BARE else save_args
            runs[step].append(server_us_per_call(client, script, keys, args, calls))
    cp.delete_thread("t")
    return {step: statistics.median(values) for step, values in runs.items()}


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.script_cost", description=__doc__.split("\n")[1])
    parser.add_argument("--url")
    parser.add_argument("--size", type=int, default=10_000, help="state size, bytes of JSON")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with target(args.url) as (client, _url, _started):
        totals = measure(client, args.size, args.calls, args.repeats)
    print(f"save.lua on the server, {args.size} B state (µs per call, median of {args.repeats}):")
    before = 0.0
    for step, total in totals.items():
        print(f"  {step:26s} +{total - before:5.1f}   (total {total:5.1f})")
        before = total


if __name__ == "__main__":
    main()
