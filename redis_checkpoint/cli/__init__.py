"""``redis-checkpoint`` (also ``python -m redis_checkpoint``): the operators' command line.

Exit codes: 0 success, 1 a thread or checkpoint that is not there, 2 a usage
error, 3 Redis could not be reached or failed. Errors are one line on stderr,
never a traceback, and never contain the URL or its password.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, List, Optional, Sequence

from ..connection import url_from_env
from ..codec import DEFAULT_MAX_STATE_SIZE
from ..errors import CheckpointError, CheckpointNotFoundError, StorageError
from ..store import RedisCheckpointer
from . import commands

OK, MISSING, USAGE, FAILED = 0, 1, 2, 3


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="redis-checkpoint", description="Inspect and manage redis-checkpoint threads."
    )
    top.add_argument("--url", default=url_from_env(),
                     help="Redis URL (default: $REDIS_CHECKPOINT_URL, then $REDIS_URL)")
    top.add_argument("--prefix", default="checkpoint", help="key prefix (default: checkpoint)")
    cluster = top.add_mutually_exclusive_group()
    cluster.add_argument("--cluster", dest="cluster", action="store_const", const=True, default=None)
    cluster.add_argument("--no-cluster", dest="cluster", action="store_const", const=False)
    top.add_argument("--json", action="store_true", help="print JSON instead of tables")
    top.add_argument("--max-state-size", type=int, default=DEFAULT_MAX_STATE_SIZE, metavar="BYTES",
                     help="largest state to read or write, as the application's max_state_size "
                          f"(default: {DEFAULT_MAX_STATE_SIZE})")
    # --json is accepted after the command too (redis-checkpoint show t1 --json)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, **kw: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kw)

    p = add("threads", help="threads with their checkpoint count, latest time and size")
    p.add_argument("--match", default="*", help="glob over thread ids")
    p.add_argument("--limit", type=int, default=None,
                   help="stop after N threads: the first N that SCAN finds, shown sorted by id")
    p = add("history", help="a thread's checkpoints, newest first")
    p.add_argument("thread")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--before", default=None, help="start just before this checkpoint id")
    p = add("show", help="a checkpoint's state (the latest by default)")
    p.add_argument("thread")
    p.add_argument("id", nargs="?")
    p.add_argument("--raw", action="store_true", help="the stored bytes, unchanged, to stdout")
    p = add("rollback", help="make an old checkpoint current again (history is kept)")
    p.add_argument("thread")
    p.add_argument("id")
    p = add("delete", help="delete a thread and all its checkpoints")
    p.add_argument("thread")
    p = add("prune", help="trim histories and delete stale threads")
    p.add_argument("--keep", type=int, default=None, help="keep the newest N checkpoints of each thread")
    p.add_argument("--match", default="*")
    p.add_argument("--older-than", default=None, help="delete threads whose latest save is older (7d, 12h, 30m)")
    p.add_argument("--dry-run", action="store_true")
    p = add("export", help="write threads to a CBOR file")
    p.add_argument("file")
    p.add_argument("--match", default="*")
    p = add("import", help="load a file written by export (idempotent)")
    p.add_argument("file")
    p.add_argument("--ttl", default=None,
                   help="the imported threads expire this long after the import (7d, 12h); default: never")
    add("stats", help="threads, checkpoints, bytes, compression, TTL coverage")
    add("demo", help="the end-to-end scenario of make demo")
    p = add("bench", help="run the benchmark (from a source checkout)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="passed to python -m benchmarks")
    return top


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)  # usage errors exit 2 here
    try:
        if args.command in ("demo", "bench"):
            return commands.run_program(args)
        if not args.url:
            return _fail(USAGE, "no Redis URL: pass --url or set REDIS_CHECKPOINT_URL or REDIS_URL")
        cp = RedisCheckpointer.from_url(args.url, key_prefix=args.prefix, cluster=args.cluster, retry_budget=5,
                                        max_state_size=args.max_state_size)
        with cp:
            result = getattr(commands, "cmd_" + args.command)(cp, args)
        if result is not None:
            _print(result, args.json)
        return OK
    except commands.Usage as exc:
        return _fail(USAGE, str(exc))
    except (commands.Missing, CheckpointNotFoundError) as exc:
        return _fail(MISSING, str(exc))
    except StorageError as exc:
        return _fail(FAILED, f"Redis failed: {exc}")
    except CheckpointError as exc:
        too_big = "max_state_size" in str(exc)
        hint = " (the application's max_state_size is larger? pass --max-state-size)" if too_big else ""
        return _fail(FAILED, str(exc) + hint)
    except (ValueError, TypeError) as exc:
        return _fail(USAGE, str(exc))
    except BrokenPipeError:  # the reader went away (| head): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    except OSError as exc:  # after BrokenPipeError, which is one
        return _fail(FAILED, f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
    except KeyboardInterrupt:
        return _fail(FAILED, "interrupted")


def _print(result: "commands.Output", as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.data, indent=2, ensure_ascii=False))
    elif result.text:
        print(result.text)


def _fail(code: int, message: str) -> int:
    print(f"redis-checkpoint: {message}", file=sys.stderr)
    return code


def run(argv: Optional[List[str]] = None) -> None:
    """Console-script entry point."""
    sys.exit(main(argv))
