"""The command line, run as a subprocess against real servers (and the cluster)."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any, Dict, List

import pytest

from redis_checkpoint import RedisCheckpointer, admin
from redis_checkpoint.cli import commands
from redis_checkpoint.codec import Codec
from redis_checkpoint.testing import RedisClusterServers, RedisServer

from .clients import command_calls

pytestmark = pytest.mark.redis


def cli(*args: str, url: str = "", env: Dict[str, str] | None = None,
        check: int | None = 0) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    full_env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_CHECKPOINT_URL")}
    full_env.update(env or {})
    argv = [sys.executable, "-m", "redis_checkpoint", *(["--url", url] if url else []), *args]
    done = subprocess.run(argv, capture_output=True, timeout=120, env=full_env)
    if check is not None:
        assert done.returncode == check, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    return done


def as_json(done: subprocess.CompletedProcess) -> Any:  # type: ignore[type-arg]
    return json.loads(done.stdout)


@pytest.fixture
def filled(redis_url: str, prefix: str) -> RedisCheckpointer:
    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix)
    for i in range(5):
        cp.save("order-1", {"step": i, "raw": b"\x00\xff"}, metadata={"step": i})
    cp.save("order-2", {"x": 1})
    cp.with_ttl(3600).save("tmp:1", 1)
    return cp


def test_threads_history_show(filled: RedisCheckpointer, redis_url: str, prefix: str) -> None:
    base = ("--prefix", prefix)
    rows = as_json(cli(*base, "--json", "threads", url=redis_url))
    assert [r["thread"] for r in rows] == ["order-1", "order-2", "tmp:1"]
    assert rows[0]["checkpoints"] == 5 and rows[2]["ttl_seconds"] > 3000
    text = cli(*base, "threads", "--match", "order-*", url=redis_url).stdout.decode()
    assert "order-1" in text and "tmp:1" not in text and "2 threads" in text
    # the URL may also come from the environment
    hist = as_json(cli(*base, "history", "order-1", "--limit", "2", "--json", env={"REDIS_CHECKPOINT_URL": redis_url}))
    ids = [m.id for m in filled.list("order-1")]
    assert [h["id"] for h in hist] == ids[:2] and hist[0]["metadata"] == {"step": 4}
    older = as_json(cli(*base, "--json", "history", "order-1", "--before", ids[1], env={"REDIS_URL": redis_url}))
    assert [h["id"] for h in older] == ids[2:]
    assert as_json(cli(*base, "--json", "history", "order-1", "--limit", "0", url=redis_url)) == []
    shown = as_json(cli(*base, "show", "order-1", ids[3], "--json", url=redis_url))
    assert shown["state"] == {"step": 1, "raw": {"base64": "AP8="}} and shown["id"] == ids[3]
    raw = cli(*base, "show", "order-2", "--raw", url=redis_url).stdout
    assert Codec().decode(raw) == {"x": 1}


def test_rollback_delete_and_missing_things(filled: RedisCheckpointer, redis_url: str, prefix: str) -> None:
    base = ("--prefix", prefix)
    first = filled.list("order-1")[-1]
    out = as_json(cli(*base, "--json", "rollback", "order-1", first.id, url=redis_url))
    latest = filled.load("order-1")
    assert latest is not None and latest.id == out["id"] and latest.state["step"] == 0
    assert latest.metadata == {"step": 0, "rollback_of": first.id} and len(filled.list("order-1")) == 6
    # a thread that expires still expires after a rollback, no later than it would have
    only = filled.list("tmp:1")[0]
    cli(*base, "rollback", "tmp:1", only.id, url=redis_url)
    assert len(filled.list("tmp:1")) == 2
    assert all(3_000_000 < filled.client.pttl(key) <= 3_600_000 for key in filled.keys("tmp:1"))
    assert filled.client.pttl(filled.keys("order-1").head) == -1  # and one that did not, does not
    for args in (("show", "nobody"), ("show", "order-1", "no-such-id"), ("history", "nobody"),
                 ("rollback", "order-1", "no-such-id"), ("history", "order-1", "--before", "no-such-id")):
        done = cli(*base, *args, url=redis_url, check=1)
        assert done.stderr.decode().count("\n") == 1 and "Traceback" not in done.stderr.decode()
    cli(*base, "delete", "order-2", url=redis_url)
    assert filled.load("order-2") is None
    cli(*base, "delete", "order-2", url=redis_url, check=1)


def test_usage_and_connection_errors_are_one_line(redis_url: str, prefix: str) -> None:
    assert cli("threads", check=2).stderr.decode().startswith("redis-checkpoint: no Redis URL")
    cli("--url", redis_url, "frobnicate", check=2)
    cli("--url", redis_url, "prune", check=2)
    cli("--url", redis_url, "prune", "--older-than", "soon", check=2)
    cli("--url", redis_url, "--prefix", "a{b", "threads", check=2)
    server = RedisServer()
    dead = server.url.replace("redis://", "redis://:s3cret@")
    server.close()
    done = cli("--url", dead, "threads", check=3)
    err = done.stderr.decode()
    assert err.count("\n") == 1 and "Traceback" not in err and "s3cret" not in err


def test_prune_keep_and_older_than(filled: RedisCheckpointer, redis_url: str, prefix: str) -> None:
    base = ("--prefix", prefix)
    dry = as_json(cli(*base, "--json", "prune", "--keep", "2", "--dry-run", url=redis_url))
    assert dry["removed_checkpoints"] == {"order-1": 3} and len(filled.list("order-1")) == 5
    done = as_json(cli(*base, "--json", "prune", "--keep", "2", url=redis_url))
    assert done["removed_checkpoints"] == {"order-1": 3}
    kept = filled.list("order-1")
    assert [m.metadata["step"] for m in kept] == [4, 3] and filled.load("order-1", kept[-1].id) is not None
    assert as_json(cli(*base, "--json", "prune", "--older-than", "1h", url=redis_url))["deleted_threads"] == []
    gone = as_json(cli(*base, "--json", "prune", "--older-than", "0s", "--match", "order-*", url=redis_url))
    assert gone["deleted_threads"] == ["order-1", "order-2"]
    assert filled.load("order-1") is None and filled.load("tmp:1") is not None


def test_prune_reads_only_what_it_decides_on(redis_url: str, prefix: str, real_client: Any) -> None:
    """Two round trips per thread (count, latest): no MEMORY USAGE, no PTTL, which
    ``threads`` shows but prune never needs: they were three more calls per thread."""
    cp = RedisCheckpointer(real_client, key_prefix=prefix)
    for i in range(4):
        for step in range(3):
            cp.save(f"t{i}", step)

    def calls() -> Dict[str, int]:
        return {name: command_calls(real_client, name) for name in ("memory|usage", "pttl")}

    before = calls()
    args = argparse.Namespace(keep=1, older_than=None, match="*", dry_run=False)
    assert commands.cmd_prune(cp, args).data["removed_checkpoints"] == {f"t{i}": 2 for i in range(4)}
    assert calls() == before
    assert all(len(cp.list(f"t{i}")) == 1 for i in range(4))


def test_prune_by_glob_deletes_only_threads_whose_ids_match(redis_url: str, prefix: str) -> None:
    """``50%`` is stored as ``50%25``: ``--match '*2*'`` must not read the escape's 2."""
    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix)
    for tid in ("50%", "a*", "order-2"):
        cp.save(tid, 1)
    gone = as_json(cli("--prefix", prefix, "--json", "prune", "--older-than", "0s", "--match", "*2*", url=redis_url))
    assert gone["deleted_threads"] == ["order-2"]
    assert cp.load("50%") is not None and cp.load("a*") is not None
    cp.close()


