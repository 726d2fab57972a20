"""What a newcomer meets when something is wrong: one clear line, at once, that says what to do."""
from __future__ import annotations

import logging
import traceback
from typing import Any

import fakeredis
import pytest
import redis

from redis_checkpoint import RedisCheckpointer, StorageError
from redis_checkpoint.langgraph import RedisSaver
from redis_checkpoint.testing import RedisServer, free_port


def attempts(caplog: pytest.LogCaptureFixture) -> int:
    """Failed attempts the retry policy logged: a call it gave up on at once logs none."""
    return sum("attempt" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("url, says", [
    ("redis://127.0.0.1:{port}/0", "connection refused; is the server running"),
    ("redis://no-such-host.invalid:6379/0", "the host name does not resolve"),
], ids=["refused", "unknown-host"])
def test_nothing_listening_fails_at_once_in_one_line(url: str, says: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "redis_checkpoint")
    url = url.format(port=free_port())
    with pytest.raises(StorageError) as err:
        RedisCheckpointer.from_url(url)
    message = str(err.value)
    assert says in message and url.split("//")[1].split("/")[0] in message and "\n" not in message
    assert err.value.operation == "connect" and attempts(caplog) == 0
    shown = "".join(traceback.format_exception(err.value))
    assert "During handling" not in shown and "direct cause" not in shown  # no chained traceback


@pytest.mark.redis
def test_refused_credentials_are_not_retried_and_not_shown(caplog: pytest.LogCaptureFixture, prefix: str) -> None:
    caplog.set_level(logging.WARNING, "redis_checkpoint")
    with RedisServer("--requirepass", "right-one") as server:
        for url in (f"redis://:wrong-one@127.0.0.1:{server.port}/0", server.url):  # wrong, then none
            with pytest.raises(StorageError, match="refused the credentials") as err:
                RedisCheckpointer.from_url(url)
            assert "wrong-one" not in str(err.value) and "right-one" not in str(err.value)
        cp = RedisCheckpointer.from_url(f"redis://:right-one@127.0.0.1:{server.port}/0", key_prefix=prefix)
        cp.save("t", 1)
        admin = redis.Redis(port=server.port, password="right-one")
        admin.config_set("requirepass", "changed")
        admin.close()
        redis.Redis(port=server.port, password="changed").client_kill_filter(_type="normal", skipme=True)
        with pytest.raises(StorageError, match="refused the credentials") as err:
            cp.save("t", 2)  # a working checkpointer whose password was changed
        assert "changed" not in str(err.value)
        # the first attempt met the killed connection and was retried; the refusal was not
        retried = [r.getMessage() for r in caplog.records if "attempt" in r.getMessage()]
        assert retried and not any("Authentication" in m or "NOAUTH" in m for m in retried)
        cp.close()


@pytest.mark.redis
def test_tls_and_plain_urls_mixed_up_are_named(tmp_path: Any) -> None:
    """``redis://`` to a TLS-only port, and ``rediss://`` to a plain one: the line says which
    scheme the server wants."""
    from redis_checkpoint.testing.tls import make_certificates, server_options

    certificates = make_certificates(str(tmp_path))
    tls_port = free_port()
    with RedisServer(*server_options(certificates, tls_port)) as plain:
        with pytest.raises(StorageError, match="only takes TLS, the URL starts with rediss://") as err:
            RedisCheckpointer.from_url(f"redis://localhost:{tls_port}/0")
        assert err.value.operation == "connect" and "\n" not in str(err.value)
        with pytest.raises(StorageError, match=r"the server speaks TLS \(rediss://\)") as err:
            RedisCheckpointer.from_url(f"rediss://localhost:{plain.port}/0", ssl_ca_certs=certificates.ca,
                                       socket_connect_timeout=0.5)
        assert err.value.operation == "connect"


@pytest.mark.redis
def test_an_acl_denial_is_not_retried(caplog: pytest.LogCaptureFixture, prefix: str) -> None:
    caplog.set_level(logging.WARNING, "redis_checkpoint")
    with RedisServer() as server:
        admin = redis.Redis(port=server.port)
        admin.execute_command("ACL", "SETUSER", "reader", "on", ">pw", "~*", "+@read", "+info", "+config|get")
        cp = RedisCheckpointer.from_url(f"redis://reader:pw@127.0.0.1:{server.port}/0", key_prefix=prefix)
        with pytest.raises(StorageError, match="NOPERM|permission"):
            cp.save("t", 1)
        assert attempts(caplog) == 0
        cp.close()
        admin.close()


def test_a_misspelt_option_is_named_with_a_guess() -> None:
    with pytest.raises(TypeError, match=r"^unknown option 'tll_seconds' \(did you mean 'ttl_seconds'\?\)$"):
        RedisCheckpointer.from_url("redis://127.0.0.1:1/0", tll_seconds=5)
    with pytest.raises(TypeError, match=r"^unknown option 'socket_timout' \(did you mean 'socket_timeout'\?\)$"):
        RedisCheckpointer.from_url("redis://127.0.0.1:1/0", socket_timout=5)
    with pytest.raises(TypeError, match=r"^unknown option 'zzzzzz'$"):
        RedisCheckpointer.from_url("redis://127.0.0.1:1/0", zzzzzz=5)


@pytest.mark.parametrize("call", [
    lambda saver: saver.prune("ab"),
    lambda saver: saver.prune(b"ab"),
    lambda saver: saver.delete_for_runs("run-1"),
    lambda saver: saver.prune(7),
])
def test_a_single_id_where_a_list_is_wanted_is_refused(call: Any) -> None:
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    saver = RedisSaver(client)
    with pytest.raises(TypeError, match="must be a list of ids"):
        call(saver)
    assert client.dbsize() == 0
