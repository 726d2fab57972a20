"""The codec on its own: framing, compression switch, and hostile bytes."""
from __future__ import annotations

import struct
from decimal import Decimal
from fractions import Fraction

import cbor2
import pytest
import snappy
from hypothesis import given, settings
from hypothesis import strategies as st

from redis_checkpoint import CorruptCheckpointError, SerializationError, StateTooLargeError
from redis_checkpoint.codec import ALLOWED_TAGS, DENIED_BUILTIN_TAGS, LOOSE_MAX, MAX_DEPTH, Codec

codec = Codec(max_state_size=1 << 20)
json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary(),
    lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=8), kids, max_size=5),
    max_leaves=30,
)


def raw(body: bytes) -> bytes:
    return bytes((0x52, 0x10)) + body


def snappy_frame(body: bytes) -> bytes:
    return bytes((0x52, 0x11)) + body


@given(json_like)
def test_round_trip(value: object) -> None:
    for c in (Codec(compression_threshold=0), Codec(compression=None)):
        assert c.decode(c.encode(value)) == value


def test_header_marks_compression() -> None:
    assert Codec(compression=None).encode("x" * 5000)[:2] == b"R\x10"
    assert Codec(compression_threshold=10).encode("x" * 5000)[:2] == b"R\x11"
    assert Codec(compression_threshold=10).encode("x")[:2] == b"R\x10"  # under the threshold


def test_builtin_tag_tables_match_installed_cbor2() -> None:
    """Every tag cbor2 decodes by itself is either allowed or denied: a new one fails here."""
    builtin = set()
    for tag in list(range(0, 1200)) + [55799, 65535]:
        try:
            out = cbor2.loads(cbor2.dumps(cbor2.CBORTag(tag, None)))
        except Exception:
            builtin.add(tag)
            continue
        if not (isinstance(out, cbor2.CBORTag) and out.tag == tag):
            builtin.add(tag)
    assert builtin <= ALLOWED_TAGS | DENIED_BUILTIN_TAGS


@pytest.mark.parametrize("tag", sorted(DENIED_BUILTIN_TAGS) + [6, 999, 40000])
def test_refused_tags(tag: int) -> None:
    with pytest.raises(CorruptCheckpointError, match="not allowed"):
        codec.decode(raw(cbor2.dumps(cbor2.CBORTag(tag, "x"))))


@pytest.mark.parametrize(
    "blob, word",
    [
        (b"", "header"),
        (b"R", "header"),
        (b"X\x10\x01", "header"),
        (b"R\x20\x01", "header"),  # a future format version
        (b"R\x17\x01", "compression"),
        (raw(b"\x9f\x01\xff"), "indefinite"),
        (raw(b"\xa2\x61a\x01\x61a\x02"), "Duplicate"),
        (raw(b"\x81" * 300 + b"\x01"), "depth"),
        (raw(b"\x9b" + b"\xff" * 8), "decode"),  # an array claiming 2**64 items
        (snappy_frame(b"\x05garbage"), "decode"),
    ],
)
def test_hostile_blobs_are_corrupt(blob: bytes, word: str) -> None:
    with pytest.raises(CorruptCheckpointError, match=word):
        codec.decode(blob)


def test_a_state_over_the_limit_is_too_large_not_corrupt() -> None:
    """On save and on load: the bytes are fine, and the message says what to raise."""
    small = Codec(compression=None, max_state_size=10)
    with pytest.raises(StateTooLargeError, match="raise max_state_size to load it") as err:
        small.decode(raw(cbor2.dumps("x" * 100)))
    assert (err.value.size, err.value.limit) == (102, 10) and not isinstance(err.value, CorruptCheckpointError)
    with pytest.raises(StateTooLargeError, match="raise max_state_size to save it") as err:
        small.encode("x" * 100)
    assert (err.value.size, err.value.limit) == (102, 10)
    assert Codec(compression=None).decode(raw(cbor2.dumps("x" * 100))) == "x" * 100


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_random_bytes_never_escape_as_other_errors(data: bytes) -> None:
    for blob in (data, raw(data), snappy_frame(data)):
        try:
            codec.decode(blob)
        except (CorruptCheckpointError, StateTooLargeError):  # a frame may declare any size
            pass


