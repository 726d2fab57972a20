"""Globs over thread ids: what they match, and what SCAN is asked for."""
from __future__ import annotations

import fnmatch

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from redis_checkpoint.globs import thread_glob
from redis_checkpoint.keys import thread_keys, thread_pattern


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


odd = "aab2A%**?[]^-\\{}\u00e9\n"


@settings(max_examples=1000)
@given(st.text(alphabet=odd, min_size=1, max_size=10), st.text(alphabet=odd, max_size=10))
def test_a_glob_matches_thread_ids_not_their_escaped_keys(tid: str, glob: str) -> None:
    """``exact`` says what the glob means; ``scan`` finds at least those threads."""
    try:
        parsed = thread_glob(glob)
    except ValueError:
        assume(False)
        raise
    wanted = _glob_matches(glob, tid)
    assert parsed.matches(tid) == wanted
    if wanted:  # the SCAN pattern holds only escaped literals and "*": fnmatch reads it as Redis does
        assert fnmatch.fnmatchcase(thread_keys("p", tid).head, thread_pattern("p", parsed.scan))



@settings(max_examples=1000)
@given(st.text(alphabet="ab", max_size=10), st.text(alphabet="ab*?", max_size=10))
def test_stars_match_as_the_oracle_does(text: str, glob: str) -> None:
    """Few letters, many stars: where a matcher that places pieces wrongly goes astray."""
    assert thread_glob(glob).matches(text) == _glob_matches(glob, text)

def test_glob_examples() -> None:
    assert thread_glob("*2*").scan == "*2*"
    assert not thread_glob("*2*").matches("50%")  # stored as 50%25
    assert thread_glob("a?[0-9]*").scan == "a*"
    assert thread_glob("[^]").matches("\u00e9") and not thread_glob("[]").matches("a")
    assert thread_glob("[z-a]").matches("q")  # as Redis: a reversed range is read forwards
    assert thread_glob("a*b*c").matches("a\nbc") and not thread_glob("a*b*c").matches("acb")
    assert thread_glob("*a*a").matches("aa") and not thread_glob("*a*a").matches("a")
    with pytest.raises(ValueError, match="match"):
        thread_glob("[\\]]")


def test_a_glob_with_many_stars_takes_linear_time() -> None:
    """A regular expression backtracks on such globs: with three stars (``*a*a*a*b``) it
    took 32 s on 1024 characters here, and each star multiplies that. Pieces found
    leftmost first never backtrack. Bounded by the suite's pytest-timeout; no time
    is asserted."""
    glob = thread_glob("*a" * 20 + "*b")
    assert not glob.matches("a" * 1024)
    assert glob.matches("a" * 1023 + "b")
    assert not thread_glob("*a?" * 20 + "*[bc]").matches("a" * 1024)
