"""The commands. Each returns an :class:`Output` (JSON data and its table) or ``None``."""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from .. import admin
from ..store import RedisCheckpointer
from ..transfer import ImportFormatError
from . import render


class Usage(Exception):
    """A bad argument (exit 2)."""


class Missing(Exception):
    """A thread or checkpoint that is not there (exit 1)."""


@dataclass
class Output:
    data: Any
    text: str


def _when(value: Optional[datetime.datetime]) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _meta_row(meta: Any) -> Dict[str, Any]:
    return {
        "id": meta.id, "parent_id": meta.parent_id, "created_at": meta.created_at.isoformat(),
        "size": meta.size, "version": meta.version, "metadata": render.jsonable(meta.metadata),
    }


def cmd_threads(cp: RedisCheckpointer, args: argparse.Namespace) -> Output:
    if args.limit is not None and args.limit < 0:
        raise Usage("--limit must be >= 0")
    rows: List[Dict[str, Any]] = []
    for thread_id in cp.threads(args.match):
        if args.limit is not None and len(rows) >= args.limit:
            break
        info = admin.thread_info(cp, thread_id)
        if info is None:
            continue
        rows.append({
            "thread": thread_id, "checkpoints": info.checkpoints,
            "latest": info.latest.created_at.isoformat() if info.latest else None,
            "latest_id": info.latest.id if info.latest else None,
            "state_bytes": info.latest.size if info.latest else 0, "memory_bytes": info.memory_bytes,
            "ttl_seconds": info.ttl_seconds,
        })
    rows.sort(key=lambda r: r["thread"])
    if not rows:
        return Output(rows, "0 threads" + _langgraph_hint(cp))
    text = render.table(
        ["THREAD", "CHECKPOINTS", "LATEST (UTC)", "STATE", "IN REDIS", "TTL"],
        [[r["thread"], r["checkpoints"], (r["latest"] or "")[:19].replace("T", " "),
          render.size(r["state_bytes"]), render.size(r["memory_bytes"]),
          "" if r["ttl_seconds"] is None else f"{r['ttl_seconds']:.0f}s"] for r in rows],
    )
    return Output(rows, text + f"\n{len(rows)} threads")


def _langgraph_hint(cp: RedisCheckpointer) -> str:
    """Where LangGraph threads are, when there are some: the saver keeps them under
    other keys (and by default another prefix), which the core commands do not list."""
    try:
        from ..langgraph import RedisSaver
    except ImportError:  # without the langgraph extra there are no such threads to point at
        return ""
    for prefix in dict.fromkeys((cp.key_prefix, "langgraph")):
        if next(iter(RedisSaver(cp.client, key_prefix=prefix).threads()), None) is not None:
            return (f" (LangGraph threads are under prefix {prefix!r}: "
                    f"redis-checkpoint --prefix {prefix} langgraph threads)")
    return ""


def cmd_history(cp: RedisCheckpointer, args: argparse.Namespace) -> Output:
    metas = cp.list(args.thread, limit=args.limit, before=args.before)
    if not metas and args.before is None and args.limit != 0:
        raise Missing(f"thread {args.thread!r} has no checkpoints")
    rows = [_meta_row(m) for m in metas]
    text = render.table(
        ["ID", "PARENT", "CREATED (UTC)", "SIZE", "VERSION", "METADATA"],
        [[m.id, m.parent_id or "-", _when(m.created_at), render.size(m.size), m.version,
          json.dumps(render.jsonable(m.metadata), ensure_ascii=False)] for m in metas],
    )
    return Output(rows, text)


def cmd_show(cp: RedisCheckpointer, args: argparse.Namespace) -> Optional[Output]:
    if args.raw:
        blob = admin.frame(cp, args.thread, args.id)
        if blob is None:
            raise Missing(_missing(args.thread, args.id))
        sys.stdout.buffer.write(blob)
        sys.stdout.flush()
        return None
    found = cp.load(args.thread, args.id)
    if found is None:
        raise Missing(_missing(args.thread, args.id))
    data = {
        "id": found.id, "thread": found.thread_id, "parent_id": found.parent_id,
        "created_at": found.created_at.isoformat(), "version": found.version,
        "metadata": render.jsonable(found.metadata), "state": render.jsonable(found.state),
    }
    text = (f"checkpoint {found.id} of thread {found.thread_id!r}, parent {found.parent_id or '-'}, "
            f"created {_when(found.created_at)} UTC, state version {found.version}\n"
            f"metadata: {json.dumps(data['metadata'], ensure_ascii=False)}\n"
            + json.dumps(data["state"], indent=2, ensure_ascii=False))
    return Output(data, text)


def _missing(thread: str, cid: Optional[str]) -> str:
    return f"thread {thread!r} has no checkpoint {cid!r}" if cid else f"thread {thread!r} has no checkpoints"


def cmd_rollback(cp: RedisCheckpointer, args: argparse.Namespace) -> Output:
    # A save sets the whole thread's expiry (see docs/design.md): this one keeps the
    # time the thread has left, so rolling back never makes an expiring thread permanent.
    left = admin.ttl_left(cp, args.thread)
    old = cp.load(args.thread, args.id)
    if old is None:
        raise Missing(_missing(args.thread, args.id))
    saver = cp if left is None else cp.with_ttl(left)
    meta = saver.save(args.thread, old.state, metadata={**old.metadata, "rollback_of": old.id})
    return Output(_meta_row(meta), f"thread {args.thread!r}: checkpoint {meta.id} now holds the state of {old.id}")


def confirm(question: str) -> bool:
    """Ask on a terminal; anywhere else (a script, a pipe) the answer is yes."""
    if not sys.stdin.isatty():
        return True
    return input(question + " [y/N] ").strip().lower() in ("y", "yes")


