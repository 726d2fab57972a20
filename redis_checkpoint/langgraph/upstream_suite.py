"""LangGraph's own checkpointer tests, run on ``RedisSaver``.

``scripts/langgraph-upstream-tests`` downloads LangGraph's source distribution
(pinned) from the package registry, unpacks its ``tests/`` and adds one line to the
end of their ``conftest.py``::

    from redis_checkpoint.langgraph.upstream_suite import *  # noqa

That rebinds the two fixtures every checkpointer test takes, ``sync_checkpointer``
(a fresh ``RedisSaver``) and ``async_checkpointer`` (a fresh ``AsyncRedisSaver``),
on a throwaway redis-server with a key prefix per test, and deselects every test
that takes neither. Nothing of
LangGraph's tests is kept in this repository.
"""
from __future__ import annotations

import os
from typing import Any, AsyncIterator, Iterator, List

import pytest

from ..testing import RedisServer
from .async_saver import AsyncRedisSaver
from .saver import RedisSaver

__all__ = ["async_checkpointer", "pytest_collection_modifyitems", "redis_checkpoint_server", "sync_checkpointer"]

FIXTURES = ("sync_checkpointer", "async_checkpointer")


@pytest.fixture(scope="session")
def redis_checkpoint_server() -> Iterator[str]:
    """``$REDIS_URL``, else one throwaway redis-server per test process."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    with RedisServer() as server:
        yield server.url


def _prefix() -> str:
    # not uuid4(): tests that patch it for deterministic ids would see one more call
    return f"lg{os.urandom(6).hex()}"


@pytest.fixture
def sync_checkpointer(redis_checkpoint_server: str) -> Iterator[RedisSaver]:
    with RedisSaver.from_url(redis_checkpoint_server, key_prefix=_prefix()) as saver:
        yield saver


@pytest.fixture
async def async_checkpointer(redis_checkpoint_server: str) -> AsyncIterator[AsyncRedisSaver]:
    async with AsyncRedisSaver.from_url(redis_checkpoint_server, key_prefix=_prefix()) as saver:
        yield saver


def pytest_collection_modifyitems(config: Any, items: List[Any]) -> None:
    """Keep only the tests that take a checkpointer; as many as expected
    (``$LANGGRAPH_UPSTREAM_EXPECTED``), so that a fixture renamed upstream cannot
    quietly leave nothing to run."""
    kept = [item for item in items if set(FIXTURES) & set(getattr(item, "fixturenames", ()))]
    dropped = [item for item in items if item not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept
    expected = int(os.environ.get("LANGGRAPH_UPSTREAM_EXPECTED", "1"))
    if config.getoption("dist", "no") != "no" and not hasattr(config, "workerinput"):
        return  # the xdist controller collects nothing itself; its workers check
    if len(kept) < expected:
        raise pytest.UsageError(f"{len(kept)} tests take a checkpointer; {expected} were expected")
