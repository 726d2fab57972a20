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
    keys, graph = thread_keys("checkpoint", tid), graph_keys("checkpoint", tid)
    every = (*keys, *keys.segments(0, 3), *graph, *graph.segments(0, 3))
    assert len({key_slot(k.encode()) for k in every}) == 1


@given(ids, ids)
def test_distinct_threads_share_no_key(a: str, b: str) -> None:
    if a != b:
        def every(tid: str) -> set:
            keys, graph = thread_keys("p", tid), graph_keys("p", tid)
            return {*keys, *keys.segments(0, 3), *graph, *graph.segments(0, 3)}

        assert not every(a) & every(b)


@given(ids)
def test_thread_id_is_read_back_from_its_key(tid: str) -> None:
    assert thread_id_of("p:x", thread_keys("p:x", tid).head) == tid
    assert thread_id_of("p:x", graph_keys("p:x", tid).head, GRAPH_SUFFIXES[0]) == tid


@given(ids, ids)
def test_a_literal_match_finds_only_its_own_thread(tid: str, other: str) -> None:
    """Glob characters in a thread id never act as globs in the SCAN pattern."""
    literal = "".join("\\" + c if c in "*?[]\\" else c for c in tid)
    pattern = thread_pattern("p", thread_glob(literal).scan)
    key = thread_keys("p", other).head
    # Redis' glob is fnmatch-like once backslash escapes are resolved into [x] classes
    as_fnmatch = pattern.replace("\\*", "[*]").replace("\\?", "[?]").replace("\\[", "[[]")
    assert fnmatch.fnmatchcase(key, as_fnmatch) == (other == tid)


@given(ids)
def test_escape_round_trips_and_hides_braces_and_globs(tid: str) -> None:
    e = escape(tid)
    assert unescape(e) == tid
    assert not set(e) & set("{}*?[]\\")


def test_layout() -> None:
    keys = thread_keys("checkpoint", "a:b")
    assert keys == ("checkpoint:{a:b}:head", "checkpoint:{a:b}:history", "checkpoint:{a:b}:active")
    assert keys.segments(2, 4) == ("checkpoint:{a:b}:seg:2", "checkpoint:{a:b}:seg:3")
    graph = graph_keys("lg", "a")
    assert graph == ("lg:{a}:lghead", "lg:{a}:lgindex", "lg:{a}:lgwrites", "lg:{a}:lgactive")
    assert graph.sealed(7) == "lg:{a}:lgseg:7"
    assert thread_keys("p", "x}y").head == "p:{x%7Dy}:head"
    assert thread_pattern("p*") == "p\\*:{*}:head"
