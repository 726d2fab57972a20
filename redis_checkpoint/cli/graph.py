"""``redis-checkpoint langgraph ...``: the LangGraph saver's threads, with the core
commands' conventions (tables, ``--json``, exit codes), and the import from
langgraph-checkpoint-redis."""
from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from . import render
from .commands import Missing, Output, Usage, confirm

if TYPE_CHECKING:  # the langgraph extra is needed only when these commands run
    from ..langgraph import RedisSaver

DEFAULT_PREFIX = "langgraph"  # RedisSaver.from_url's


def add_commands(sub: Any, add: Any) -> None:
    """``langgraph`` and its subcommands, on the command line's subparsers."""
    graph = add("langgraph", help="the LangGraph saver's threads (key prefix default: langgraph)")
    cmds = graph.add_subparsers(dest="graph_command", required=True, metavar="SUBCOMMAND")

    def sub_add(name: str, **kw: Any) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = cmds.add_parser(name, **kw)
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return p

    p = sub_add("threads", help="LangGraph threads with their checkpoint and namespace counts")
    p.add_argument("--match", default="*", help="only thread ids matching this glob (default: all)")
    p = sub_add("history", help="a thread's checkpoints, newest first, every namespace")
    p.add_argument("thread", help="the thread id")
    p.add_argument("--ns", default=None, help="only this checkpoint namespace ('' for the root graph)")
    p.add_argument("--limit", type=int, default=None, help="show at most N checkpoints (default: all)")
    p = sub_add("show", help="a checkpoint's channel values, metadata and pending writes (the latest by default)")
    p.add_argument("thread", help="the thread id")
    p.add_argument("id", nargs="?", help="the checkpoint id (default: the latest)")
    p.add_argument("--ns", default="", help="the checkpoint namespace (default: '', the root graph)")
    p = sub_add("delete", help="delete a LangGraph thread, every namespace")
    p.add_argument("thread", help="the thread id")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation on a terminal")
    p = sub_add("import-from-langgraph-redis",
                help="copy threads from langgraph-checkpoint-redis (idempotent), through its own API")
    p.add_argument("--source", required=True, help="the Redis URL langgraph-checkpoint-redis uses")
    p.add_argument("--thread", action="append", default=None, metavar="ID",
                   help="only this thread (repeat for more; default: every thread)")
    p.add_argument("--dry-run", action="store_true", help="read and count, write nothing")
    p.add_argument("--verify", action="store_true",
                   help="then compare both sides; exit 3 on any difference")


def run(saver: RedisSaver, args: argparse.Namespace) -> Optional[Output]:
    return {
        "threads": _threads, "history": _history, "show": _show, "delete": _delete,
        "import-from-langgraph-redis": _import,
    }[args.graph_command](saver, args)


def _tuples(saver: RedisSaver, thread: str, ns: Optional[str], limit: Optional[int]) -> List[Any]:
    conf: Dict[str, Any] = {"thread_id": thread}
    if ns is not None:
        conf["checkpoint_ns"] = ns
    return list(saver.list({"configurable": conf}, limit=limit))


def _threads(saver: RedisSaver, args: argparse.Namespace) -> Output:
    rows = []
    for thread in sorted(saver.threads(args.match)):
        found = _tuples(saver, thread, None, None)
        if not found:
            continue
        namespaces = {t.config["configurable"]["checkpoint_ns"] for t in found}
        latest = max(found, key=lambda t: t.checkpoint["ts"])
        rows.append({"thread": thread, "checkpoints": len(found), "namespaces": len(namespaces),
                     "latest": latest.checkpoint["ts"], "latest_id": latest.config["configurable"]["checkpoint_id"]})
    text = render.table(["THREAD", "CHECKPOINTS", "NAMESPACES", "LATEST (UTC)"],
                        [[r["thread"], r["checkpoints"], r["namespaces"], r["latest"][:19].replace("T", " ")]
                         for r in rows])
    return Output(rows, text + f"\n{len(rows)} threads")


def _row(t: Any) -> Dict[str, Any]:
    conf = t.config["configurable"]
    parent = t.parent_config["configurable"].get("checkpoint_id") if t.parent_config else None
    return {"namespace": conf["checkpoint_ns"], "id": conf["checkpoint_id"], "parent_id": parent,
            "created_at": t.checkpoint["ts"], "step": (t.metadata or {}).get("step"),
            "source": (t.metadata or {}).get("source"), "pending_writes": len(t.pending_writes or ())}


