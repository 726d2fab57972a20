"""``redis-checkpoint`` (also ``python -m redis_checkpoint``): the operators' command line.

Exit codes: 0 success, 1 a thread or checkpoint that is not there, 2 a usage
error, 3 Redis could not be reached or failed. Errors are one line on stderr,
never a traceback, and never contain the URL or its password.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
from typing import Any, Callable, List, NoReturn, Optional, Sequence

from .. import __version__
from ..connection import url_from_env
from ..codec import DEFAULT_MAX_STATE_SIZE
from ..errors import CheckpointError, CheckpointNotFoundError, StateTooLargeError, StorageError
from ..store import RedisCheckpointer
from ..types import UnknownTypeError, load_types
from . import commands, graph

OK, MISSING, USAGE, FAILED = 0, 1, 2, 3


class Parser(argparse.ArgumentParser):
    """argparse, with a guess for a misspelt option: ``--prefx`` (did you mean --prefix?)."""

    known: List[str] = []  # every option of every command
    argv: List[str] = []  # the arguments being parsed

    def error(self, message: str) -> NoReturn:
        for word in Parser.argv:  # an unknown option may be why COMMAND looks wrong too
            name = word.split("=", 1)[0]
            if name.startswith("--") and name not in Parser.known:
                close = difflib.get_close_matches(name, Parser.known, n=1)
                message = f"unknown option {name}" + (f" (did you mean {close[0]}?)" if close else "")
                break
        super().error(message)


def parser() -> argparse.ArgumentParser:
    top = Parser(prog="redis-checkpoint", description="Inspect and manage redis-checkpoint threads.")
    top.add_argument("--version", action="version", version=f"redis-checkpoint {__version__}")
    top.add_argument("--url", default=url_from_env(),
                     help="Redis URL (default: $REDIS_CHECKPOINT_URL, then $REDIS_URL)")
    top.add_argument("--prefix", default=None,
                     help="key prefix (default: checkpoint; for the langgraph commands, langgraph)")
    cluster = top.add_mutually_exclusive_group()
    cluster.add_argument("--cluster", dest="cluster", action="store_const", const=True, default=None,
                         help="the URL names a Redis Cluster node (default: ask the server)")
    cluster.add_argument("--no-cluster", dest="cluster", action="store_const", const=False,
                         help="the URL names a single server (default: ask the server)")
    top.add_argument("--json", action="store_true",
                     help="print JSON instead of tables: every value whole; bytes as {\"base64\": ...}, "
                          "NaN and infinities as {\"float\": \"NaN\"}")
    top.add_argument("--types", action="append", default=[], metavar="MODULE:NAME",
                     help="a class the states hold (the application's types=), so show can decode it; "
                          "repeat for each")
    top.add_argument("--max-state-size", type=int, default=DEFAULT_MAX_STATE_SIZE, metavar="BYTES",
                     help="largest state to read or write, as the application's max_state_size "
                          f"(default: {DEFAULT_MAX_STATE_SIZE})")
    # --json is accepted after the command too (redis-checkpoint show t1 --json)
    common = Parser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)

    def add(name: str, **kw: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kw)

    thread_help = "the thread id"
    p = add("threads", help="threads with their checkpoint count, latest time and size")
    p.add_argument("--match", default="*", help="only thread ids matching this glob (default: all)")
    p.add_argument("--limit", type=int, default=None,
                   help="stop after N threads: the first N that SCAN finds, shown sorted by id")
    p = add("history", help="a thread's checkpoints, newest first")
    p.add_argument("thread", help=thread_help)
    p.add_argument("--limit", type=int, default=None, help="show at most N checkpoints (default: all)")
    p.add_argument("--before", default=None, help="start just before this checkpoint id")
    p = add("show", help="a checkpoint's state (the latest by default)")
    p.add_argument("thread", help=thread_help)
    p.add_argument("id", nargs="?", help="the checkpoint id (default: the latest)")
    p.add_argument("--raw", action="store_true", help="the stored bytes, unchanged, to stdout")
    p = add("rollback", help="make an old checkpoint current again (history is kept)")
    p.add_argument("thread", help=thread_help)
    p.add_argument("id", help="the checkpoint whose state becomes current again, as a new checkpoint")
    p = add("delete", help="delete a thread and all its checkpoints")
    p.add_argument("thread", help=thread_help)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation on a terminal")
    p = add("prune", help="trim histories and delete stale threads")
    p.add_argument("--keep", type=int, default=None, help="keep the newest N checkpoints of each thread")
    p.add_argument("--match", default="*", help="only threads whose id matches this glob (default: all)")
    p.add_argument("--older-than", default=None, help="delete threads whose latest save is older (7d, 12h, 30m)")
    p.add_argument("--dry-run", action="store_true", help="say what would go, and change nothing")
    p = add("export", help="write threads to a CBOR file")
    p.add_argument("file", help="the file to write, or - for standard output")
    p.add_argument("--match", default="*", help="only threads whose id matches this glob (default: all)")
    p.add_argument("--force", action="store_true", help="overwrite the file if it exists")
    p = add("import", help="load a file written by export (idempotent)")
    p.add_argument("file", help="the file to read, or - for standard input")
    p.add_argument("--ttl", default=None,
                   help="the imported threads expire this long after the import (7d, 12h); default: never")
    add("stats", help="threads, checkpoints, bytes, compression, TTL coverage")
    graph.add_commands(sub, add)
    add("demo", help="the end-to-end scenario of make demo")
    if commands.source_checkout() is not None:  # benchmarks/ is not installed with the package
        p = add("bench", help="run the benchmark (python -m benchmarks)")
        p.add_argument("args", nargs=argparse.REMAINDER, help="passed to python -m benchmarks")
    helps = top.format_help() + "".join(p.format_help() for p in sub.choices.values())
    Parser.known = sorted(set(re.findall(r"--[a-z][a-z-]*", helps)))
    return top


def main(argv: Optional[Sequence[str]] = None) -> int:
    Parser.argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(Parser.argv)  # usage errors exit 2 here
    return _guarded(lambda: _dispatch(args))


def run_on(cp: RedisCheckpointer, argv: Sequence[str]) -> int:
    """Run one core command (``history t1 --limit 5``) on ``cp``, as ``main`` would on the
    checkpointer its ``--url`` names; the exit code. ``manage.py checkpoints`` calls it
    with the checkpointer Django's settings configure."""
    Parser.argv = list(argv)
    args = parser().parse_args(Parser.argv)
    if args.command in ("demo", "bench", "langgraph"):
        return _fail(USAGE, f"{args.command} is not available here: run redis-checkpoint {args.command}")
    return _guarded(lambda: _print_result(getattr(commands, "cmd_" + args.command)(cp, args), args))


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in ("demo", "bench"):
        return commands.run_program(args)
    if not args.url:
        return _fail(USAGE, "no Redis URL: pass --url or set REDIS_CHECKPOINT_URL or REDIS_URL")
    if args.command == "langgraph":
        from ..langgraph import RedisSaver  # the langgraph extra: only for these commands

        prefix = graph.DEFAULT_PREFIX if args.prefix is None else args.prefix
        with RedisSaver.from_url(args.url, key_prefix=prefix, cluster=args.cluster, retry_budget=5,
                                 max_state_size=args.max_state_size) as saver:
            return _print_result(graph.run(saver, args), args)
    if args.types and os.getcwd() not in sys.path:  # --types myapp.models:Order, run from the project
        sys.path.insert(0, os.getcwd())
    cp = RedisCheckpointer.from_url(args.url, key_prefix=args.prefix or "checkpoint", cluster=args.cluster,
                                    retry_budget=5, max_state_size=args.max_state_size,
                                    types=load_types(args.types, "--types"))
    with cp:
        return _print_result(getattr(commands, "cmd_" + args.command)(cp, args), args)


