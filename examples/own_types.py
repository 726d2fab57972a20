"""States made of the application's own classes: ``python -m examples.own_types [URL]``."""
import dataclasses
import decimal
import enum
import sys
from typing import List, NamedTuple

import pydantic

from redis_checkpoint import RedisCheckpointer, StateType


class Status(enum.Enum):
    OPEN = "open"
    PAID = "paid"


class Money(NamedTuple):
    amount: decimal.Decimal
    currency: str = "EUR"


class Customer(pydantic.BaseModel):
    name: str
    email: str = ""


@dataclasses.dataclass(frozen=True)
class Line:
    sku: str
    price: Money
    quantity: int = 1


@dataclasses.dataclass
class Order:
    id: int
    status: Status
    customer: Customer
    lines: List[Line] = dataclasses.field(default_factory=list)


def main(url: str) -> None:
    cp = RedisCheckpointer.from_url(
        url, key_prefix="example-types",
        # Money keeps the name "billing.Money" wherever the class moves later
        types=[Order, Line, Status, Customer, StateType(Money, name="billing.Money")],
    )
    order = Order(7, Status.OPEN, Customer(name="Ada"), [Line("apple", Money(decimal.Decimal("0.40")), 3)])
    cp.save("order-7", {"order": order})
    loaded = cp.load("order-7").state["order"]
    assert loaded == order and loaded.status is Status.OPEN
    print(loaded)
    cp.delete_thread("order-7")
    cp.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "redis://localhost:6379/0")
