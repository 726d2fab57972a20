"""Turning checkpoints into terminal tables and JSON."""
from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import fractions
import ipaddress
import math
import re
import sys
import uuid
from typing import Any, Callable, List, Optional, Sequence, Tuple

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def jsonable(value: Any) -> Any:
    """``value`` with JSON-only types: bytes as ``{"base64": ...}``, NaN and infinities as
    ``{"float": "NaN"}`` (``"Infinity"``, ``"-Infinity"``), times as ISO 8601, sets as lists;
    a registered type's value (``--types``) as ``{"type": name, "value": its fields}``."""
    registered = _registered(value)
    if registered is not None:
        return {"type": registered[0], "value": jsonable(registered[1])}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (bytes, bytearray)):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, float) and not math.isfinite(value):  # JSON has no NaN or infinity
        return {"float": "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if (isinstance(value, (decimal.Decimal, fractions.Fraction, uuid.UUID))
            or type(value).__module__ == ipaddress.__name__):
        return str(value)
    return value


def _registered(value: Any) -> Optional[Tuple[str, Any]]:
    """``(class name, content)`` of a dataclass, enum, named tuple or pydantic model value."""
    cls = type(value)
    name = f"{cls.__module__}.{cls.__qualname__}"
    if isinstance(value, enum.Enum):
        return name, value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return name, {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, tuple) and hasattr(cls, "_fields"):
        return name, dict(zip(cls._fields, value))  # type: ignore[attr-defined]
    if hasattr(cls, "model_fields") and not isinstance(value, type):
        return name, {field: getattr(value, field) for field in cls.model_fields}  # type: ignore[attr-defined]
    return None


#: Widest cell of a table; longer ones end in an ellipsis (``--json`` shows them whole).
CELL_MAX = 48


def cell(value: Any) -> str:
    """``value`` for one table cell: control characters escaped, so a row stays one line,
    and cut to :data:`CELL_MAX` characters."""
    text = "" if value is None else str(value)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= CELL_MAX else text[:CELL_MAX - 1] + "…"


def table(headers: Sequence[str], rows: List[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def duration(text: str) -> float:
    """``"90s"``, ``"30m"``, ``"12h"``, ``"7d"``, ``"2w"`` in seconds; ``ValueError`` otherwise."""
    found = _DURATION.match(text.strip())
    if not found:
        raise ValueError(f"not a duration: {text!r} (use a number and s, m, h, d or w, as 7d)")
    return float(found.group(1)) * _UNIT[found.group(2)]


def size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"

def progress_printer(label: str) -> Callable[[int], None]:
    """A one-line counter on a terminal's stderr; silent when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return lambda _n: None

    def show(n: int) -> None:
        sys.stderr.write(f"\r{label}: {n} threads")
        sys.stderr.flush()

    return show
