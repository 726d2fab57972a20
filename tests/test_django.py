"""Django: settings, one shared checkpointer per process, views through the test client."""
from __future__ import annotations

import subprocess
import sys
import threading
import json
from typing import Any, Dict, List

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from redis_checkpoint import RedisCheckpointer
from redis_checkpoint.contrib.django import get_checkpointer

from .savers import chain_ok

pytestmark = pytest.mark.redis


@pytest.fixture
def configured(settings: Any, redis_url: str, prefix: str) -> str:
    settings.REDIS_CHECKPOINT = {"URL": redis_url, "OPTIONS": {"key_prefix": prefix}}
    return prefix


def test_views_advance_and_read_a_thread(configured: str) -> None:
    web = Client()
    ids = [web.post("/threads/t1/advance?by=2").json()["id"] for _ in range(5)]
    got = web.get("/threads/t1").json()
    assert got == {"id": ids[-1], "state": {"count": 10, "steps": 5}}
    history = web.get("/threads/t1/history").json()["history"]
    assert [h["id"] for h in history] == ids[::-1]
    assert history[0]["metadata"] == {"source": "django", "by": 2}
    assert chain_ok(get_checkpointer(), "t1") == ids
    assert web.get("/threads/nobody").status_code == 404
    assert web.post("/threads/t1/advance?by=x").status_code == 400
    assert web.get("/threads/t1/advance").status_code == 405


def test_bad_input_gets_a_400_that_says_why_and_errors_are_logged(
        configured: str, caplog: pytest.LogCaptureFixture, settings: Any) -> None:
    web = Client(raise_request_exception=False)
    cases = {
        "/threads/t1/advance?request_id=has%20space": ("post", "checkpoint_id"),
        "/threads/t1/history?limit=abc": ("get", "limit must be an integer"),
        "/threads/t1/history?limit=-1": ("get", "limit must be >= 0"),
        "/threads/" + "x" * 2000: ("get", "thread_id"),
    }
    for path, (method, says) in cases.items():
        answer = getattr(web, method)(path)
        assert answer.status_code == 400 and says in answer.json()["error"], (path, answer.content[:200])
    assert get_checkpointer().list("t1") == []  # nothing was written
    settings.REDIS_CHECKPOINT = {"URL": "redis://127.0.0.1:9/0", "OPTIONS": {"cluster": False, "retry_budget": 0}}
    answer = web.get("/threads/t1")  # a server that is down: logged, and a 503
    assert answer.status_code == 503 and "Redis failed" in caplog.text


def test_a_repeated_request_id_advances_once(configured: str) -> None:
    web = Client()
    first = web.post("/threads/t2/advance?by=1&request_id=req-7").json()
    again = web.post("/threads/t2/advance?by=1&request_id=req-7").json()
    assert first["id"] == again["id"] == "req-7"
    assert web.get("/threads/t2").json()["state"] == {"count": 1, "steps": 1}


def test_one_shared_instance_per_process(configured: str) -> None:
    seen: List[RedisCheckpointer] = []
    threads = [threading.Thread(target=lambda: seen.append(get_checkpointer())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(cp) for cp in seen}) == 1 and seen[0].key_prefix == configured


def test_named_checkpointers_like_caches(settings: Any, redis_url: str, prefix: str) -> None:
    settings.REDIS_CHECKPOINT = {
        "default": {"URL": redis_url, "OPTIONS": {"key_prefix": prefix + "a"}},
        "audit": {"URL": redis_url, "OPTIONS": {"key_prefix": prefix + "b", "max_checkpoints": 2}},
    }
    assert get_checkpointer().key_prefix == prefix + "a"
    audit = get_checkpointer("audit")
    assert audit.key_prefix == prefix + "b" and audit is not get_checkpointer()
    # a changed setting drops the old instances
    settings.REDIS_CHECKPOINT = {"URL": redis_url, "OPTIONS": {"key_prefix": prefix + "c"}}
    assert get_checkpointer().key_prefix == prefix + "c"


def test_types_and_upgrade_by_dotted_path(settings: Any, redis_url: str, prefix: str) -> None:
    settings.REDIS_CHECKPOINT = {"URL": redis_url, "OPTIONS": {
        "key_prefix": prefix, "types": ["tests.test_types.Status", "tests.test_types:Priority"],
        "state_version": 3, "upgrade": "tests.test_types.upgrade"}}
    from tests.test_types import Priority, Status

    cp = get_checkpointer()
    cp.save("t", {"status": Status.PAID, "priority": Priority.HIGH})
    assert cp.load("t").state == {"status": Status.PAID, "priority": Priority.HIGH}  # type: ignore[union-attr]
    assert cp.list("t")[0].version == 3


