"""Coverage-guided fuzzing of the payload decoder with atheris (libFuzzer).

Every input must end in a value, ``CorruptCheckpointError``, ``StateTooLargeError``
(a frame declaring more than ``max_state_size``), or ``UnknownTypeError`` (a registered
type's tag naming a class that is not registered): any other
exception is a crash, and libFuzzer's ``-rss_limit_mb``/``-malloc_limit_mb``
turn a large allocation into one too. Short bounded run (what ``make test``
does, through ``tests/test_fuzz.py``)::

    python fuzz/fuzz_codec.py fuzz/corpus -max_total_time=20 -rss_limit_mb=1024 -malloc_limit_mb=256

A longer campaign: ``-max_total_time=3600``, on a copy of the corpus directory
(libFuzzer adds the inputs it finds interesting to it). ``fuzz/seed.py``
regenerates the seed corpus.
"""
from __future__ import annotations

import sys

import atheris

from fuzz_types import TYPES  # noqa: E402  (fuzz/ is the script's directory)

with atheris.instrument_imports():
    from redis_checkpoint.codec import Codec
    from redis_checkpoint.errors import CorruptCheckpointError, StateTooLargeError
    from redis_checkpoint.types import Registry, UnknownTypeError

# The strict codec decodes short inputs under the rules large states get (str or
# bytes keys, 1024-bit integers), which libFuzzer's short inputs otherwise never reach.
# The last two build registered types (a dataclass, an Enum, a NamedTuple, a pydantic
# model) from the tag's content.
CODECS = (
    Codec(max_state_size=1 << 20),
    Codec(compression=None, max_state_size=1 << 20),
    Codec(max_state_size=1 << 20).strict(),
    Codec(max_state_size=1 << 20, types=Registry(TYPES)),
    Codec(max_state_size=1 << 20, types=Registry(TYPES)).strict(),
)


def test_one_input(data: bytes) -> None:
    for codec in CODECS:
        try:
            codec.decode(data)
        except (CorruptCheckpointError, StateTooLargeError, UnknownTypeError):
            pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
