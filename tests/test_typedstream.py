"""The typedstream decoder: real-device conformance, format corners, and errors."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from coldtexts.errors import UndecodableError
from coldtexts.fixtures.typedstream_writer import NSURLValue, encode_attributed_body
from coldtexts.messages import typedstream as ts
from coldtexts.messages.typedstream import (
    ArchivedObject,
    decode,
    decode_attributed_body,
    to_expected_shape,
)

HEADER = b"\x04\x0bstreamtyped\x81\xe8\x03"


def _shape_or_error(blob: bytes) -> dict[str, object]:
    try:
        return to_expected_shape(decode_attributed_body(blob))
    except UndecodableError as exc:
        return {"error": str(exc)}


@pytest.mark.parametrize("cached", [False, True])
def test_every_real_blob_decodes_exactly_as_expected(realdata: Path, cached: bool) -> None:
    folder = realdata / "typedstream"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    assert len(expected) >= 28
    ts.clear_cache()
    for _ in range(2 if cached else 1):  # the second pass is served from the run cache
        for name, want in expected.items():
            got = _shape_or_error((folder / name).read_bytes())
            assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True), name


def test_real_blob_details(realdata: Path) -> None:
    folder = realdata / "typedstream"
    emoji = decode_attributed_body((folder / "EmojiBoldUnderline").read_bytes())
    assert emoji.text == "🅱️Bold_Underline"
    assert [run.length for run in emoji.runs] == [3, 4, 1, 9]  # UTF-16 units, not chars
    long = decode_attributed_body((folder / "LongMessage").read_bytes())
    assert len(long.text) == 2359 and long.text.startswith("Sed nibh velit,")
    with pytest.raises(UndecodableError, match=r"^not an attributed string$"):
        decode_attributed_body((folder / "HugeWithRefs").read_bytes())
    with pytest.raises(UndecodableError, match=r"^malformed$"):
        decode_attributed_body((folder / "ExtraData").read_bytes())
    graph = decode((folder / "HugeWithRefs").read_bytes())
    assert isinstance(graph, list) and isinstance(graph[0], list)  # NSMutableArray of arrays
    assert "ArchivedObject(class_name='ROI'" in repr(graph[0][6])  # an app's own class, kept


def test_cached_and_uncached_decodes_agree_on_new_text() -> None:
    ts.clear_cache()
    first = decode_attributed_body(encode_attributed_body("hello", [(5, {"k": 1})]))
    second = decode_attributed_body(encode_attributed_body("world", [(5, {"k": 1})]))
    assert (first.text, second.text) == ("hello", "world")
    assert second.runs == first.runs
    # same suffix but a text whose UTF-16 length differs must not be served from the cache
    blob = encode_attributed_body("hello", [(5, {"k": 1})]).replace(b"\x05hello", b"\x04hell")
    with pytest.raises(UndecodableError):
        decode_attributed_body(blob)


def test_values_of_every_supported_class_round_trip() -> None:
    attributes = {
        "str": "é", "int": -7, "big": 70000, "neg_big": -3_000_000_000 // 2, "float": 2.5,
        "bool": True, "data": b"\x00\xff", "url": NSURLValue("https://example.com/a"),
        "rel": NSURLValue("b/c", NSURLValue("https://example.com/")), "list": [1, "x"],
        "dict": {"nested": {"deep": 1}},
    }
    body = decode_attributed_body(encode_attributed_body("ab", [(2, attributes)]))
    got = body.runs[0].attributes
    assert got["str"] == "é" and got["int"] == -7 and got["big"] == 70000
    assert got["neg_big"] == -1_500_000_000 and got["float"] == 2.5 and got["bool"] == 1
    assert got["data"] == b"\x00\xff"
    assert got["url"] == NSURLValue("https://example.com/a")
    rel = got["rel"]
    assert isinstance(rel, NSURLValue) and rel.absolute == "https://example.com/b/c"
    assert got["list"] == [1, "x"] and got["dict"] == {"nested": {"deep": 1}}
    shape = to_expected_shape(body)["runs"][0]["attributes"]
    assert shape["rel"] == {"url": {"base": {"url": "https://example.com/"}, "relative": "b/c"}}
    assert shape["data"] == {"data_b64": "AP8="}


def test_repeated_runs_share_one_dictionary_index() -> None:
    part = {"__kIMMessagePartAttributeName": 0}
    blob = encode_attributed_body("a b", [(1, part), (1, {"x": 1}), (1, part)])
    assert blob.count(b"NSDictionary") == 1 and blob.count(b"__kIMMessagePart") == 1
    body = decode_attributed_body(blob)
    assert body.runs[0].attributes is body.runs[2].attributes


def _string_object(text: bytes, *, first: bool = True) -> bytes:
    return b"\x84\x84\x84\x08NSString\x01\x84\x84\x08NSObject\x00\x85\x84\x01+" + bytes(
        [len(text)]) + text + b"\x86"


def test_unknown_class_nsvalue_struct_and_floats_are_kept() -> None:
    # root: an unknown class holding a float, a double, an NSValue with a struct, a C
    # string twice (the second is a back-reference), a class, and an array of ints
    body = (
        HEADER + b"\x84\x01@"
        + b"\x84\x84\x84\x07Gizmo42\x03\x84\x84\x08NSObject\x00\x85"  # class chain
        + b"\x84\x01f\x83" + struct.pack("<f", 1.5)
        + b"\x84\x01d\x83" + struct.pack("<d", -0.25)
        + b"\x96\x05"  # a double stored as a small integer ("d" by reference)
        + b"\x92\x84\x84\x84\x07NSValue\x00\x94"  # NSValue (superclass NSObject=#2)
        + b"\x84\x01*\x84\x84\x0d{_NSRange=QQ}"  # a new C string: object #5, string #7
        + b"\x99\x01\x81\x00\x01\x86"  # the struct's values: 1, 256 (int16)
        + b"\x98\x97"  # '*' again, the C string by reference (object #5)
        + b"\x84\x01#\x94"  # a class by reference (NSObject)
        + b"\x84\x04[3i]\x01\x82\x00\x00\x01\x00\xff"  # ints: 1, 65536 (int32), -1
        + b"\x86"
    )
    root = decode(body)
    assert isinstance(root, ArchivedObject) and root.class_name == "Gizmo42"
    fields = root.fields
    assert fields[0] == 1.5 and fields[1] == -0.25 and fields[2] == 5.0
    value = fields[3]
    assert isinstance(value, ArchivedObject) and value.class_name == "NSValue"
    assert value.fields == (b"{_NSRange=QQ}", (1, 256))
    assert fields[4] == b"{_NSRange=QQ}"
    assert isinstance(fields[5], ArchivedObject) and fields[5].class_name == "NSObject"
    assert fields[6] == [1, 65536, -1]
    with pytest.raises(UndecodableError, match="not an attributed string"):
        decode_attributed_body(body)
    assert ts.simplify(value) == {"object": "NSValue"}


def test_big_endian_stream_decodes() -> None:
    body = (b"\x04\x0btypedstream\x81\x03\xe8\x84\x01@" + _string_object(b"hi"))
    assert decode(body) == "hi"


@pytest.mark.parametrize("blob", [
    b"", b"\x04", HEADER, HEADER + b"\x84\x01@", b"\x03\x0bstreamtyped\x81\xe8\x03",
    b"\x04\x0bstreamtypeX\x81\xe8\x03\x84\x01@\x85",
    HEADER + b"\x84\x01@" + _string_object(b"hi") + b"\x00",  # trailing data
    HEADER + b"\x84\x01@\x84\x84\x84\x08NSString\x01\x85\x84\x01+\x7fhi\x86",  # length > data
    HEADER + b"\x84\x01@\x84\x84\x84\x08NSString\x01\x85\x84\x01+\x02\xff\xfe\x86",  # bad UTF-8
    HEADER + b"\x84\x01@\x84\x84\x84\x08NSString\x01\x85\x84\x01+\x02hi\x92",  # ref to object 0
    HEADER + b"\x84\x01@\x84\x84\x84\x01X\x00\x85\x84\x04[9i]\x01\x86",  # array past the end
    HEADER + b"\x84\x01@\x84\x84\x84\x01X\x00\x85\x84\x03{a=\x86",  # broken struct encoding
    HEADER + b"\x84\x01@\x84\x84\x84\x01X\x00\x85\x84\x01b\x01\x86",  # unsupported type
    HEADER + b"\x84\x01@\xf0",  # reference to nothing
])
def test_bad_streams_raise_only_undecodable(blob: bytes) -> None:
    with pytest.raises(UndecodableError, match=r"^malformed$"):
        decode_attributed_body(blob)


def test_nesting_is_bounded() -> None:
    nested = HEADER + b"\x84\x01@" + b"\x84\x84\x84\x07NSArray\x00\x85\x84\x02i@\x01" + (
        b"\x84\x95\x84\x02i@\x01" * 200) + b"\x85" + b"\x86" * 201
    with pytest.raises(UndecodableError, match="malformed"):
        decode(nested)


def test_cycles_are_cut_not_followed() -> None:
    # an array whose only element is the array itself (reference to object #0)
    cyclic = HEADER + b"\x84\x01@\x84\x84\x84\x07NSArray\x00\x85\x84\x02i@\x01\x92\x86"
    root = decode(cyclic)
    assert root == [ArchivedObject("NSArray")]


def test_non_bytes_input_is_undecodable() -> None:
    with pytest.raises(UndecodableError):
        decode_attributed_body("text")  # type: ignore[arg-type]
    blob = encode_attributed_body("ok", [(2, {})])
    assert decode_attributed_body(memoryview(blob)).text == "ok"  # type: ignore[arg-type]


def test_one_run_cache_serves_any_length_and_still_checks_it() -> None:
    ts.clear_cache()
    part = {"__kIMMessagePartAttributeName": 0}
    short = decode_attributed_body(encode_attributed_body("hello", [(5, part)]))
    assert len(ts._ONE_RUN_CACHE) == 1
    longer_blob = encode_attributed_body("hi there, 😀", [(12, part)])
    longer = decode_attributed_body(longer_blob)  # served from the same entry
    assert len(ts._ONE_RUN_CACHE) == 1
    assert (longer.text, longer.runs[0].length) == ("hi there, 😀", 12)
    assert longer.runs[0].attributes == short.runs[0].attributes == part
    lying = longer_blob.replace(b"iI\x01\x0c", b"iI\x01\x0b")  # length 11 for 12 units
    assert lying != longer_blob
    with pytest.raises(UndecodableError, match="malformed"):
        decode_attributed_body(lying)


def test_salvage_text_reads_intact_texts_only(realdata: Path) -> None:
    folder = realdata / "typedstream"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    for name, want in expected.items():
        if "text" in want:
            assert ts.salvage_text((folder / name).read_bytes()) == want["text"], name
    assert ts.salvage_text((folder / "ExtraData").read_bytes()) is None  # text cut short
    assert ts.salvage_text((folder / "HugeWithRefs").read_bytes()) is None  # not a body
    long = "long text " * 300  # a two-byte length prefix
    blob = encode_attributed_body(long, [(len(long), {})])
    damaged = blob[:-3]
    with pytest.raises(UndecodableError):
        decode_attributed_body(damaged)
    assert ts.salvage_text(damaged) == long
    assert ts.salvage_text(b"junk") is None