def test_prune_older_than_keeps_a_thread_saved_after_it_looked(
    redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread is stale when prune reads it; a worker resumes it before the delete.

    The save lands after prune has read the thread's latest checkpoint, right before
    its conditional delete goes out."""
    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix)
    worker = RedisCheckpointer.from_url(redis_url, key_prefix=prefix)
    worker.save("conversation", {"turn": 1})
    fresh: List[Any] = []
    delete_if_current = admin.delete_if_current

    def resumed_first(*args: Any) -> bool:
        if not fresh:
            fresh.append(worker.save("conversation", {"turn": 2}))
        return delete_if_current(*args)

    monkeypatch.setattr(admin, "delete_if_current", resumed_first)
    args = argparse.Namespace(keep=None, older_than="0s", match="*", dry_run=False)
    out = commands.cmd_prune(cp, args)
    assert fresh, "the hook did not run"
    assert out.data["deleted_threads"] == []
    found = worker.load("conversation")
    assert found is not None and found.id == fresh[0].id and found.state == {"turn": 2}
    # with nothing saved in between, the same call deletes it
    assert commands.cmd_prune(cp, args).data["deleted_threads"] == ["conversation"]
    assert worker.load("conversation") is None
    worker.close()
    cp.close()

def test_stats(filled: RedisCheckpointer, redis_url: str, prefix: str) -> None:
    stats = as_json(cli("--prefix", prefix, "--json", "stats", url=redis_url))
    assert stats["threads"] == 3 and stats["checkpoints"] == 7
    assert stats["memory_bytes"] > 0 and abs(stats["ttl_coverage"] - 1 / 3) < 1e-9


@pytest.mark.cluster
def test_export_import_round_trip_from_a_server_to_a_cluster(
    filled: RedisCheckpointer, redis_url: str, prefix: str, cluster_servers: RedisClusterServers, tmp_path: Any
) -> None:
    dump = str(tmp_path / "threads.cbor")
    out = as_json(cli("--prefix", prefix, "--json", "export", dump, url=redis_url))
    assert out == {"threads": 3, "checkpoints": 7, "file": dump}
    target = ("--prefix", prefix + "x")
    imported = as_json(cli(*target, "--json", "import", dump, url=cluster_servers.url))
    assert imported == {"threads": 3, "checkpoints": 7, "written": 7}
    again = cli(*target, "import", dump, url=cluster_servers.url).stdout.decode()  # idempotent
    assert "7 checkpoints: 0 written, 7 already present" in again
    with RedisCheckpointer.from_url(cluster_servers.url, key_prefix=prefix + "x") as on_cluster:
        for thread in ("order-1", "order-2", "tmp:1"):
            assert [m.id for m in on_cluster.list(thread)] == [m.id for m in filled.list(thread)]
            assert on_cluster.load(thread).state == filled.load(thread).state  # type: ignore[union-attr]
    rows = as_json(cli(*target, "--json", "threads", url=cluster_servers.url))  # scans every primary
    assert sorted(r["thread"] for r in rows) == ["order-1", "order-2", "tmp:1"]
    back = str(tmp_path / "from-cluster.cbor")  # and out of the cluster again, into a server
    assert as_json(cli(*target, "--json", "export", back, url=cluster_servers.url))["checkpoints"] == 7
    cli("--prefix", prefix + "y", "import", back, url=redis_url)
    with RedisCheckpointer.from_url(redis_url, key_prefix=prefix + "y") as again:
        assert [m.id for m in again.list("order-1")] == [m.id for m in filled.list("order-1")]
    # a truncated or foreign file is refused with one line
    with open(dump, "rb") as fh:
        data = fh.read()
    (tmp_path / "cut.cbor").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.cbor").write_bytes(b"hello")
    for bad in ("cut.cbor", "junk.cbor"):
        err = cli(*target, "import", str(tmp_path / bad), url=cluster_servers.url, check=2).stderr.decode()
        assert err.count("\n") == 1
    # a usage error: the path given
    cli(*target, "import", str(tmp_path / "missing.cbor"), url=cluster_servers.url, check=2)


def test_a_state_as_deep_as_a_save_allows_comes_back_from_its_export(
    redis_url: str, prefix: str, tmp_path: Any
) -> None:
    from redis_checkpoint import SerializationError

    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix)
    deepest: Any = []
    while True:  # the deepest list a save takes
        try:
            cp.save("deep", [deepest])
        except SerializationError:
            break
        deepest = [deepest]
    dump = str(tmp_path / "deep.cbor")
    cli("--prefix", prefix, "export", dump, url=redis_url)
    cli("--prefix", prefix + "x", "import", dump, url=redis_url)  # exit 2 before: "corrupt after 0 threads"
    restored = RedisCheckpointer(cp.client, key_prefix=prefix + "x").load("deep")
    assert restored is not None and restored.state == deepest
    cp.close()


def test_max_state_size_follows_the_application(filled: RedisCheckpointer, redis_url: str, prefix: str) -> None:
    filled.save("big", {"pad": "x" * 5000})
    base = ("--prefix", prefix)
    err = cli(*base, "--max-state-size", "1000", "show", "big", url=redis_url, check=3).stderr.decode()
    assert "max_state_size=1000" in err and "pass --max-state-size" in err
    shown = as_json(cli(*base, "--max-state-size", "100000", "show", "big", "--json", url=redis_url))
    assert shown["state"] == {"pad": "x" * 5000}
    cli(*base, "--max-state-size", "0", "show", "big", url=redis_url, check=2)


def test_a_failed_export_leaves_no_file(filled: RedisCheckpointer, redis_url: str, prefix: str, tmp_path: Any) -> None:
    keys = filled.keys("order-2")
    field = filled.client.hget(keys.head, "rec").split(b"\n")[2]
    filled.client.hset(keys.head, "state", b"not a frame")  # the latest's state: export stops there
    filled.client.hset(keys.active, field, b"not a frame")
    dump = tmp_path / "threads.cbor"
    done = cli("--prefix", prefix, "export", str(dump), url=redis_url, check=3)
    assert b"order-2" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no file, and no half-written .partial


def test_import_ttl_sets_when_the_imported_threads_expire(
    filled: RedisCheckpointer, redis_url: str, prefix: str, tmp_path: Any
) -> None:
    dump = str(tmp_path / "threads.cbor")
    cli("--prefix", prefix, "export", dump, url=redis_url)
    done = cli("--prefix", prefix + "b", "import", dump, "--ttl", "soon", url=redis_url, check=2)
    assert b"--ttl" in done.stderr
    assert list(filled.client.scan_iter(match=f"{prefix}b:*")) == []  # refused before writing
    cli("--prefix", prefix + "t", "import", dump, "--ttl", "2h", url=redis_url)
    cli("--prefix", prefix + "p", "import", dump, url=redis_url)
    for thread in ("order-1", "order-2", "tmp:1"):
        with_ttl = RedisCheckpointer(filled.client, key_prefix=prefix + "t").keys(thread)
        assert all(7_100_000 < filled.client.pttl(key) <= 7_200_000 for key in with_ttl)
        without = RedisCheckpointer(filled.client, key_prefix=prefix + "p").keys(thread)
        assert all(filled.client.pttl(key) == -1 for key in without)


def test_console_script_and_demo(redis_url: str) -> None:
    script = os.path.join(os.path.dirname(sys.executable), "redis-checkpoint")
    assert subprocess.run([script, "--help"], capture_output=True, check=True).stdout.startswith(b"usage")
    demo: List[str] = [sys.executable, "-m", "redis_checkpoint", "--url", redis_url, "demo"]
    done = subprocess.run(demo, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert b"using the Redis server given" in done.stdout
    # what the demo is for: a compare-and-set conflict, and advance() resolving it
    assert b"ConflictError" in done.stdout and b"calls advance() instead" in done.stdout
    assert b"Next:" in done.stdout


def test_bench_command_runs_the_benchmark(redis_url: str, tmp_path: Any) -> None:
    out = str(tmp_path / "bench")
    done = cli("bench", "--", "--sizes", "1000", "--quick", "--rounds", "1", "--seconds", "0.3",
               "--workers", "1", "--out", out, url=redis_url)
    text = done.stdout.decode()
    assert "x1.00 of naive encode+SET" in text and "history length" in text
    report = json.loads(open(os.path.join(out, "latest.json")).read())
    assert report["sizes"]["1000"]["save"]["save"]["ops_per_s"] > 0
    assert os.path.getsize(os.path.join(out, "latest.png")) > 1000


def test_a_reader_that_goes_away_is_not_an_error(filled: RedisCheckpointer, redis_url: str, prefix: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_CHECKPOINT_URL")}
    argv = [sys.executable, "-m", "redis_checkpoint", "--url", redis_url, "--prefix", prefix, "--json", "stats"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()  # type: ignore[union-attr]  # like `| head -0`: the pipe is gone before we print
    err = proc.stderr.read().decode()  # type: ignore[union-attr]
    assert proc.wait(60) == 0, err
    assert "Broken pipe" not in err


# -- first contact -------------------------------------------------------------------


def test_version_and_a_guess_for_a_misspelt_option(redis_url: str) -> None:
    import redis_checkpoint

    assert cli("--version").stdout.decode().strip() == f"redis-checkpoint {redis_checkpoint.__version__}"
    err = cli("--prefx", "x", "threads", url=redis_url, check=2).stderr.decode()
    assert "unknown option --prefx (did you mean --prefix?)" in err
    err = cli("threads", "--mach", "a*", url=redis_url, check=2).stderr.decode()
    assert "did you mean --match?" in err


def help_entries(text: str) -> Dict[str, str]:
    """``{option or argument: its help}`` from an argparse help text: an entry opens on a
    line indented by two spaces; its help follows two spaces on, or on the lines below."""
    entries: Dict[str, str] = {}
    name = ""
    for line in text.split("arguments:", 1)[-1].splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            name, _, rest = line.strip().partition("  ")
            entries[name] = rest.strip()
        elif line.startswith("   ") and name:
            entries[name] = (entries[name] + " " + line.strip()).strip()
        elif not line.strip() or line.endswith(":"):
            name = ""
    return entries


def test_every_option_and_argument_has_help() -> None:
    commands_ = ("threads", "history", "show", "rollback", "delete", "prune", "export", "import", "stats")
    for command in (None, *commands_):
        text = cli(*([command] if command else []), "--help").stdout.decode()
        entries = help_entries(text)
        assert "-h, --help" in entries, text
        assert all(entries.values()), f"{command}: {[k for k, v in entries.items() if not v]}"


def test_table_cells_are_one_line_and_cut_json_is_whole_and_strict(redis_url: str, prefix: str) -> None:
    cp = RedisCheckpointer.from_url(redis_url, key_prefix=prefix)
    long_id = "a\nb" + "x" * 1000
    cp.save(long_id, {"v": float("nan"), "w": float("-inf")})
    text = cli("--prefix", prefix, "threads", url=redis_url).stdout.decode()
    row = text.splitlines()[2]
    assert row.startswith("a\\nbxxx") and "…" in row and len(row) < 200
    rows = as_json(cli("--prefix", prefix, "--json", "threads", url=redis_url))
    assert rows[0]["thread"] == long_id
    shown = as_json(cli("--prefix", prefix, "--json", "show", long_id, url=redis_url))
    assert shown["state"] == {"v": {"float": "NaN"}, "w": {"float": "-Infinity"}}


def test_export_to_stdout_and_import_from_stdin(filled: RedisCheckpointer, redis_url: str, prefix: str) -> None:
    base = [sys.executable, "-m", "redis_checkpoint", "--url", redis_url]
    dump = subprocess.run([*base, "--prefix", prefix, "export", "-"], capture_output=True, timeout=120, check=True)
    assert dump.stdout.startswith(b"\xd9\xd9\xf7") and b"exported 3 threads" in dump.stderr
    done = subprocess.run([*base, "--prefix", prefix + "in", "import", "-"], input=dump.stdout,
                          capture_output=True, timeout=120, check=True)
    assert b"7 checkpoints: 7 written" in done.stdout
    with RedisCheckpointer.from_url(redis_url, key_prefix=prefix + "in") as copy:
        assert [m.id for m in copy.list("order-1")] == [m.id for m in filled.list("order-1")]


def test_file_errors_name_the_path_given_and_exit_2(filled: RedisCheckpointer, redis_url: str, prefix: str,
                                                     tmp_path: Any) -> None:
    missing = str(tmp_path / "nope.cbor")
    err = cli("--prefix", prefix, "import", missing, url=redis_url, check=2).stderr.decode()
    assert err == f"redis-checkpoint: {missing}: No such file or directory\n"
    nowhere = str(tmp_path / "no-dir" / "out.cbor")
    err = cli("--prefix", prefix, "export", nowhere, url=redis_url, check=2).stderr.decode()
    assert nowhere in err and ".partial" not in err
    there = tmp_path / "there.cbor"
    there.write_bytes(b"keep me")
    err = cli("--prefix", prefix, "export", str(there), url=redis_url, check=2).stderr.decode()
    assert "--force" in err and there.read_bytes() == b"keep me"
    cli("--prefix", prefix, "export", str(there), "--force", url=redis_url)
    assert there.read_bytes().startswith(b"\xd9\xd9\xf7")


def test_delete_asks_on_a_terminal_unless_yes(filled: RedisCheckpointer, redis_url: str, prefix: str) -> None:
    import pty

    def on_terminal(answer: bytes, *extra: str) -> str:
        master, slave = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "redis_checkpoint", "--url", redis_url, "--prefix", prefix,
                                 "delete", "order-1", *extra], stdin=slave, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        os.write(master, answer)
        out, _err = proc.communicate(timeout=60)
        os.close(master)
        os.close(slave)
        return out.decode()

    assert "nothing deleted" in on_terminal(b"n\n")
    assert filled.load("order-1") is not None
    assert "deleted thread" in on_terminal(b"y\n")
    assert filled.load("order-1") is None
    assert "deleted thread" in on_terminal(b"", "--yes") if filled.load("order-2") is None else True
    assert "deleted thread 'order-2'" in cli("--prefix", prefix, "delete", "order-2", url=redis_url).stdout.decode()


def test_bench_is_offered_only_from_a_source_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    from redis_checkpoint import cli as cli_module

    assert "bench" in cli_module.parser().format_help()
    monkeypatch.setattr(commands, "source_checkout", lambda: None)
    assert "bench" not in cli_module.parser().format_help()


def test_langgraph_threads_have_commands_and_the_core_ones_point_at_them(redis_url: str, prefix: str) -> None:
    from redis_checkpoint.langgraph import RedisSaver

    from . import lg_graph

    saver = RedisSaver.from_url(redis_url, key_prefix=prefix)
    lg_graph.start(saver, "conv")  # a root namespace and the subgraph's, stopped at an interrupt
    assert "LangGraph threads are under prefix" in cli("--prefix", prefix, "threads", url=redis_url).stdout.decode()
    rows = as_json(cli("--prefix", prefix, "langgraph", "threads", "--json", url=redis_url))
    assert [(r["thread"], r["namespaces"]) for r in rows] == [("conv", 2)]
    history = as_json(cli("--prefix", prefix, "langgraph", "history", "conv", "--json", url=redis_url))
    assert len(history) == rows[0]["checkpoints"] and {h["namespace"] for h in history} >= {""}
    shown = as_json(cli("--prefix", prefix, "--json", "langgraph", "show", "conv", url=redis_url))
    assert shown["channel_values"]["messages"][0]["content"] == "refund order 7"
    cli("--prefix", prefix, "langgraph", "show", "nobody", url=redis_url, check=1)
    assert "deleted LangGraph thread" in cli("--prefix", prefix, "langgraph", "delete", "conv",
                                             url=redis_url).stdout.decode()
    assert list(saver.threads()) == []
    cli("--prefix", prefix, "langgraph", "delete", "conv", url=redis_url, check=1)
    saver.close()
