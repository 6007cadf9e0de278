"""A focused, fast decoder of Apple's NSArchiver typedstream ("streamtyped") format.

Messages stores `message.attributedBody` as a typedstream of an NS(Mutable)AttributedString
(smsdb.md §4). The format is self-describing: every value group is prefixed by its
Objective-C type encoding, so any object graph can be read generically; the foundation
classes that matter here (NSString, NSNumber, NSDictionary, NSArray, NSURL, NSData) are
then turned into plain Python values and everything else is kept as an `ArchivedObject`.

Safety: every loop is bounded by the buffer, nesting depth is capped, lengths are checked
against the bytes left, and any failure surfaces as `UndecodableError` only.

The parser lives in typedstream_wire.py (primitives) and typedstream_objects.py (values and
objects); this module is the public face: decoding an attributedBody (with its caches),
the expected.json shape, and salvage of damaged bodies.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from coldtexts.errors import UndecodableError
from coldtexts.messages import typedstream_shapes
from coldtexts.messages.typedstream_model import (
    _ATTRIBUTED,
    MALFORMED,
    MAX_DEPTH,
    NOT_ATTRIBUTED,
    ArchivedObject,
    AttributedString,
    AttributeRun,
    NSURLValue,
    new_attribute_run,
    new_attributed_string,
    text_of_units,
    utf16_length,
)
from coldtexts.messages.typedstream_objects import _root_state
from coldtexts.messages.typedstream_shapes import TRANSFER_KEY
from coldtexts.messages.typedstream_wire import (
    _CHAIN_CACHE,
    _FIRST_REF,
    _INT16,
    _INT32,
    _NIL,
    _State,
    split_encodings,
)

__all__ = [
    "MALFORMED",
    "NOT_ATTRIBUTED",
    "ArchivedObject",
    "AttributeRun",
    "AttributedString",
    "NSURLValue",
    "cached_one_run",
    "clear_cache",
    "decode",
    "decode_attributed_body",
    "salvage_text",
    "simplify",
    "split_encodings",
    "to_expected_shape",
    "utf16_length",
]

_DECODE_FAILURES = (IndexError, KeyError, ValueError, TypeError, struct.error, OverflowError,
                    RecursionError)


def _as_bytes(blob: object) -> bytes:
    if isinstance(blob, bytes):
        return blob
    if isinstance(blob, bytearray | memoryview):
        return bytes(blob)
    raise UndecodableError(MALFORMED)


def _decode_state(blob: bytes) -> tuple[Any, _State]:
    try:
        return _root_state(blob)
    except UndecodableError:
        raise
    except _DECODE_FAILURES as exc:
        raise UndecodableError(MALFORMED) from exc


def decode(blob: bytes) -> Any:
    """The root value of any typedstream, as plain Python values and `ArchivedObject`s."""
    return _decode_state(_as_bytes(blob))[0]


# The run cache. Bodies differ mostly in their text; the bytes before the text (header and
# class chains) come in a handful of variants, and the bytes after it (the runs) repeat for
# messages of the same shape and length. The text is an unshared string that touches no
# table, so decoding (prefix, suffix) gives the same runs whatever the text: cache them.
_PREFIXES: list[bytes] = []
_MAX_PREFIXES = 16
_RUNS_CACHE: dict[tuple[bytes, bytes], tuple[str, tuple[AttributeRun, ...], int]] = {}
# One-run bodies (most messages) are keyed without their run length, which only restates
# the text's length: then every plain message with the same attributes shares one entry.
# Bodies of several runs, or with an attachment's GUID, are read from templates cut at
# those values (typedstream_shapes); _RUNS_CACHE keeps the rest whole.
_ONE_RUN_CACHE: dict[tuple[bytes, bytes, bytes], tuple[str, Mapping[str, object]]] = {}
_MAX_RUNS_CACHE = 8192
_MAX_CACHED_SUFFIX = 1024
cache_enabled = True  # benchmarks switch it off to measure the full decoder


def decode_uncached(blob: object) -> AttributedString:
    """decode_attributed_body() by the full decoder alone, the cache neither read nor
    filled: what tests and benchmarks compare the cached paths with."""
    global cache_enabled
    was, cache_enabled = cache_enabled, False
    try:
        return decode_attributed_body(blob)
    finally:
        cache_enabled = was


def clear_cache() -> None:
    """Forget every cached decoding (benchmarks start each pass from empty caches)."""
    _PREFIXES.clear()
    _RUNS_CACHE.clear()
    _ONE_RUN_CACHE.clear()
    typedstream_shapes.SHAPES.clear()
    _CHAIN_CACHE.clear()


def decode_attributed_body(blob: object) -> AttributedString:
    """Decode a `message.attributedBody` blob into its text and attribute runs."""
    data = _as_bytes(blob)
    if cache_enabled:
        for prefix in _PREFIXES:
            if data.startswith(prefix):
                cached = _from_cache(data, prefix)
                if cached is not None:
                    return cached
                break
    root, st = _decode_state(data)
    if not isinstance(root, ArchivedObject) or root.kind != _ATTRIBUTED:
        raise UndecodableError(NOT_ATTRIBUTED)
    body = _attributed(root)
    if cache_enabled and st.text_span is not None and isinstance(root.fields[0], str):
        _remember(data, st, body)
    return body


def cached_one_run(blob: object) -> tuple[str, Mapping[str, object]] | None:
    """The text and attributes of a body the cache knows as one run over its whole text
    (most messages), without building an AttributedString; None when the cache cannot
    say (decode_attributed_body then decodes it). Equal to decoding it: tested."""
    if not cache_enabled or type(blob) is not bytes:
        return None
    for prefix in _PREFIXES:
        if blob.startswith(prefix):
            return _one_run_from_cache(blob, prefix)
    return None


def _from_cache(data: bytes, prefix: bytes) -> AttributedString | None:
    text_span = _text_span(data, len(prefix))
    if text_span is None:
        return None
    text_start, text_end = text_span
    split = _first_run_length(data, text_end)
    if split is not None:
        length_start, length_end, run_length = split
        head = data[text_end:length_start]
        one = _ONE_RUN_CACHE.get((prefix, head, data[length_end:]))
        if one is not None:
            text = text_of_units(data[text_start:text_end], run_length)
            if text is None:
                return None
            return new_attributed_string(one[0], text,
                                         (new_attribute_run(run_length, one[1]),))
        shapes = typedstream_shapes.SHAPES.get((prefix, head))
        if shapes:
            found = typedstream_shapes.filled(shapes, data, length_end, run_length)
            if found is not None:
                return _cached_body(data, text_start, text_end, found)
    hit = _RUNS_CACHE.get((prefix, data[text_end:]))
    if hit is None:
        return None
    return _cached_body(data, text_start, text_end, hit)


def _cached_body(data: bytes, text_start: int, text_end: int,
                 found: tuple[str, tuple[AttributeRun, ...], int]) -> AttributedString | None:
    """The body of cached runs and this text, if the runs cover exactly the text."""
    class_name, runs, total = found
    text = text_of_units(data[text_start:text_end], total)
    if text is None:
        return None
    return new_attributed_string(class_name, text, runs)


def _one_run_from_cache(data: bytes, prefix: bytes
                        ) -> tuple[str, Mapping[str, object]] | None:
    """(text, attributes) of a body of a cached one-run shape, or None. The same steps
    as _from_cache's first branch, with the commonest text (shorter than 128 bytes,
    ASCII) read inline: this runs for most messages."""
    start = len(prefix)
    head = data[start] if start < len(data) else _NIL
    if head < 0x80:
        text_start, text_end = start + 1, start + 1 + head
        if text_end > len(data):
            return None
    else:
        text_span = _text_span(data, start)
        if text_span is None:
            return None
        text_start, text_end = text_span
    split = _first_run_length(data, text_end)
    if split is None:
        return None
    length_start, length_end, run_length = split
    one = _ONE_RUN_CACHE.get((prefix, data[text_end:length_start], data[length_end:]))
    if one is None:
        return None
    text = text_of_units(data[text_start:text_end], run_length)
    if text is None:
        return None
    return text, one[1]


def _text_span(data: bytes, start: int) -> tuple[int, int] | None:
    """Where the body text's bytes lie when its length prefix starts at `start`."""
    head = data[start] if start < len(data) else _NIL
    if head < 0x80:
        length, text_start = head, start + 1
    elif head in (_INT16, _INT32):
        size = 2 if head == _INT16 else 4
        text_start = start + 1 + size
        length = int.from_bytes(data[start + 1 : text_start], "little")
    else:
        return None
    text_end = text_start + length
    if text_end > len(data):
        return None
    return text_start, text_end


