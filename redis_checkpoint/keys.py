"""Key names: the one place that builds them.

Every key of a thread is ``<prefix>:{<escaped thread id>}:<suffix>``. The braces
are a Redis Cluster hash tag, so all keys of a thread live in one slot and one
Lua script can touch them all. The escaping keeps the tag exact and the mapping
from thread id to keys one-to-one:

* ``%``, ``{`` and ``}`` are percent-encoded, so the tag always ends at the
  closing brace we wrote and two distinct thread ids never share a key;
* the glob characters ``*``, ``?``, ``[``, ``]`` and ``\\`` are percent-encoded
  too, so an escaped id can be put in a ``SCAN MATCH`` pattern literally.
"""
from __future__ import annotations

from typing import NamedTuple, Tuple

from .errors import check_str

MAX_THREAD_ID_LENGTH = 1024

_ESCAPED = "%{}*?[]\\"
_ESCAPE_TABLE = str.maketrans({c: f"%{ord(c):02X}" for c in _ESCAPED})

SUFFIXES = ("head", "history", "active")
SEGMENT = "seg:"  # a sealed segment's suffix, before its number
GRAPH_SUFFIXES = ("lghead", "lgindex", "lgwrites", "lgactive")
GRAPH_SEGMENT = "lgseg:"


class ThreadKeys(NamedTuple):
    """The keys of one thread that every save touches, in the order the scripts expect
    (layout in ``docs/design.md``): ``head`` (hash: the current checkpoint, counters, each
    id's commit number), ``history`` (sorted set: every checkpoint's record, by commit
    number) and ``active`` (hash: the newest states). Older states are in sealed
    segments, :meth:`sealed`.
    """

    head: str
    history: str
    active: str

    def sealed(self, number: object) -> str:
        """The key of sealed segment ``number``."""
        return f"{self.head[:-len(SUFFIXES[0])]}{SEGMENT}{number}"

    def segments(self, first: "int | str | bytes", end: "int | str | bytes") -> Tuple[str, ...]:
        """The keys of sealed segments ``first`` to ``end - 1``."""
        return tuple(self.sealed(n) for n in range(int(first), int(end)))


class GraphKeys(NamedTuple):
    """The keys of one LangGraph thread that every put touches (``redis_checkpoint.langgraph``;
    layout in ``docs/design.md``): ``head`` (hash: counters, each checkpoint's segment and
    delta link), ``ids`` (sorted set of ``<ns>\\0<checkpoint id>``, all scored 0, so it is
    ordered by namespace, then by id), ``writes`` (sorted set of ``<ns>\\0<id>\\0<task
    path>\\0<task id>\\0<idx>``, as LangGraph replays a step's writes) and ``active``
    (hash: records, channel values and writes of the newest checkpoints). Older ones are
    in sealed segments, :meth:`sealed`.
    """

    head: str
    ids: str
    writes: str
    active: str

    def sealed(self, number: object) -> str:
        """The key of sealed segment ``number``."""
        return f"{self.head[:-len(GRAPH_SUFFIXES[0])]}{GRAPH_SEGMENT}{number}"

    def segments(self, first: "int | str | bytes", end: "int | str | bytes") -> Tuple[str, ...]:
        """The keys of sealed segments ``first`` to ``end - 1``."""
        return tuple(self.sealed(n) for n in range(int(first), int(end)))


def validate_prefix(key_prefix: object) -> str:
    text = check_str("key_prefix", key_prefix)
    if not text or "{" in text or "}" in text:
        raise ValueError("key_prefix must be a non-empty str without '{' or '}'")
    _check_utf8("key_prefix", text)
    return text


def _check_utf8(name: str, text: str) -> None:
    """Key names go to Redis as UTF-8: a lone surrogate (``"\\ud800"``) cannot."""
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError as exc:
            raise ValueError(f"{name} is not valid Unicode text: {exc.reason} at position {exc.start}") from None


def validate_thread_id(thread_id: object, name: str = "thread_id") -> str:
    text = check_str(name, thread_id, MAX_THREAD_ID_LENGTH)
    if not text:
        raise ValueError(f"{name} must not be empty")
    _check_utf8(name, text)
    return text


def escape(thread_id: str) -> str:
    """Escape a thread id for use inside the hash tag (and in SCAN patterns)."""
    return thread_id.translate(_ESCAPE_TABLE)


def unescape(escaped: str) -> str:
    """Inverse of :func:`escape`."""
    if "%" not in escaped:
        return escaped
    out, i = [], 0
    while i < len(escaped):
        c = escaped[i]
        if c == "%":
            out.append(chr(int(escaped[i + 1 : i + 3], 16)))
            i += 3
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _tagged(key_prefix: str, thread_id: str) -> str:
    """``<prefix>:{<escaped thread id>}:``, the start of every key of a thread.

    The only place a key name is built; ``thread_keys`` and ``graph_keys`` add
    their suffixes.
    """
    return f"{key_prefix}:{{{escape(thread_id)}}}:"


def thread_keys(key_prefix: str, thread_id: str) -> ThreadKeys:
    """Every key of ``thread_id``."""
    base = _tagged(key_prefix, thread_id)
    return ThreadKeys(*(base + s for s in SUFFIXES))


def graph_keys(key_prefix: str, thread_id: str) -> GraphKeys:
    """The keys of a LangGraph thread: same prefix and hash tag rules, other suffixes."""
    base = _tagged(key_prefix, thread_id)
    return GraphKeys(*(base + s for s in GRAPH_SUFFIXES))


def copy_keys(keys: Tuple[str, ...], token: str) -> Tuple[str, ...]:
    """Keys of one ``copy_thread`` in the slot of ``keys`` (``langgraph/copying.py``):
    ``<key>~<token>`` for each, which no SCAN pattern for threads matches (those end in
    ``}:<suffix>``). They expire if the copy stops half-way."""
    return tuple(f"{key}~{token}" for key in keys)


def copy_mark(keys: GraphKeys, token: str) -> str:
    """The key set when copy ``token`` has committed into the thread of ``keys``."""
    return f"{keys.head[:-len(GRAPH_SUFFIXES[0])]}copied~{token}"


def thread_id_of(key_prefix: str, thread_key: str, suffix: str = SUFFIXES[0]) -> str:
    """Inverse of ``thread_keys(key_prefix, tid).head``: the thread id in that key.

    ``suffix=GRAPH_SUFFIXES[0]`` reads a LangGraph ``head`` key instead.
    """
    head, tail = f"{key_prefix}:{{", "}:" + suffix
    escaped = thread_key[len(head) : -len(tail)]
    if thread_key.startswith(head) and thread_key.endswith(tail) and escaped:
        try:
            thread_id = unescape(escaped)
        except ValueError:  # "%zz"
            pass
        else:
            if escape(thread_id) == escaped:  # "%41" or "a}b" were not written by escape()
                return thread_id
    raise ValueError(f"not a thread key under prefix {key_prefix!r}: {thread_key!r}")


def thread_pattern(key_prefix: str, escaped_glob: str = "*", suffix: str = SUFFIXES[0]) -> str:
    """SCAN pattern matching the ``head`` key of every thread (for operators).

    The prefix is matched literally (its glob characters are backslash-escaped);
    ``escaped_glob`` (``globs.ThreadGlob.scan``) is matched against escaped thread ids.
    """
    literal = "".join("\\" + c if c in "*?[]\\" else c for c in key_prefix)
    return f"{literal}:{{{escaped_glob}}}:{suffix}"