@settings(max_examples=200)
@given(json_like, st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=255))
def test_mutated_blobs_decode_or_are_corrupt(value: object, pos: int, byte: int) -> None:
    blob = bytearray(Codec(compression_threshold=0).encode(value))
    blob[pos % len(blob)] = byte
    try:
        codec.decode(bytes(blob))
    except (CorruptCheckpointError, StateTooLargeError):
        pass


def test_regex_and_mime_are_refused_on_encode() -> None:
    import email.message
    import re

    many = ["x" * 216] * 100  # each string's header is 0x78 0xD8: a regex after them is still seen
    for bad in (re.compile("a"), email.message.Message(), [{"deep": re.compile("b")}],
                [*many, re.compile("c")], [b"\xd8" * 5000, email.message.Message()]):
        with pytest.raises(SerializationError):
            codec.encode(bad)
    # the bytes that trigger the strict check are fine as data
    assert codec.decode(codec.encode(b"\xd8\x23\xd8\x24")) == b"\xd8\x23\xd8\x24"


def test_snappy_length_is_checked_before_allocation() -> None:
    # 5 bytes that declare 2**32-1 bytes of output: refused without decompressing
    bomb = snappy_frame(b"\xff\xff\xff\xff\x0f")
    with pytest.raises(StateTooLargeError, match="4294967295 bytes is over max_state_size"):
        Codec().decode(bomb)
    assert struct.calcsize("B") == 1


def test_body_size_reads_the_cbor_length_without_decompressing() -> None:
    import cbor2

    value = {"text": "refund order seven " * 100}
    size = len(cbor2.dumps(value))
    assert Codec(compression=None).body_size(Codec(compression=None).encode(value)) == size
    packed = Codec(compression_threshold=0).encode(value)
    assert len(packed) < size and codec.body_size(packed) == size
    with pytest.raises(CorruptCheckpointError, match="header"):
        codec.body_size(b"X\\x10")


# Ints k * (2**61 - 1) + 1 all share one hash, so a dict of them takes quadratic
# time to build: 20,000 such keys (258 KB) took 4.7 s to decode before the strict rules.
P61 = 2**61 - 1
HUGE = 2**1100  # over the 1024 bits allowed in a body over LOOSE_MAX


def test_small_states_keep_every_key_type() -> None:
    value = {1: "a", (2, 3): "b", None: [frozenset({4})], HUGE: {5.5}, "f": Fraction(HUGE, 3)}
    assert codec.decode(codec.encode(value)) == value


def test_large_states_round_trip_under_the_strict_rules() -> None:
    value = {
        "pad": "x" * LOOSE_MAX, "bytes key": {b"k": 1}, "set": {"a", b"b"},
        "ints": [2**1023, -(2**1024), 2**64], "money": Decimal("12.50"), "ratio": Fraction(2**1000, 3),
    }
    for c in (codec, Codec(compression=None)):
        assert c.decode(c.encode(value)) == value


@pytest.mark.parametrize(
    "value, word",
    [
        ({n: "x" * 40 for n in range(1000)}, "map key"),
        ({"ids": set(range(20_000))}, "set element"),
        ({"pad": "x" * LOOSE_MAX, "point": {(1, 2): 3}}, "map key"),
        ({"pad": "x" * LOOSE_MAX, "n": HUGE}, "big integer"),
        ({"pad": "x" * LOOSE_MAX, "d": Decimal(HUGE)}, "big integer"),
        ({"pad": "x" * LOOSE_MAX, "f": Fraction(1, HUGE)}, "big integer"),
    ],
)
def test_large_states_that_would_not_load_are_refused(value: object, word: str) -> None:
    """Over LOOSE_MAX bytes, encode() applies the rules decode() will: what saves also loads."""
    with pytest.raises(SerializationError, match=word):
        codec.encode(value)


def test_the_strict_rules_start_just_over_loose_max() -> None:
    at_limit = {1: "x" * (LOOSE_MAX - 5)}
    assert len(cbor2.dumps(at_limit)) == LOOSE_MAX
    assert codec.decode(codec.encode(at_limit)) == at_limit
    over = {1: "x" * (LOOSE_MAX - 4)}
    with pytest.raises(SerializationError, match="map key"):
        codec.encode(over)
    with pytest.raises(CorruptCheckpointError, match="map key"):
        codec.decode(raw(cbor2.dumps(over)))