def _utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _first_run_length(data: bytes, text_end: int) -> tuple[int, int, int] | None:
    """Where the first run's length sits, in the layout Apple writes after the text:
    end of the string object, the "iI" encoding (new or by reference), a one-byte
    dictionary index, then the length (an unsigned typedstream integer)."""
    pos = text_end
    if data[pos : pos + 1] != b"\x86":
        return None
    pos += 1
    if data[pos : pos + 4] == b"\x84\x02iI":
        pos += 4
    elif pos < len(data) and data[pos] >= _FIRST_REF:
        pos += 1
    else:
        return None
    if pos + 1 >= len(data) or data[pos] >= 0x80:
        return None
    start = pos + 1
    head = data[start]
    if head < 0x80 or head >= _FIRST_REF:
        return start, start + 1, head
    size = 2 if head == _INT16 else 4 if head == _INT32 else 0
    if not size or start + 1 + size > len(data):
        return None
    return start, start + 1 + size, int.from_bytes(data[start + 1 : start + 1 + size], "little")


def _remember(data: bytes, st: _State, body: AttributedString) -> None:
    span = st.text_span
    assert span is not None
    prefix, suffix = data[: span[0]], data[span[1] :]
    if len(suffix) > _MAX_CACHED_SUFFIX or data[2:13] != b"streamtyped":
        return  # only little-endian streams (all of Apple's); big suffixes are rare
    if prefix not in _PREFIXES:
        if len(_PREFIXES) >= _MAX_PREFIXES:
            return
        _PREFIXES.append(prefix)
    shapes = typedstream_shapes.SHAPES
    if len(_RUNS_CACHE) + len(_ONE_RUN_CACHE) + len(shapes) >= _MAX_RUNS_CACHE:
        _RUNS_CACHE.clear()
        _ONE_RUN_CACHE.clear()
        shapes.clear()
    split = _first_run_length(data, span[1])
    if body.runs and split is not None and split[2] == body.runs[0].length:
        head = data[span[1] : split[0]]
        if len(body.runs) == 1 and TRANSFER_KEY not in body.runs[0].attributes:
            _ONE_RUN_CACHE[(prefix, head, data[split[1] :])] = (body.class_name,
                                                               body.runs[0].attributes)
            return
        if typedstream_shapes.remember((prefix, head), data, split[1], st, body):
            return
    total = sum(run.length for run in body.runs)
    _RUNS_CACHE[(prefix, suffix)] = (body.class_name, body.runs, total)