def cmd_delete(cp: RedisCheckpointer, args: argparse.Namespace) -> Output:
    if not args.yes and sys.stdin.isatty():
        count, _latest = admin.count_and_latest(cp, args.thread)
        if count == 0:
            raise Missing(f"no thread {args.thread!r}")
        if not confirm(f"delete thread {render.cell(args.thread)} and its {count} checkpoints?"):
            return Output({"deleted": None}, "nothing deleted")
    if not cp.delete_thread(args.thread):
        raise Missing(f"no thread {args.thread!r}")
    return Output({"deleted": args.thread}, f"deleted thread {args.thread!r}")


def cmd_prune(cp: RedisCheckpointer, args: argparse.Namespace) -> Output:
    if args.keep is None and args.older_than is None:
        raise Usage("prune needs --keep N, --older-than DURATION, or both")
    if args.keep is not None and args.keep < 1:
        raise Usage("--keep must be at least 1")
    try:
        cutoff = None if args.older_than is None else render.duration(args.older_than)
    except ValueError as exc:
        raise Usage(f"--older-than: {exc}") from None
    report = admin.prune(cp, keep=args.keep, match=args.match, older_than=cutoff, dry_run=args.dry_run)
    assert isinstance(report, admin.PruneReport)
    deleted, trimmed = report.deleted_threads, report.removed_checkpoints
    verb = "would " if args.dry_run else ""
    text = (f"{verb}delete {len(deleted)} threads, {verb}remove {sum(trimmed.values())} checkpoints "
            f"from {len(trimmed)} threads")
    return Output({"dry_run": args.dry_run, "deleted_threads": sorted(deleted), "removed_checkpoints": trimmed}, text)


def cmd_export(cp: RedisCheckpointer, args: argparse.Namespace) -> Optional[Output]:
    progress = render.progress_printer("exported")
    if args.file == "-":  # to standard output: the summary goes to stderr, not into the file
        threads, checkpoints = admin.export(cp, sys.stdout.buffer, args.match, progress)
        sys.stdout.buffer.flush()
        print(f"exported {threads} threads, {checkpoints} checkpoints", file=sys.stderr)
        return None
    if os.path.exists(args.file) and not args.force:
        raise Usage(f"{args.file} exists; pass --force to overwrite it")
    tmp = args.file + ".partial"
    try:
        try:
            out = open(tmp, "wb")
        except OSError as exc:  # named by the path the user gave, not ours
            raise Usage(f"{args.file}: {exc.strerror}") from None
        with out:
            threads, checkpoints = admin.export(cp, out, args.match, progress)
        os.replace(tmp, args.file)  # a failed export never leaves a file that looks complete
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)  # nor one that is cut short
        raise
    return Output({"threads": threads, "checkpoints": checkpoints, "file": args.file},
                  f"exported {threads} threads, {checkpoints} checkpoints to {args.file}")


def cmd_import(cp: RedisCheckpointer, args: argparse.Namespace) -> Output:
    ttl = None
    if args.ttl is not None:
        try:
            ttl = render.duration(args.ttl)
            cp.with_ttl(ttl)  # checked here, so a bad value is a usage error
        except ValueError as exc:
            raise Usage(f"--ttl: {exc}") from None
    try:
        source = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
    except OSError as exc:
        raise Usage(f"{args.file}: {exc.strerror}") from None
    with source:
        try:
            threads, checkpoints, written = admin.import_(cp, source, ttl, render.progress_printer("imported"))
        except ImportFormatError as exc:
            raise Usage(f"{args.file}: {exc}") from None
    return Output({"threads": threads, "checkpoints": checkpoints, "written": written},
                  f"imported {threads} threads, {checkpoints} checkpoints: {written} written, "
                  f"{checkpoints - written} already present (kept as they were)")


def cmd_stats(cp: RedisCheckpointer, args: argparse.Namespace) -> Output:
    found = admin.stats(cp)
    threads, checkpoints, memory = found.threads, found.checkpoints, found.memory_bytes
    data = {
        "threads": threads, "checkpoints": checkpoints, "memory_bytes": memory,
        "compression_ratio": found.compression_ratio,
        "ttl_coverage": found.ttl_coverage,
    }
    text = render.table(["THREADS", "CHECKPOINTS", "IN REDIS", "COMPRESSION", "WITH TTL"], [[
        threads, checkpoints, render.size(memory),
        "-" if data["compression_ratio"] is None else f"x{data['compression_ratio']:.2f}",
        "-" if data["ttl_coverage"] is None else f"{100 * data['ttl_coverage']:.0f}%",
    ]])
    return Output(data, text)


def source_checkout() -> Optional[str]:
    """The source checkout this package runs from, if it is one (``bench`` needs its
    ``benchmarks/``, which is not installed with the package); else ``None``."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return root if os.path.isfile(os.path.join(root, "benchmarks", "__main__.py")) else None


def run_program(args: argparse.Namespace) -> int:
    """``demo`` and ``bench``: run the module in this interpreter, passing the URL on."""
    url = args.url  # --url, else the environment's (see parser)
    if args.command == "demo":
        argv = [sys.executable, "-m", "redis_checkpoint.demo"] + (["--url", url] if url else [])
        return subprocess.call(argv)
    root = source_checkout()
    if root is None:
        raise Usage("bench runs from a source checkout: the benchmarks/ directory is not installed")
    argv = [sys.executable, "-m", "benchmarks", *[a for a in args.args if a != "--"]]
    if url and "--url" not in argv:
        argv += ["--url", url]
    return subprocess.call(argv, cwd=root)
