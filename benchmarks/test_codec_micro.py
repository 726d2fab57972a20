"""Codec micro-benchmarks (pytest-benchmark). Not part of ``make test``:

    .venv/bin/python -m pytest benchmarks/test_codec_micro.py -m benchmark

They report times; they assert only that the round trip is right, never a time.
"""
from __future__ import annotations

from typing import Any

import pytest

from redis_checkpoint.codec import Codec

from .states import conversation

pytestmark = pytest.mark.benchmark
SIZES = [1_000, 10_000, 100_000]


@pytest.mark.parametrize("compression", ["snappy", None])
@pytest.mark.parametrize("size", SIZES)
def test_encode(benchmark: Any, size: int, compression: Any) -> None:
    codec, state = Codec(compression), conversation(size)
    blob = benchmark(codec.encode, state)
    assert codec.decode(blob) == state


@pytest.mark.parametrize("compression", ["snappy", None])
@pytest.mark.parametrize("size", SIZES)
def test_decode(benchmark: Any, size: int, compression: Any) -> None:
    codec, state = Codec(compression), conversation(size)
    blob = codec.encode(state)
    assert benchmark(codec.decode, blob) == state
