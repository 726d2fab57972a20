"""The application's own types in a state (``types=``) and state versions (``state_version=``,
``upgrade=``), on every backend of the contract tests, blocking and asyncio."""
from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import os
import subprocess
import sys
from typing import Any, Callable, Dict, List, NamedTuple, Optional

import pydantic
import pytest

from redis_checkpoint import (
    SerializationError,
    StateType,
    StateVersionError,
    UnknownTypeError,
)
from redis_checkpoint.codec import Codec
from redis_checkpoint.types import Registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Status(enum.Enum):
    OPEN = "open"
    PAID = "paid"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Money(NamedTuple):
    amount: decimal.Decimal
    currency: str = "EUR"


class Customer(pydantic.BaseModel):
    name: str
    priority: Priority = Priority.LOW
    since: Optional[datetime.date] = None


@dataclasses.dataclass(frozen=True)
class Line:
    sku: str
    price: Money
    quantity: int = 1


@dataclasses.dataclass
class Order:
    id: int
    status: Status
    lines: List[Line]
    customer: Customer
    tags: Dict[str, Any] = dataclasses.field(default_factory=dict)


TYPES = [Order, Line, Status, Priority, Money, Customer]


def an_order() -> Order:
    return Order(
        7, Status.OPEN,
        [Line("apple", Money(decimal.Decimal("0.40")), 3), Line("pear", Money(decimal.Decimal("1.10"), "USD"))],
        Customer(name="Ada", priority=Priority.HIGH, since=datetime.date(2026, 1, 2)),
        {"source": "web", "nested": [Status.PAID, {"p": Priority.LOW}]},
    )


def test_every_kind_round_trips_nested(make_cp: Callable[..., Any]) -> None:
    cp = make_cp(types=TYPES)
    order = an_order()
    cp.save("t", {"order": order, "status": Status.PAID, "money": Money(decimal.Decimal(5)),
                  "priority": Priority.HIGH, "customers": [Customer(name="Bo")]})
    state = cp.load("t").state
    assert state["order"] == order and type(state["order"].lines[0]) is Line
    assert state["status"] is Status.PAID and state["priority"] is Priority.HIGH
    assert type(state["priority"]) is Priority  # an IntEnum stays itself, not an int
    assert type(state["money"]) is Money and state["money"].currency == "EUR"
    assert state["customers"] == [Customer(name="Bo")]
    # the blocking and the asyncio checkpointer read each other's: the same encoding
    assert make_cp(types=TYPES).load("t").state["order"] == order


def test_a_class_keeps_its_name_when_it_moves(make_cp: Callable[..., Any]) -> None:
    @dataclasses.dataclass
    class OldMoney:
        cents: int

    @dataclasses.dataclass
    class NewMoney:  # renamed and moved: same stored name
        cents: int

    make_cp(types=[StateType(OldMoney, name="billing.Money")]).save("t", {"m": OldMoney(250)})
    assert make_cp(types=[StateType(NewMoney, name="billing.Money")]).load("t").state == {"m": NewMoney(250)}
    with pytest.raises(UnknownTypeError, match="billing.Money"):
        make_cp(types=[NewMoney]).load("t")  # under its default name it is another type


def test_fields_added_with_a_default_or_removed_still_load(make_cp: Callable[..., Any]) -> None:
    @dataclasses.dataclass
    class V1:
        name: str
        legacy: int

    @dataclasses.dataclass
    class V2:
        name: str
        email: str = "unknown"

    class P1(pydantic.BaseModel):
        name: str
        legacy: int

    class P2(pydantic.BaseModel):
        name: str
        email: str = "unknown"

    class N1(NamedTuple):
        a: int
        gone: int

    class N2(NamedTuple):
        a: int
        b: int = 9

    old = make_cp(types=[StateType(V1, name="User"), StateType(P1, name="PUser"), StateType(N1, name="Pair")])
    old.save("t", [V1("ada", 1), P1(name="bo", legacy=2), N1(1, 2)])
    new = make_cp(types=[StateType(V2, name="User"), StateType(P2, name="PUser"), StateType(N2, name="Pair")])
    assert new.load("t").state == [V2("ada"), P2(name="bo"), N2(1, 9)]