def _print_result(result: "Optional[commands.Output]", args: argparse.Namespace) -> int:
    if result is not None:
        _print(result, args.json)
    return OK


def _guarded(run: Callable[[], int]) -> int:
    """``run()``, its errors turned into one line on stderr and the exit code for them."""
    try:
        return run()
    except commands.Usage as exc:
        return _fail(USAGE, str(exc))
    except (commands.Missing, CheckpointNotFoundError) as exc:
        return _fail(MISSING, str(exc))
    except graph.Differences as exc:
        return _fail(FAILED, str(exc))
    except StorageError as exc:
        return _fail(FAILED, f"Redis failed: {exc}")
    except StateTooLargeError as exc:
        return _fail(FAILED, f"{exc} (the application's max_state_size is larger? pass --max-state-size)")
    except UnknownTypeError as exc:
        return _fail(FAILED, f"{exc}; here, name each class with --types package.module:ClassName")
    except CheckpointError as exc:
        return _fail(FAILED, str(exc))
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
    if as_json:  # strict JSON (RFC 8259): jsonable() turned NaN and infinities into objects
        print(json.dumps(result.data, indent=2, ensure_ascii=False, allow_nan=False))
    elif result.text:
        print(result.text)


def _fail(code: int, message: str) -> int:
    print(f"redis-checkpoint: {message}", file=sys.stderr)
    return code


def run(argv: Optional[List[str]] = None) -> None:
    """Console-script entry point."""
    sys.exit(main(argv))
