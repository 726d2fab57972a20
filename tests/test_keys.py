"""Key layout: one slot per thread, no two threads sharing a key."""
from __future__ import annotations

import fnmatch

from hypothesis import given
from hypothesis import strategies as st
from redis.crc import key_slot

from redis_checkpoint.globs import thread_glob
from redis_checkpoint.keys import (
    GRAPH_SUFFIXES,
    escape,
    graph_keys,
    thread_id_of,
    thread_keys,
    thread_pattern,
    unescape,
)

ids = st.text(min_size=1, max_size=64)


@given(ids)
def test_every_key_of_a_thread_hashes_to_one_slot(tid: str) -> None:
    slots = {key_slot(k.encode()) for k in (*thread_keys("checkpoint", tid), *graph_keys("checkpoint", tid))}
    assert len(slots) == 1


@given(ids, ids)
def test_distinct_threads_share_no_key(a: str, b: str) -> None:
    if a != b:
        mine = {*thread_keys("p", a), *graph_keys("p", a)}
        assert not mine & {*thread_keys("p", b), *graph_keys("p", b)}


@given(ids)
def test_thread_id_is_read_back_from_its_key(tid: str) -> None:
    assert thread_id_of("p:x", thread_keys("p:x", tid).thread) == tid
    assert thread_id_of("p:x", graph_keys("p:x", tid).ids, GRAPH_SUFFIXES[1]) == tid


@given(ids, ids)
def test_a_literal_match_finds_only_its_own_thread(tid: str, other: str) -> None:
    """Glob characters in a thread id never act as globs in the SCAN pattern."""
    literal = "".join("\\" + c if c in "*?[]\\" else c for c in tid)
    pattern = thread_pattern("p", thread_glob(literal).scan)
    key = thread_keys("p", other).thread
    # Redis' glob is fnmatch-like once backslash escapes are resolved into [x] classes
    as_fnmatch = pattern.replace("\\*", "[*]").replace("\\?", "[?]").replace("\\[", "[[]")
    assert fnmatch.fnmatchcase(key, as_fnmatch) == (other == tid)


@given(ids)
def test_escape_round_trips_and_hides_braces_and_globs(tid: str) -> None:
    e = escape(tid)
    assert unescape(e) == tid
    assert not set(e) & set("{}*?[]\\")


def test_layout() -> None:
    assert thread_keys("checkpoint", "a:b") == ("checkpoint:{a:b}:thread", "checkpoint:{a:b}:history")
    assert thread_keys("p", "x}y").thread == "p:{x%7Dy}:thread"
    assert thread_pattern("p*") == "p\\*:{*}:thread"
