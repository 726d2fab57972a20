"""Globs over thread ids, for ``threads(match)`` and the command line's ``--match``.

Redis matches ``SCAN MATCH`` against key names, where a thread id is escaped
(``keys.escape``): ``50%`` is stored as ``50%25``, and ``é`` takes two bytes.
So the pattern sent to Redis is only a first cut that finds every thread the
glob matches, and maybe others; :meth:`ThreadGlob.matches` then decides on the
thread id itself.

The match takes time linear in the id's length times the glob's, whatever
the glob: its ``*``-free pieces are found leftmost first, never backtracked
into (a regular expression for ``*a*a*a*b`` took 32 s on a 1024-character id).
"""
from __future__ import annotations

import re
from typing import List, Pattern

from .keys import escape


class ThreadGlob:
    """A glob read once: ``scan`` for Redis, :meth:`matches` for the ids it finds.

    ``scan`` matches escaped ids: a ``*`` in it can end inside an escape
    sequence (``*2*`` finds ``50%25``), and each ``?`` or class of the glob is
    sent as ``*``, since one character of an id can take several bytes in a key
    (and Redis's ``?`` matches one byte).
    """

    __slots__ = ("scan", "_pieces", "_sizes")

    def __init__(self, scan: str, pieces: List[List[str]]) -> None:
        self.scan = scan
        # each piece: one regular expression per character it matches, so its length is fixed
        self._pieces: List[Pattern[str]] = [re.compile("".join(p), re.DOTALL) for p in pieces]
        self._sizes = [len(p) for p in pieces]

    def matches(self, thread_id: str) -> bool:
        """Whether the glob matches the whole of ``thread_id``."""
        pieces, sizes = self._pieces, self._sizes
        if len(pieces) == 1:  # no "*"
            return pieces[0].fullmatch(thread_id) is not None
        tail = len(thread_id) - sizes[-1]  # where the last piece must start
        if tail < sizes[0] or not pieces[0].match(thread_id):
            return False
        at = sizes[0]
        for piece, size in zip(pieces[1:-1], sizes[1:-1]):
            # leftmost is best: what follows only needs room after this piece
            found = piece.search(thread_id, at, tail)
            if found is None:
                return False
            at = found.start() + size
        return pieces[-1].match(thread_id, tail) is not None


def thread_glob(glob: str) -> ThreadGlob:
    """Read a glob over thread ids.

    ``*`` matches any run of characters, ``?`` one character, ``[abc]``,
    ``[a-z]`` and ``[^a-z]`` one character in (or not in) the class, and
    ``\\x`` a literal ``x``; anything else matches itself. As in Redis, a ``[``
    with no ``]`` after it is literal, the first ``]`` closes a class, and a
    range written backwards (``[z-a]``) is read forwards. ``ValueError`` for a
    class holding a backslash.
    """
    scan: List[str] = []
    pieces: List[List[str]] = [[]]
    i = 0
    while i < len(glob):
        c = glob[i]
        end = glob.find("]", i + 1) if c == "[" else -1
        if c == "*":
            pieces.append([])
        elif c == "?":
            pieces[-1].append(".")
        elif end != -1:
            pieces[-1].append(_class(glob[i + 1 : end]))
        else:
            pair = c == "\\" and i + 1 < len(glob)  # \x: a literal x
            literal = glob[i + 1] if pair else c
            scan.append(escape(literal))
            pieces[-1].append(re.escape(literal))
            i += 2 if pair else 1
            continue
        if not scan or scan[-1] != "*":
            scan.append("*")
        i = end + 1 if end != -1 else i + 1
    return ThreadGlob("".join(scan), pieces)


def _class(body: str) -> str:
    """A regular expression for one character of the glob class ``[<body>]``."""
    if "\\" in body:
        raise ValueError("match: a [...] class may not contain a backslash")
    negated = body.startswith("^")
    if negated:
        body = body[1:]
    items, j = [], 0
    while j < len(body):
        if j + 2 < len(body) and body[j + 1] == "-":
            low, high = sorted((body[j], body[j + 2]))
            items.append(f"{re.escape(low)}-{re.escape(high)}")
            j += 3
        else:
            items.append(re.escape(body[j]))
            j += 1
    if not items:  # "[]" matches nothing, "[^]" any one character
        return "." if negated else "(?!)"
    return f"[{'^' if negated else ''}{''.join(items)}]"