def test_an_unregistered_class_on_save_names_it_and_where_it_is(make_cp: Callable[..., Any]) -> None:
    cp = make_cp(types=[Order, Line, Money, Customer])  # Status is not registered
    order = an_order()
    with pytest.raises(SerializationError) as err:
        cp.save("t", {"orders": [order]})
    text = str(err.value)
    assert "state['orders'][0].status" in text and "Status" in text and "types=[" in text, text
    assert err.value.thread_id == "t" and cp.load("t") is None  # nothing was written
    with pytest.raises(SerializationError, match=r"state\['x'\]: cannot store Status"):
        make_cp().save("t", {"x": Status.OPEN})  # no types at all


def test_an_unregistered_type_on_load_names_the_type(make_cp: Callable[..., Any]) -> None:
    make_cp(types=TYPES).save("t", {"order": an_order()})
    with pytest.raises(UnknownTypeError) as err:
        make_cp(types=[Line, Status, Priority, Money, Customer]).load("t")  # all but Order
    assert f"{__name__}.Order" in str(err.value) and "types=" in str(err.value)
    assert err.value.thread_id == "t" and err.value.operation == "load"


def test_registering_checks_its_argument() -> None:
    with pytest.raises(TypeError, match="not a dataclass, Enum, NamedTuple or pydantic"):
        Registry([dict])
    with pytest.raises(TypeError, match="list of classes"):
        Registry(Order)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="names both"):
        Registry([StateType(Order, "x"), StateType(Line, "x")])


def test_the_bytes_choose_no_class_and_keep_the_limits() -> None:
    """A crafted tag names a class that exists but is not registered: refused, nothing built;
    what is inside is decoded under the codec's usual limits."""
    import cbor2

    from redis_checkpoint.errors import CorruptCheckpointError
    from redis_checkpoint.types import TYPE_TAG

    codec = Codec(types=Registry([Money]))
    frame = b"\x52\x10" + cbor2.dumps(cbor2.CBORTag(TYPE_TAG, ["os.system", {"command": "true"}]))
    with pytest.raises(UnknownTypeError, match="os.system"):
        codec.decode(frame)
    deep = b"\x52\x10" + cbor2.dumps(cbor2.CBORTag(TYPE_TAG, [f"{__name__}.Money", {"amount": [[[[1]]]]}]))
    assert codec.decode(deep) == Money([[[[1]]]])  # type: ignore[arg-type]  # built as Money(**fields)
    bomb = b"\x52\x10" + b"\xd9\x63\x70\x82\x65Money" + b"\x81" * 300
    with pytest.raises(CorruptCheckpointError):
        codec.decode(bomb)


# -- state versions ---------------------------------------------------------------------


def upgrade(state: Any, version: int) -> Any:
    """1 -> 2: ``n`` became ``count``; 2 -> 3: ``count`` went into ``totals``."""
    if version < 2:
        state = {"count": state["n"]}
    if version < 3:
        state = {"totals": {"count": state["count"]}}
    return state


def test_an_upgrade_chain_from_1_and_2_to_3(make_cp: Callable[..., Any]) -> None:
    make_cp(state_version=1).save("t", {"n": 5}, checkpoint_id="c1")
    make_cp(state_version=2).save("t", {"count": 6}, checkpoint_id="c2")
    v3 = make_cp(state_version=3, upgrade=upgrade)
    v3.save("t", {"totals": {"count": 7}}, checkpoint_id="c3")
    assert [(m.id, m.version) for m in v3.list("t")] == [("c3", 3), ("c2", 2), ("c1", 1)]
    assert v3.load("t", "c1").state == {"totals": {"count": 5}}
    loaded = v3.load("t", "c2")
    assert loaded.state == {"totals": {"count": 6}} and loaded.version == 2
    assert v3.load("t").state == {"totals": {"count": 7}}
    # loading upgrades; nothing is written back
    assert make_cp(state_version=1).load("t", "c1").state == {"n": 5}
    # advance saves the upgraded shape as a version 3 checkpoint
    meta = v3.advance("t", lambda s: {"totals": {"count": s["totals"]["count"] + 1}})
    assert meta.version == 3 and v3.load("t").state == {"totals": {"count": 8}}


