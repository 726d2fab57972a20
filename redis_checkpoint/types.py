"""The application's own types in a state: dataclasses, enums, named tuples, pydantic models.

``RedisCheckpointer(client, types=[Order, Status, Money])`` registers them. A value of a
registered class is stored as CBOR tag :data:`TYPE_TAG` holding ``[name, content]``: the
class's stable name (``module.QualName``, or the ``name`` of :class:`StateType`) and
its fields as a map (an enum: its value). Decoding looks the name up among the
registered classes and builds the value as its constructor would: a dataclass or a
named tuple from the fields it still has (a field added with a default takes it; a
field the class dropped is left out), an enum from its value, a pydantic model with
``model_validate``. A name that is not registered raises :class:`UnknownTypeError`;
nothing is ever imported by name, so stored bytes run no code of their choosing.
"""
from __future__ import annotations

import dataclasses
import enum
import sys
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from cbor2 import CBORTag

from .errors import CheckpointError

#: The CBOR tag of a registered type's value (private use: only our frames hold it).
TYPE_TAG = 25456


class UnknownTypeError(CheckpointError):
    """A stored value names a type this checkpointer does not have in ``types``."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        listed = ", ".join(sorted(known)) or "none"
        super().__init__(f"the state holds a value of type {name!r}, which is not registered: "
                         f"add its class to types=[...] (registered: {listed})")
        self.type_name = name


class StateType(NamedTuple):
    """A class registered under a name of your choosing: ``types=[StateType(Money,
    name="billing.Money")]``. The stored name stays when the class moves or is renamed."""

    cls: type
    name: str


def _kind(cls: type) -> str:
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return "enum"
    if dataclasses.is_dataclass(cls):
        return "dataclass"
    if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return "namedtuple"
    pydantic = sys.modules.get("pydantic")  # imported only if the application uses it
    if pydantic is not None and isinstance(cls, type) and issubclass(cls, pydantic.BaseModel):
        return "pydantic"
    raise TypeError(f"types: {getattr(cls, '__qualname__', cls)!r} is not a dataclass, Enum, NamedTuple "
                    "or pydantic BaseModel")


class Registry:
    """Registered classes by name, and how each is taken apart and built again."""

    __slots__ = ("by_name", "by_class")

    def __init__(self, types: Iterable[Union[type, StateType]] = ()) -> None:
        if isinstance(types, (str, bytes, type)) or not isinstance(types, Iterable):
            raise TypeError("types must be a list of classes (dataclasses, Enums, NamedTuples, pydantic models)")
        self.by_name: Dict[str, Tuple[type, str]] = {}
        self.by_class: Dict[type, Tuple[str, str]] = {}
        for item in types:
            cls, name = (item.cls, item.name) if isinstance(item, StateType) else (item, None)
            if not isinstance(cls, type):
                raise TypeError(f"types: {cls!r} is not a class")
            name = name or f"{cls.__module__}.{cls.__qualname__}"
            if not isinstance(name, str) or not name:
                raise TypeError(f"types: the name of {cls.__qualname__} must be a non-empty str")
            kind = _kind(cls)
            if name in self.by_name and self.by_name[name][0] is not cls:
                raise ValueError(f"types: {name!r} names both {self.by_name[name][0].__qualname__} "
                                 f"and {cls.__qualname__}; give one a name with StateType")
            self.by_name[name] = (cls, kind)
            self.by_class[cls] = (name, kind)

    def __bool__(self) -> bool:
        return bool(self.by_name)

    def encoders(self) -> Dict[type, Callable[[Any, Any], None]]:
        """cbor2 encoders, one per registered class (exact class: a subclass is not registered)."""
        return {cls: self._encode for cls in self.by_class}

    def _encode(self, encoder: Any, value: Any) -> None:
        name, kind = self.by_class[type(value)]
        if kind == "enum":
            content: Any = value.value
        elif kind == "dataclass":
            content = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.init}
        elif kind == "namedtuple":
            content = dict(zip(value._fields, value))
        else:
            content = {field: getattr(value, field) for field in type(value).model_fields}
        encoder.encode(CBORTag(TYPE_TAG, [name, content]))

    def decode(self, value: Any, immutable: bool = False) -> Any:
        """The value of a :data:`TYPE_TAG` item (cbor2's semantic decoder for it)."""
        if not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], str):
            raise ValueError("a registered type's value must be [name, content]")
        name, content = value
        found = self.by_name.get(name)
        if found is None:
            raise UnknownTypeError(name, list(self.by_name))
        cls, kind = found
        if kind == "enum":
            return cls(content)
        if not isinstance(content, Mapping):
            raise ValueError(f"the fields of {name!r} must be a map")
        if kind == "pydantic":
            return cls.model_validate(dict(content))  # type: ignore[attr-defined]
        return cls(**{k: v for k, v in content.items() if k in _init_fields(cls, kind)})


def _init_fields(cls: type, kind: str) -> List[str]:
    if kind == "namedtuple":
        return list(cls._fields)  # type: ignore[attr-defined]
    return [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]


def load_types(paths: Sequence[str], option: str = "types") -> List[Any]:
    """:func:`load_object` of each path."""
    return [load_object(path, option) for path in paths]


def load_object(path: str, option: str = "types") -> Any:
    """The class (or function) named ``module:Name`` or ``module.Name`` (the command line,
    Django settings): imported because the operator wrote its name, never because stored
    bytes did. ``ValueError`` naming ``option`` when it cannot be found."""
    import importlib

    module, sep, attr = path.partition(":") if ":" in path else path.rpartition(".")
    if not sep or not module or not attr:
        raise ValueError(f"{option}: {path!r} must look like package.module:ClassName")
    try:
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"{option}: cannot find {path!r}: {exc}") from None
    return obj


def optional_registry(types: Optional[Iterable[Any]]) -> Optional[Registry]:
    """A :class:`Registry` of ``types``, or ``None`` for none."""
    registry = Registry(types or ())
    return registry if registry else None