@pytest.mark.parametrize(
    "value, word",
    [
        ({1 + k * P61: 0 for k in range(3000)}, "map key"),  # 3,000 colliding keys
        (cbor2.CBORTag(258, [1 + k * P61 for k in range(3000)]), "set element"),
        (cbor2.CBORTag(30, [2**270000 + 1, 2**270000 + 3]), "big integer"),  # gcd of 34 KB integers
        (cbor2.CBORTag(4, [0, 3**180000]), "big integer"),  # a 285,000-bit Decimal mantissa
    ],
    ids=["colliding-keys", "colliding-set", "huge-fraction", "huge-decimal"],
)
def test_hostile_large_bodies_are_corrupt(value: object, word: str) -> None:
    body = cbor2.dumps(value)
    assert len(body) > LOOSE_MAX
    for blob in (raw(body), snappy_frame(snappy.compress(body))):
        with pytest.raises(CorruptCheckpointError, match=word):
            codec.decode(blob)


def nested(kind: str, depth: int, leaf: object) -> object:
    value = leaf
    for _ in range(depth):
        value = {"list": lambda v: [v], "dict": lambda v: {"k": v}, "set": lambda v: frozenset({v}),
                 "tagged": lambda v: [v, Decimal("1.5")]}[kind](value)
    return value


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["list", "dict", "set", "tagged"]), st.integers(1, 400),
       st.sampled_from(["", "é" * 300, "x" * 300]))
def test_what_saves_also_loads_however_deep_it_nests(kind: str, depth: int, leaf: str) -> None:
    """Small bodies too: a state nested deeper than decode allows is refused by encode, and
    only then, so no state saves that would never load."""
    value = nested(kind, depth, leaf)
    try:
        cbor2.loads(cbor2.dumps(value), max_depth=MAX_DEPTH)
    except cbor2.CBORDecodeError:
        with pytest.raises(SerializationError, match=f"more than {MAX_DEPTH} deep"):
            codec.encode(value)
        return
    assert codec.decode(codec.encode(value)) == value


def test_a_strict_codec_applies_the_rules_at_every_size() -> None:
    strict = codec.strict()
    assert strict.decode(strict.encode({"a": [b"x", {"s"}], "n": 2**1000})) == {"a": [b"x", {"s"}], "n": 2**1000}
    for bad in ({1: "x"}, {"s": {1}}, [2**1100]):
        with pytest.raises(SerializationError, match="metadata: dict keys"):
            strict.encode(bad, "metadata")
        with pytest.raises(CorruptCheckpointError):
            strict.decode(raw(cbor2.dumps(bad)))
        assert codec.decode(codec.encode(bad)) == bad  # the default codec keeps them in small bodies


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=30), min_size=1, max_size=5).map(b"\n".join))
def test_any_stored_record_parses_or_is_corrupt(rec: bytes) -> None:
    from redis_checkpoint.records import parse_record

    try:
        record = parse_record(b"c\n" + rec, "t")
    except CorruptCheckpointError as exc:
        assert exc.checkpoint_id == "c" and exc.thread_id == "t"
    else:
        assert record.id == "c" and record.created_at.tzinfo is not None and isinstance(record.size, int)


class Custom:
    pass


@pytest.mark.parametrize("value, path", [
    ({"a": [1, {"b": Custom()}]}, "state['a'][1]['b']"),
    ([1, (2, Custom())], "state[1][1]"),
    ({Custom(): 1}, "state (a key: "),
    ({"s": {frozenset({Custom()})}}, "state['s'] (a member) (a member)"),
])
def test_a_value_that_cannot_be_encoded_is_named_by_its_place(value: object, path: str) -> None:
    with pytest.raises(SerializationError) as err:
        codec.encode(value)
    assert str(err.value).startswith(path) and "cannot store Custom" in str(err.value)


def test_a_cycle_is_refused_with_a_bounded_message() -> None:
    cycle: list = []  # type: ignore[type-arg]
    cycle.append(cycle)
    with pytest.raises(SerializationError, match=r"^state(\[0\]){32}\.\.\.: .*cyclic"):
        codec.encode(cycle)