def _history(saver: RedisSaver, args: argparse.Namespace) -> Output:
    if args.limit is not None and args.limit < 0:
        raise Usage("--limit must be >= 0")
    found = _tuples(saver, args.thread, args.ns, args.limit) if args.limit != 0 else []
    if not found and args.limit != 0:
        raise Missing(f"LangGraph thread {args.thread!r} has no checkpoints")
    rows = [_row(t) for t in found]
    text = render.table(["NAMESPACE", "ID", "PARENT", "CREATED (UTC)", "STEP", "SOURCE", "WRITES"],
                        [[r["namespace"] or "(root)", r["id"], r["parent_id"] or "-",
                          r["created_at"][:19].replace("T", " "), r["step"], r["source"], r["pending_writes"]]
                         for r in rows])
    return Output(rows, text)


def _value(value: Any) -> Any:
    """A channel value as JSON: LangChain messages (and other pydantic models) as their
    fields, the rest as the core command line shows states."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return {"type": type(value).__name__, **render.jsonable(dump())}
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    found = render.jsonable(value)
    return found if isinstance(found, (str, int, float, bool, dict, list, type(None))) else repr(value)


def _show(saver: RedisSaver, args: argparse.Namespace) -> Output:
    conf: Dict[str, Any] = {"thread_id": args.thread, "checkpoint_ns": args.ns}
    if args.id:
        conf["checkpoint_id"] = args.id
    found = saver.get_tuple({"configurable": conf})
    if found is None:
        what = f"checkpoint {args.id!r}" if args.id else "checkpoints"
        raise Missing(f"LangGraph thread {args.thread!r} (namespace {args.ns!r}) has no {what}")
    data = {**_row(found), "metadata": _value(found.metadata), "channel_values": _value(
        found.checkpoint["channel_values"]), "channel_versions": _value(found.checkpoint["channel_versions"]),
        "pending_writes": [{"task_id": w[0], "channel": w[1], "value": _value(w[2])}
                           for w in found.pending_writes or ()]}
    text = (f"checkpoint {data['id']} of LangGraph thread {args.thread!r}, namespace {args.ns!r}, "
            f"parent {data['parent_id'] or '-'}\n" + json.dumps(
                {k: data[k] for k in ("metadata", "channel_values", "pending_writes")},
                indent=2, ensure_ascii=False))
    return Output(data, text)


def _delete(saver: RedisSaver, args: argparse.Namespace) -> Output:
    found = _tuples(saver, args.thread, None, 1)
    if not found:
        raise Missing(f"no LangGraph thread {args.thread!r}")
    if not args.yes and not confirm(f"delete LangGraph thread {render.cell(args.thread)} and all its checkpoints?"):
        return Output({"deleted": None}, "nothing deleted")
    saver.delete_thread(args.thread)
    return Output({"deleted": args.thread}, f"deleted LangGraph thread {args.thread!r}")


def _import(saver: RedisSaver, args: argparse.Namespace) -> Output:
    from ..langgraph.migrate import import_from_langgraph_redis, verify

    report = import_from_langgraph_redis(args.source, saver, thread_ids=args.thread, dry_run=args.dry_run,
                                         on_thread=render.progress_printer("imported"))
    verb = "would write" if args.dry_run else "wrote"
    text = (f"{report.threads} threads, {report.checkpoints} checkpoints: {verb} {report.written}"
            f"{'' if args.dry_run else f' with {report.writes} pending writes'}, "
            f"{report.already_present} already present")
    data: Dict[str, Any] = {"threads": report.threads, "checkpoints": report.checkpoints,
                            "written": report.written, "already_present": report.already_present,
                            "pending_writes": report.writes, "dry_run": args.dry_run}
    if args.verify:
        checked = verify(args.source, saver, thread_ids=args.thread, on_thread=render.progress_printer("verified"))
        data["differences"] = checked.differences
        if checked.differences:
            for line in checked.differences[:20]:
                print(line, file=sys.stderr)
            raise Differences(f"{len(checked.differences)} differences between the two sides")
        text += f"; verified: {checked.checkpoints} checkpoints the same on both sides"
    return Output(data, text)


class Differences(Exception):
    """``--verify`` found the two sides differ (exit 3)."""
