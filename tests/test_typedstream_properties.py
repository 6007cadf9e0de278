"""Property tests: encode -> decode round-trips (also through pytypedstream), and random or
mutated blobs and plists never raise anything but UndecodableError, and never hang."""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path

import pytest
import typedstream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coldtexts.errors import UndecodableError
from coldtexts.fixtures.typedstream_writer import (
    NSURLValue,
    encode_attributed_body,
    encode_summary_info,
    encode_url_payload,
)
from coldtexts.messages import typedstream as ts
from coldtexts.messages.attributed import body_parts
from coldtexts.messages.plists import parse_payload, parse_summary_info
from coldtexts.messages.typedstream import decode_attributed_body, to_expected_shape, utf16_length

FAST = settings(deadline=1000, max_examples=150,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

texts = st.text(st.characters(codec="utf-8"), max_size=40)
scalars = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.integers(-(2**31), 2**31 - 1),
    st.floats(allow_nan=False),
    st.binary(max_size=16),
    st.builds(NSURLValue, st.sampled_from(["https://a.example/", "tel:123", "mailto:x@y.z"])),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
attribute_dicts = st.dictionaries(st.sampled_from(
    ["__kIMMessagePartAttributeName", "__kIMTextBoldAttributeName", "k", "é😀"]), values,
    max_size=4)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, list[tuple[int, dict[str, object]]]]:
    text = draw(texts)
    total = utf16_length(text)
    cuts = sorted(draw(st.lists(st.integers(0, total), max_size=5)))
    edges = [0, *cuts, total]
    shared = draw(attribute_dicts)
    runs: list[tuple[int, dict[str, object]]] = [
        (b - a, shared if draw(st.booleans()) else draw(attribute_dicts))
        for a, b in itertools.pairwise(edges)]
    return text, runs


@FAST
@given(bodies())
def test_encode_decode_round_trip(body: tuple[str, list[tuple[int, dict[str, object]]]]) -> None:
    text, runs = body
    blob = encode_attributed_body(text, runs)
    cold = ts.decode_uncached(blob)
    warm = decode_attributed_body(blob)
    assert cold == warm
    assert cold.text == text and cold.class_name == "NSMutableAttributedString"
    assert [run.length for run in cold.runs] == [length for length, _ in runs]
    for got, (_, want) in zip(cold.runs, runs, strict=True):
        assert got.attributes == want
    to_expected_shape(cold)  # shapes without error
    body_parts(cold, [])
    assert typedstream.unarchive_from_data(blob) is not None  # an independent decoder agrees


def _only_undecodable(call: object, *args: object) -> None:
    with contextlib.suppress(UndecodableError):
        call(*args)  # type: ignore[operator]


@FAST
@given(st.binary(max_size=300))
def test_random_bytes(blob: bytes) -> None:
    _only_undecodable(decode_attributed_body, blob)
    _only_undecodable(decode_attributed_body, b"\x04\x0bstreamtyped\x81\xe8\x03" + blob)
    _only_undecodable(parse_summary_info, blob)
    _only_undecodable(parse_payload, "com.apple.messages.URLBalloonProvider", blob)
    salvaged = ts.salvage_text(b"\x04\x0bstreamtyped\x81\xe8\x03AttributedString\x00" + blob)
    assert salvaged is None or isinstance(salvaged, str)  # never raises


def _mutate(data: st.DataObject, blob: bytes) -> bytes:
    mutated = bytearray(blob)
    for _ in range(data.draw(st.integers(1, 6))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if not mutated:
            break
        at = data.draw(st.integers(0, len(mutated) - 1))
        if action == "flip":
            mutated[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del mutated[at:]
        elif action == "insert":
            mutated[at:at] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del mutated[at : at + data.draw(st.integers(1, 8))]
    return bytes(mutated)


ENCODED = [
    encode_attributed_body("Hi 😀\ufffc", [(5, {"__kIMMessagePartAttributeName": 0}),
                                           (1, {"__kIMFileTransferGUIDAttributeName": "G"})]),
    encode_attributed_body("x", [(1, {"u": NSURLValue("b", NSURLValue("https://a/")),
                                      "l": [1, 2.5, b"z"], "d": {"n": True}})]),
]


@FAST
@given(st.data())
def test_mutated_encoded_blobs(data: st.DataObject) -> None:
    blob = _mutate(data, data.draw(st.sampled_from(ENCODED)))
    for decode in (ts.decode_uncached, decode_attributed_body):
        _only_undecodable(lambda b, decode=decode: to_expected_shape(decode(b)), blob)


@FAST
@given(st.data())
def test_mutated_real_blobs(realdata: Path, data: st.DataObject) -> None:
    files = sorted(p for p in (realdata / "typedstream").iterdir()
                   if p.name not in ("expected.json", "HugeWithRefs"))
    blob = _mutate(data, data.draw(st.sampled_from(files)).read_bytes())
    _only_undecodable(lambda b: body_parts(decode_attributed_body(b), ["a"]), blob)
    salvaged = ts.salvage_text(blob)
    assert salvaged is None or isinstance(salvaged, str)


@FAST
@given(st.data())
def test_mutated_plists(realdata: Path, data: st.DataObject) -> None:
    plists = sorted((realdata / "plists").iterdir())
    source = data.draw(st.sampled_from(plists)).read_bytes()
    blob = _mutate(data, source)
    _only_undecodable(parse_summary_info, blob)
    bundle = data.draw(st.sampled_from([None, "com.apple.messages.URLBalloonProvider",
                                        "com.apple.findmy.FindMyMessagesApp", "x"]))
    _only_undecodable(parse_payload, bundle, blob)


@FAST
@given(st.data())
def test_mutated_encoded_plists(data: st.DataObject) -> None:
    from datetime import UTC, datetime

    sources = [encode_url_payload("https://e.x/", "t", "s", "site"),
               encode_summary_info({0: [(datetime(2024, 1, 1, tzinfo=UTC), "a")]}, [0])]
    blob = _mutate(data, data.draw(st.sampled_from(sources)))
    _only_undecodable(parse_summary_info, blob)
    _only_undecodable(parse_payload, None, blob)


@pytest.mark.parametrize("size", [10, 100_000])
def test_long_text_decodes(size: int) -> None:
    text = "ab😀" * size
    blob = encode_attributed_body(text, [(utf16_length(text), {"k": 1})])
    assert decode_attributed_body(blob).text == text


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",))), st.integers(-2, 2))
def test_text_of_units_counts_utf16_as_encoding_does(text: str, off: int) -> None:
    """The cache's check reads the UTF-16 length off the UTF-8 bytes it already has."""
    from coldtexts.messages.typedstream_model import text_of_units

    units = utf16_length(text) + off
    assert text_of_units(text.encode("utf-8"), units) == (text if off == 0 else None)
    assert text_of_units(b"\xff" + text.encode("utf-8"), units) is None
