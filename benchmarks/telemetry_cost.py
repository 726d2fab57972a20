"""What telemetry costs when nothing observes it: no OpenTelemetry provider, no DEBUG logging.

Two measures. First, the time of what telemetry adds to an operation when nothing
observes it (``with telemetry.operation(...)`` and setting an outcome), timed alone over
many calls, as a share of one save's and one load's time. Second, save and load of a
10 KB state in interleaved rounds: the checkpointer as shipped against the same with
:func:`redis_checkpoint.telemetry.operation` replaced by one that returns the
do-nothing object at once. The second is the end-to-end check, but on a noisy machine
its spread is wider than the effect; the first is the figure to read.
``python -m benchmarks.telemetry_cost [--url URL]`` runs it alone.
"""
from __future__ import annotations

import statistics
import sys
import time
import timeit
import uuid
from typing import Any, Dict, List

from redis_checkpoint import RedisCheckpointer, telemetry

from . import run_alone
from .states import conversation


def added_us(calls: int = 200_000) -> float:
    """Microseconds telemetry adds to one operation when nothing observes it."""
    engine = object()

    def observed() -> None:
        with telemetry.operation("save", engine, "t") as op:
            op.outcome = "saved"

    return timeit.timeit(observed, number=calls) / calls * 1e6


def run(url: str, rounds: int = 7, count: int = 500) -> Dict[str, Dict[str, float]]:
    state = conversation(10000)
    cp = RedisCheckpointer.from_url(url, key_prefix=f"tcost{uuid.uuid4().hex[:6]}", cluster=False)
    shipped = telemetry.operation

    def bare(*_args: Any, **_kwargs: Any) -> Any:
        return telemetry._UNOBSERVED  # the floor: what no check at all would cost

    ops = {"save": lambda i: cp.save(f"t{i % 50}", state), "load": lambda i: cp.load(f"t{i % 50}")}
    for i in range(50):
        cp.save(f"t{i}", state)
    out: Dict[str, Dict[str, float]] = {}
    try:
        for name, fn in ops.items():
            rates: Dict[str, List[float]] = {"as shipped": [], "without telemetry": []}
            for r in range(rounds * 3):
                for variant in (list(rates) if r % 2 == 0 else list(rates)[::-1]):
                    telemetry.operation = shipped if variant == "as shipped" else bare  # type: ignore[assignment]
                    start = time.perf_counter()
                    for i in range(count):
                        fn(i)
                    rates[variant].append(count / (time.perf_counter() - start))
            med = {k: statistics.median(v) for k, v in rates.items()}
            out[name] = {**med, "ratio": med["as shipped"] / med["without telemetry"]}
        added = added_us()
        for name in ops:
            out[name]["added_us"] = added
            out[name]["added_share"] = added / (1e6 / out[name]["as shipped"])
    finally:
        telemetry.operation = shipped  # type: ignore[assignment]
        cp.close()
    return out


def report(res: Dict[str, Dict[str, float]]) -> List[str]:
    return [f"  {name:5s} telemetry adds {r['added_us']:.2f} µs to {1e6 / r['as shipped']:.0f} µs: "
            f"{r['added_share'] * 100:.2f}% (target ≤ 2%); end to end, as shipped {r['as shipped']:6.0f}/s, "
            f"without {r['without telemetry']:6.0f}/s, x{r['ratio']:.3f} (noise included)"
            for name, r in res.items()]


def main(argv: "List[str] | None" = None) -> None:
    run_alone("telemetry_cost", __doc__, run, report, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
