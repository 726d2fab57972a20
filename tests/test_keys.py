"""Key layout: one slot per thread, no two threads sharing a key."""
from __future__ import annotations

import fnmatch

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from redis.crc import key_slot

from redis_checkpoint.keys import (
    GRAPH_SUFFIXES,
    escape,
    graph_keys,
    thread_glob,
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


def _glob_matches(glob: str, text: str) -> bool:
    """The glob rules ``thread_glob`` documents, matched by backtracking (the oracle)."""
    if not glob:
        return not text
    c = glob[0]
    if c == "*":
        return any(_glob_matches(glob[1:], text[k:]) for k in range(len(text) + 1))
    if c == "?":
        return bool(text) and _glob_matches(glob[1:], text[1:])
    if c == "\\" and len(glob) > 1:
        return text[:1] == glob[1] and _glob_matches(glob[2:], text[1:])
    if c == "[" and "]" in glob[1:]:
        end = glob.index("]", 1)
        body = glob[1:end]
        negated = body.startswith("^")
        body = body[1:] if negated else body
        hit, j = False, 0
        while text and j < len(body):
            if j + 2 < len(body) and body[j + 1] == "-":
                hit |= min(body[j], body[j + 2]) <= text[0] <= max(body[j], body[j + 2])
                j += 3
            else:
                hit |= text[0] == body[j]
                j += 1
        return bool(text) and hit != negated and _glob_matches(glob[end + 1 :], text[1:])
    return text[:1] == c and _glob_matches(glob[1:], text[1:])


odd = "ab2A%*?[]^-\\{}\u00e9\n"


@given(st.text(alphabet=odd, min_size=1, max_size=6), st.text(alphabet=odd, max_size=8))
def test_a_glob_matches_thread_ids_not_their_escaped_keys(tid: str, glob: str) -> None:
    """``exact`` says what the glob means; ``scan`` finds at least those threads."""
    try:
        parsed = thread_glob(glob)
    except ValueError:
        assume(False)
        raise
    wanted = _glob_matches(glob, tid)
    assert bool(parsed.exact.fullmatch(tid)) == wanted
    if wanted:  # the SCAN pattern holds only escaped literals and "*": fnmatch reads it as Redis does
        assert fnmatch.fnmatchcase(thread_keys("p", tid).thread, thread_pattern("p", parsed.scan))


def test_glob_examples() -> None:
    assert thread_glob("*2*").scan == "*2*"
    assert not thread_glob("*2*").exact.fullmatch("50%")  # stored as 50%25
    assert thread_glob("a?[0-9]*").scan == "a*"
    assert thread_glob("[^]").exact.fullmatch("\u00e9") and not thread_glob("[]").exact.fullmatch("a")
    assert thread_glob("[z-a]").exact.fullmatch("q")  # as Redis: a reversed range is read forwards
    with pytest.raises(ValueError, match="match"):
        thread_glob("[\\]]")