def _attributed(root: ArchivedObject) -> AttributedString:
    encoding, fields = root.encoding, root.fields
    if encoding[:1] != b"@" or not (fields[0] is None or isinstance(fields[0], str)):
        raise UndecodableError(MALFORMED)
    text: str = fields[0] or ""
    dictionaries: dict[int, Mapping[str, object]] = {}
    runs: list[AttributeRun] = []
    total = 0
    position = 1
    size = len(encoding)
    while position < size:
        if encoding[position : position + 2] != b"iI":
            raise UndecodableError(MALFORMED)
        index, length = fields[position], fields[position + 1]
        position += 2
        if position < size and encoding[position] == 0x40:  # '@': a dictionary first used here
            attributes = fields[position]
            position += 1
            if not isinstance(attributes, dict):
                raise UndecodableError(MALFORMED)
            dictionaries[index] = attributes
        found = dictionaries.get(index)
        if found is None or length < 0:
            raise UndecodableError(MALFORMED)
        runs.append(AttributeRun(length, found))
        total += length
    if total != utf16_length(text):
        raise UndecodableError(MALFORMED)
    return AttributedString(root.class_name, text, tuple(runs))


# -- the simplified shape of realdata/typedstream/expected.json --------------------------
_SHAPE_BUDGET = 200_000  # values; shared references could otherwise expand exponentially


def to_expected_shape(body: AttributedString) -> dict[str, Any]:
    """{"class", "text", "runs": [{"length", "attributes"}]} with simplified values."""
    budget = [_SHAPE_BUDGET]
    return {
        "class": body.class_name,
        "text": body.text,
        "runs": [
            {"length": run.length, "attributes": _shape_mapping(run.attributes, budget, 0)}
            for run in body.runs
        ],
    }


def simplify(value: object) -> Any:
    """One attribute value in the expected.json shape (NSURL -> {"url": ...}, etc.)."""
    return _shape(value, [_SHAPE_BUDGET], 0)


def _shape_mapping(mapping: Mapping[Any, object], budget: list[int], depth: int) -> Any:
    return {_shape_key(key): _shape(value, budget, depth + 1) for key, value in mapping.items()}


def _shape_key(key: object) -> str:
    return key if isinstance(key, str) else repr(key)


def _shape(value: object, budget: list[int], depth: int) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise UndecodableError(MALFORMED)
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, bytes):
        from base64 import b64encode

        return {"data_b64": b64encode(value).decode("ascii")}
    if isinstance(value, NSURLValue):
        if value.base is None:
            return {"url": value.url}
        return {"url": {"base": _shape(value.base, budget, depth + 1), "relative": value.url}}
    if isinstance(value, dict):
        return _shape_mapping(value, budget, depth)
    if isinstance(value, list | tuple):
        return [_shape(item, budget, depth + 1) for item in value]
    if isinstance(value, ArchivedObject):
        return {"object": value.class_name}
    return {"object": type(value).__name__}


# -- salvage --------------------------------------------------------------------------------



def salvage_text(blob: bytes) -> str | None:
    """The body text of a damaged attributedBody whose structure cannot be decoded, when
    the text string itself is intact: the first '+' string value, read with its real
    length prefix (not scanned up to a terminator, which truncates or pads long texts).
    None when no complete, valid UTF-8 text is there. Use only after decoding failed."""
    if not isinstance(blob, bytes | bytearray) or blob[2:13] != b"streamtyped":
        return None
    data = bytes(blob)
    start = data.find(b"\x84\x01+")  # the first '+' type encoding, written as new
    if start < 0 or b"AttributedString\x00" not in data[:start]:
        return None  # no text, or not an attributed string's
    pos = start + 3
    if pos >= len(data):
        return None
    head = data[pos]
    if head < 0x80:
        length, pos = head, pos + 1
    elif head in (_INT16, _INT32):
        size = 2 if head == _INT16 else 4
        length = int.from_bytes(data[pos + 1 : pos + 1 + size], "little")
        pos += 1 + size
    else:
        return None
    if pos + length > len(data):
        return None
    return _utf8(data[pos : pos + length])