BAD: Dict[str, Any] = {
    "not a dict": ("redis://x", "must be a dict"),
    "no url": ({"OPTIONS": {}}, "'URL'"),
    "empty url": ({"URL": ""}, "'URL'"),
    "unknown key": ({"URL": "redis://localhost", "LOCATION": "x"}, "unknown keys"),
    "options not a dict": ({"URL": "redis://localhost", "OPTIONS": [1]}, "OPTIONS"),
    "bad option value": ({"URL": "redis://localhost", "OPTIONS": {"ttl_seconds": -1}}, "ttl_seconds"),
    "bad entry": ({"default": "redis://localhost"}, "must be a dict with a 'URL'"),
    "unknown type path": ({"URL": "redis://localhost", "OPTIONS": {"types": ["nowhere.Order"]}},
                          "types: cannot find 'nowhere.Order'"),
    # nothing listens there, and cluster=False asks nothing: the keyword alone is refused
    "misspelt connection option": (
        {"URL": "redis://127.0.0.1:9/0", "OPTIONS": {"cluster": False, "socket_timout": 5}},
        r"unknown option 'socket_timout' \(did you mean 'socket_timeout'\?\)"),
    "misspelt checkpointer option": (
        {"URL": "redis://127.0.0.1:9/0", "OPTIONS": {"tll_seconds": 5}},
        r"REDIS_CHECKPOINT\['default'\]: unknown option 'tll_seconds' \(did you mean 'ttl_seconds'\?\)"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_settings_are_improperly_configured(settings: Any, case: str) -> None:
    value, message = BAD[case]
    settings.REDIS_CHECKPOINT = value
    with pytest.raises(ImproperlyConfigured, match=message):
        get_checkpointer()


def test_missing_setting_and_unknown_name(settings: Any, redis_url: str) -> None:
    del settings.REDIS_CHECKPOINT
    with pytest.raises(ImproperlyConfigured, match="REDIS_CHECKPOINT is not set"):
        get_checkpointer()
    settings.REDIS_CHECKPOINT = {"URL": redis_url}
    with pytest.raises(ImproperlyConfigured, match="no checkpointer 'other'.*'default'"):
        get_checkpointer("other")


@pytest.mark.parametrize("module,extra", [("django", "django"), ("celery", "celery")])
def test_missing_framework_names_the_extra(module: str, extra: str) -> None:
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        f"try:\n    import redis_checkpoint.contrib.{module}\n"
        f"except ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert f"pip install 'redis-checkpoint[{extra}]'" in out


def test_the_system_check_validates_the_setting_without_connecting(settings: Any) -> None:
    from django.core import checks

    def ids() -> list:
        return [(m.id, m.msg) for m in checks.run_checks(tags=["redis_checkpoint"])]

    # nothing listens on port 9: a check that connected would fail differently
    settings.REDIS_CHECKPOINT = {"URL": "redis://127.0.0.1:9/0", "OPTIONS": {"ttl_seconds": 60}}
    assert ids() == []
    settings.REDIS_CHECKPOINT = {"URL": "redis://127.0.0.1:9/0", "OPTIONS": {"socket_timout": 5}}
    assert ids() == [("checkpoint.E003", "settings.REDIS_CHECKPOINT['default']: unknown option 'socket_timout' "
                                         "(did you mean 'socket_timeout'?)")]
    settings.REDIS_CHECKPOINT = {"URL": "redis://127.0.0.1:9/0", "OPTIONS": {"max_checkpoints": 0}}
    assert [i for i, _m in ids()] == ["checkpoint.E003"]
    settings.REDIS_CHECKPOINT = {"URL": "redis://127.0.0.1:9/0", "OPTIONS": {"types": ["orders.Nope"]}}
    assert [i for i, _m in ids()] == ["checkpoint.E002"]
    settings.REDIS_CHECKPOINT = {"OPTIONS": {}}
    assert [i for i, _m in ids()] == ["checkpoint.E001"]
    del settings.REDIS_CHECKPOINT
    assert [i for i, _m in ids()] == ["checkpoint.E001"]


def test_manage_py_checkpoints_runs_the_commands_on_a_configured_checkpointer(
    settings: Any, redis_url: str, prefix: str, capsys: pytest.CaptureFixture
) -> None:
    from django.core.management import CommandError, call_command

    settings.REDIS_CHECKPOINT = {
        "default": {"URL": redis_url, "OPTIONS": {"key_prefix": prefix + "d"}},
        "audit": {"URL": redis_url, "OPTIONS": {"key_prefix": prefix + "a"}},
    }
    get_checkpointer("audit").save("t1", {"n": 1}, checkpoint_id="c1")
    get_checkpointer("audit").save("t1", {"n": 2}, checkpoint_id="c2")
    call_command("checkpoints", "history", "t1", "--json", using="audit")
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["c2", "c1"]
    call_command("checkpoints", "show", "t1", "c1", "--json", "--using", "audit")  # --using after the command
    assert json.loads(capsys.readouterr().out)["state"] == {"n": 1}
    with pytest.raises(CommandError, match="exit status 1"):
        call_command("checkpoints", "history", "t1")  # the default checkpointer has no such thread
    call_command("checkpoints", "prune", "--keep", "1", using="audit")
    assert "remove 1 checkpoints" in capsys.readouterr().out
    assert [m.id for m in get_checkpointer("audit").list("t1")] == ["c2"]