def test_a_newer_version_than_the_code_knows_is_refused(make_cp: Callable[..., Any]) -> None:
    make_cp(state_version=4).save("t", {"shape": "new"})
    with pytest.raises(StateVersionError, match="state version 4, newer than this code's 3") as err:
        make_cp(state_version=3, upgrade=upgrade).load("t")
    assert err.value.found == 4 and err.value.known == 3 and err.value.thread_id == "t"
    with pytest.raises(StateVersionError, match="no upgrade"):
        make_cp(state_version=5).load("t")  # older, and nothing to bring it on
    # without state_version, versions are read as they are and not checked
    assert make_cp().load("t").state == {"shape": "new"} and make_cp().list("t")[0].version == 4


def test_without_state_version_checkpoints_are_version_0(make_cp: Callable[..., Any]) -> None:
    cp = make_cp()
    cp.save("t", 1)
    assert cp.list("t")[0].version == 0 and cp.load("t").version == 0
    assert make_cp(state_version=1, upgrade=lambda s, v: {"was": s, "from": v}).load("t").state == {"was": 1, "from": 0}


@pytest.mark.parametrize("options, word", [
    ({"state_version": -1}, "state_version"),
    ({"state_version": "3"}, "state_version"),
    ({"upgrade": upgrade}, "upgrade needs state_version"),
    ({"state_version": 2, "upgrade": "upgrade"}, "upgrade must be a function"),
    ({"types": [int]}, "types"),
])
def test_bad_version_and_type_options(make_cp: Callable[..., Any], options: Dict[str, Any], word: str) -> None:
    with pytest.raises((TypeError, ValueError), match=word):
        make_cp(**options)


# -- command line ---------------------------------------------------------------------


@pytest.mark.redis
def test_the_command_line_decodes_with_types(redis_url: str, prefix: str) -> None:
    from redis_checkpoint import RedisCheckpointer

    with RedisCheckpointer.from_url(redis_url, key_prefix=prefix, types=TYPES, state_version=2) as cp:
        cp.save("t", {"order": an_order()})

    def cli(*args: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
        return subprocess.run([sys.executable, "-m", "redis_checkpoint", "--url", redis_url, "--prefix", prefix,
                               *args], capture_output=True, text=True, timeout=120, cwd=ROOT)

    refused = cli("show", "t")  # the first unregistered value decoded is named
    assert refused.returncode == 3 and "which is not registered" in refused.stderr, refused.stderr
    assert f"'{__name__}." in refused.stderr and "--types package.module:ClassName" in refused.stderr
    names = [f"--types=tests.test_types:{c.__name__}" for c in TYPES]
    shown = cli(*names, "--json", "show", "t")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["version"] == 2
    order = data["state"]["order"]
    assert order["type"] == f"{__name__}.Order" and order["value"]["status"] == {"type": f"{__name__}.Status",
                                                                                 "value": "open"}
    history = cli("history", "t")
    assert "VERSION" in history.stdout and history.returncode == 0
    bad = cli("--types", "tests.test_types:Nope", "show", "t")
    assert bad.returncode == 2 and "cannot find 'tests.test_types:Nope'" in bad.stderr


@pytest.mark.redis
@pytest.mark.parametrize("example", ["own_types", "evolving_state"])
def test_the_docs_examples_run(redis_url: str, example: str) -> None:
    """docs/types.md and docs/evolving.md include these files whole."""
    done = subprocess.run([sys.executable, "-m", f"examples.{example}", redis_url], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert ("Order(id=7" in done.stdout) if example == "own_types" else ("saved as version 1" in done.stdout)
