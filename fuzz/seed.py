"""Write the seed corpus: valid frames of every supported type, raw and compressed."""
from __future__ import annotations

import datetime
import decimal
import fractions
import ipaddress
import os
import uuid

from fuzz_types import TYPES, Color, Model, Pair, Point

from redis_checkpoint.codec import Codec
from redis_checkpoint.types import Registry

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

SEEDS = {
    "small-map": {"messages": ["hi"], "step": 1},
    "nested": {"a": [1, [2, [3, {"b": None}]]], "t": True, "f": 1.5},
    "types": {
        "when": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc), "day": datetime.date(2026, 1, 2),
        "dec": decimal.Decimal("1.25"), "frac": fractions.Fraction(1, 3), "id": uuid.UUID(int=7),
        "ip": ipaddress.ip_address("10.0.0.1"), "net": ipaddress.ip_network("10.0.0.0/8"),
        "set": {1, 2}, "bytes": b"\x00\xff", "big": 2**100, "neg": -(2**70),
    },
    "text": {"messages": [{"role": "user", "content": "refund order 7 " * 200}]},
    "registered": {"p": Point(1, Pair(Color.RED, [Color.BLUE])), "m": Model(name="n", tags=[Point(2.5)])},
}


def main() -> None:
    os.makedirs(HERE, exist_ok=True)
    for name, value in SEEDS.items():
        registry = Registry(TYPES)
        for label, codec in (("raw", Codec(compression=None, types=registry)),
                             ("snappy", Codec(compression_threshold=0, types=registry))):
            with open(os.path.join(HERE, f"{name}-{label}"), "wb") as fh:
                fh.write(codec.encode(value))


if __name__ == "__main__":
    main()
