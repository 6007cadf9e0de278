"""The run cache's templates (typedstream_shapes): a body of a shape seen before is read
by filling in its run lengths and transfer GUIDs, and reads exactly as the decoder reads it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coldtexts.errors import UndecodableError
from coldtexts.fixtures.typedstream_writer import encode_attributed_body
from coldtexts.messages import typedstream as ts
from coldtexts.messages import typedstream_objects, typedstream_shapes
from coldtexts.messages.typedstream import decode_attributed_body, utf16_length

PART = "__kIMMessagePartAttributeName"
BOLD = "__kIMTextBoldAttributeName"
GUID = "__kIMFileTransferGUIDAttributeName"


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    ts.clear_cache()
    yield
    ts.clear_cache()


def _bold_first_word(text: str) -> bytes:
    head, tail = text.split(" ", 1)
    return encode_attributed_body(text, [(utf16_length(head) + 1, {PART: 0, BOLD: 1}),
                                         (utf16_length(tail), {PART: 0})])


def _photo(guid: str, text: str = "") -> bytes:
    runs: list[tuple[int, dict[str, object]]] = []
    if text:
        runs.append((utf16_length(text), {PART: 0}))
    runs.append((1, {PART: len(runs), GUID: guid}))
    return encode_attributed_body(text + "\ufffc", runs)


def _decoder_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(data: bytes) -> object:
        raise AssertionError("the decoder ran: the template did not serve this body")
    monkeypatch.setattr(ts, "_root_state", refuse)


def test_a_second_formatted_body_is_served_from_its_template(
        monkeypatch: pytest.MonkeyPatch) -> None:
    decode_attributed_body(_bold_first_word("hello there"))
    assert sum(len(shapes) for shapes in typedstream_shapes.SHAPES.values()) == 1
    second = _bold_first_word("Goodbye 😀 and " + "much more text " * 20)  # a 2-byte length
    want = ts.decode_uncached(second)
    _decoder_forbidden(monkeypatch)
    got = decode_attributed_body(second)
    assert got == want
    assert [run.length for run in got.runs] == [8, utf16_length(got.text) - 8]


def test_a_photo_gets_its_own_transfer_guid(monkeypatch: pytest.MonkeyPatch) -> None:
    decode_attributed_body(_photo("at_0_AAAA"))
    decode_attributed_body(_photo("at_0_CCCC", "look"))
    second, with_text = _photo("at_0_BBBBBBBB"), _photo("at_0_DDDD", "look at this 🐈")
    want = [ts.decode_uncached(second), ts.decode_uncached(with_text)]
    _decoder_forbidden(monkeypatch)
    got = [decode_attributed_body(second), decode_attributed_body(with_text)]
    assert got == want
    assert got[0].runs[0].attributes == {PART: 0, GUID: "at_0_BBBBBBBB"}
    assert got[1].runs[1].attributes[GUID] == "at_0_DDDD"


def test_lengths_that_do_not_cover_the_text_are_left_to_the_decoder() -> None:
    decode_attributed_body(_bold_first_word("hello there"))
    lying = _bold_first_word("hi you").replace(b"\x99\x02\x03", b"\x99\x02\x04")
    assert lying != _bold_first_word("hi you")
    with pytest.raises(UndecodableError, match="malformed"):
        decode_attributed_body(lying)


def test_a_guid_found_twice_is_not_cut_out() -> None:
    """The second value is written as a reference to the first: a template cut at the
    first alone would fill it in and leave the second as the earlier body had it."""
    decode_attributed_body(encode_attributed_body(
        "\ufffc", [(1, {PART: 0, GUID: "at_0_SAME", "again": "at_0_SAME"})]))
    other = encode_attributed_body(
        "\ufffc", [(1, {PART: 0, GUID: "at_0_ELSE", "again": "at_0_ELSE"})])
    assert decode_attributed_body(other) == ts.decode_uncached(other)
    assert decode_attributed_body(other).runs[0].attributes["again"] == "at_0_ELSE"


def test_the_decoder_records_where_lengths_and_short_strings_lie() -> None:
    blob = _photo("at_0_AAAA", "hi")
    _, state = typedstream_objects._root_state(blob)
    assert [blob[start:end] for start, end in state.run_lengths] == [b"\x02", b"\x01"]
    assert any(text == "at_0_AAAA" and blob[head] == 9 for head, _, text in state.short_strings)


# -- property: any body read after a body of the same shape reads as the decoder reads it --
words = st.text(st.characters(codec="utf-8", exclude_characters="\ufffc\ufffd"),
                min_size=1, max_size=150)
guids = st.text(st.characters(codec="utf-8"), min_size=1, max_size=60)
attributes = st.fixed_dictionaries({PART: st.integers(0, 3)}, optional={
    BOLD: st.just(1), "__kIMTextItalicAttributeName": st.just(1), "k": st.integers(-300, 300)})
shapes = st.lists(st.tuples(attributes, st.booleans()), min_size=1, max_size=4)


@settings(deadline=None, max_examples=200,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=shapes, first=st.data())
def test_same_shape_reads_as_the_decoder_reads_it(
        shape: list[tuple[dict[str, object], bool]], first: st.DataObject) -> None:
    """Runs of text or photos (with GUIDs); two bodies of one shape, any texts."""
    blobs = []
    for _ in range(2):
        text, runs = "", []
        for attrs, photo in shape:
            piece = "\ufffc" if photo else first.draw(words)
            text += piece
            runs.append((utf16_length(piece),
                         {**attrs, GUID: first.draw(guids)} if photo else attrs))
        blobs.append(encode_attributed_body(text, runs))
    ts.clear_cache()
    for blob in blobs:
        assert decode_attributed_body(blob) == ts.decode_uncached(blob)
