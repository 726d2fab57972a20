"""Export and import (``transfer.py``): a bad file writes nothing."""
from __future__ import annotations

import io
from typing import Any, List

import cbor2
import fakeredis
import pytest

from redis_checkpoint import RedisCheckpointer
from redis_checkpoint import transfer


def export_bytes(entries: List[Any], end: Any = None) -> bytes:
    out = io.BytesIO()
    out.write(transfer.SELF_DESCRIBE)
    cbor2.dump({"format": transfer.FORMAT, "version": transfer.VERSION}, out)
    for entry in entries:
        cbor2.dump(entry, out)
    if end is not None:
        cbor2.dump({"end": end}, out)
    return out.getvalue()


class Pipe(io.RawIOBase):
    """A stream that cannot seek, as stdin from a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


GOOD = {"thread": "a", "checkpoints": [{"id": "a1", "state": {"n": 1}, "metadata": {"k": 1}},
                                       {"id": "a2", "state": {"n": 2}}]}


@pytest.fixture
def cp() -> RedisCheckpointer:
    return RedisCheckpointer(fakeredis.FakeRedis(server=fakeredis.FakeServer()), key_prefix="imp")


def test_import_saves_in_order_under_the_file_ids(cp: RedisCheckpointer) -> None:
    data = export_bytes([GOOD], end=1)
    assert transfer.import_(cp, io.BytesIO(data), lambda _n: None) == (1, 2, 2)
    assert [m.id for m in cp.list("a")] == ["a2", "a1"]
    assert cp.load("a", "a1").metadata == {"k": 1}  # type: ignore[union-attr]
    assert transfer.import_(cp, io.BytesIO(data), lambda _n: None) == (1, 2, 0)  # again: nothing new
    assert len(cp.list("a")) == 2


def test_import_counts_only_the_checkpoints_it_wrote(cp: RedisCheckpointer) -> None:
    cp.save("a", {"n": 1}, checkpoint_id="a1")  # the thread already has the first one
    data = export_bytes([GOOD], end=1)
    assert transfer.import_(cp, io.BytesIO(data), lambda _n: None) == (1, 2, 1)
    assert [m.id for m in cp.list("a")] == ["a2", "a1"]
    assert cp.load("a", "a1").metadata == {}  # type: ignore[union-attr]  # kept as it was


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"thread": "b", "checkpoints": [{"state": 1}]}, r"entry 2 \('b'\): checkpoint 0"),
        ({"thread": "b", "checkpoints": [{"id": "b1", "state": 1}, {"id": "b2"}]}, "checkpoint 1"),
        ({"thread": "b", "checkpoints": [5]}, "checkpoint 0"),
        ({"thread": "b", "checkpoints": {"id": "b1"}}, "not a list"),
        ({"thread": "", "checkpoints": []}, "thread"),
        ({"thread": 7, "checkpoints": []}, "thread"),
        ({"thread": "b", "checkpoints": [{"id": "b 1", "state": 1}]}, "checkpoint 0 id"),
        ({"thread": "b", "checkpoints": [{"id": "b1", "state": 1, "metadata": [1]}]}, "metadata"),
        ({"thread": "b", "checkpoints": [{"id": "b1", "state": 1, "metadata": {1: 2}}]}, "metadata"),
        ("not a map", "entry 2 is a str"),
        # what the target's save would refuse: the rules for large states, nested int keys in metadata
        ({"thread": "b", "checkpoints": [{"id": "b1", "state": {n: "x" * 40 for n in range(1000)}}]},
         r"entry 2 \('b'\): checkpoint 0: state .*map key"),
        ({"thread": "b", "checkpoints": [{"id": "b1", "state": 1, "metadata": {"k": {1: 2}}}]},
         "checkpoint 0: metadata"),
    ],
)
def test_a_malformed_entry_anywhere_in_a_file_writes_nothing(cp: RedisCheckpointer, bad: Any, words: str) -> None:
    data = export_bytes([GOOD, bad], end=2)
    with pytest.raises(transfer.ImportFormatError, match=words):
        transfer.import_(cp, io.BytesIO(data), lambda _n: None)
    assert cp.client.keys("*") == []


@pytest.mark.parametrize("cut", ["no trailer", "half", "wrong count"])
def test_a_file_cut_short_writes_nothing(cp: RedisCheckpointer, cut: str) -> None:
    whole = export_bytes([GOOD, {"thread": "b", "checkpoints": [{"id": "b1", "state": "x" * 500}]}], end=2)
    data = {
        "no trailer": export_bytes([GOOD]),
        "half": whole[: len(whole) - 300],
        "wrong count": export_bytes([GOOD], end=2),
    }[cut]
    with pytest.raises(transfer.ImportFormatError):
        transfer.import_(cp, io.BytesIO(data), lambda _n: None)
    assert cp.client.keys("*") == []


def test_a_pipe_is_checked_one_thread_at_a_time(cp: RedisCheckpointer) -> None:
    data = export_bytes([GOOD, {"thread": "b", "checkpoints": [{"state": 1}]}], end=2)
    with pytest.raises(transfer.ImportFormatError, match="entry 2"):
        transfer.import_(cp, io.BufferedReader(Pipe(data)), lambda _n: None)
    assert [m.id for m in cp.list("a")] == ["a2", "a1"]  # the entry before the bad one
    assert cp.list("b") == []


def test_a_state_over_the_targets_max_state_size_writes_nothing() -> None:
    small = RedisCheckpointer(fakeredis.FakeRedis(), key_prefix="imp", max_state_size=1000)
    data = export_bytes([GOOD, {"thread": "b", "checkpoints": [{"id": "b1", "state": "x" * 2000}]}], end=2)
    with pytest.raises(transfer.ImportFormatError, match="max_state_size"):
        transfer.import_(small, io.BytesIO(data), lambda _n: None)
    assert small.client.keys("*") == []
    with pytest.raises(transfer.ImportFormatError, match="max_state_size"):  # a pipe: before entry 2's writes
        transfer.import_(small, io.BufferedReader(Pipe(data)), lambda _n: None)
    assert small.list("b") == []
