"""The classes the fuzz campaign registers, one of each kind ``types=`` supports."""
from __future__ import annotations

import dataclasses
import enum
from typing import Any, List, NamedTuple

import pydantic


class Color(enum.Enum):
    RED = "red"
    BLUE = 2


@dataclasses.dataclass(frozen=True)
class Point:
    x: Any
    y: Any = 0


class Pair(NamedTuple):
    a: Any
    b: Any = None


class Model(pydantic.BaseModel):
    name: str
    tags: List[Any] = []


TYPES = [Color, Point, Pair, Model]
