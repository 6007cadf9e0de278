"""A focused, fast decoder of Apple's NSArchiver typedstream ("streamtyped") format.

Messages stores `message.attributedBody` as a typedstream of an NS(Mutable)AttributedString
(smsdb.md §4). The format is self-describing: every value group is prefixed by its
Objective-C type encoding, so any object graph can be read generically; the foundation
classes that matter here (NSString, NSNumber, NSDictionary, NSArray, NSURL, NSData) are
then turned into plain Python values and everything else is kept as an `ArchivedObject`.

Safety: every loop is bounded by the buffer, nesting depth is capped, lengths are checked
against the bytes left, and any failure surfaces as `UndecodableError` only.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from coldtexts.errors import UndecodableError

MALFORMED = "malformed"
NOT_ATTRIBUTED = "not an attributed string"

MAX_DEPTH = 64  # real bodies nest 4-5 objects deep
_MAX_ENCODING_CACHE = 512

_INT16 = 0x81
_INT32 = 0x82
_FLOAT = 0x83
_NEW = 0x84
_NIL = 0x85
_END = 0x86
_FIRST_REF = 0x92  # reference number 0 in a head byte
_REF_BIAS = 110  # a multi-byte reference stores (index - 110)

# What a class is to us: the first known class in its chain decides.
_OTHER, _STRING, _NUMBER, _VALUE, _DICT, _ARRAY, _URL, _DATA, _ATTRIBUTED = range(9)
_KNOWN_KINDS: dict[str, int] = {
    "NSString": _STRING,
    "NSMutableString": _STRING,
    "NSNumber": _NUMBER,
    "NSValue": _VALUE,
    "NSDictionary": _DICT,
    "NSMutableDictionary": _DICT,
    "NSArray": _ARRAY,
    "NSMutableArray": _ARRAY,
    "NSURL": _URL,
    "NSData": _DATA,
    "NSMutableData": _DATA,
    "NSAttributedString": _ATTRIBUTED,
    "NSMutableAttributedString": _ATTRIBUTED,
    "NSObject": _OTHER,
}


@dataclass(frozen=True, slots=True)
class NSURLValue:
    """An NSURL: `url` is the string as archived, relative to `base` when there is one."""

    url: str
    base: NSURLValue | None = None

    @property
    def absolute(self) -> str:
        if self.base is None:
            return self.url
        from urllib.parse import urljoin

        return urljoin(self.base.absolute, self.url)


@dataclass(frozen=True, slots=True)
class ArchivedObject:
    """An object of a class we do not turn into a Python value (kept by class name)."""

    class_name: str
    fields: tuple[Any, ...] = field(default=(), compare=False, hash=False)
    encoding: bytes = field(default=b"", compare=False, hash=False)
    kind: int = field(default=_OTHER, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class AttributeRun:
    length: int  # UTF-16 code units
    attributes: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class AttributedString:
    class_name: str
    text: str
    runs: tuple[AttributeRun, ...]


class _Class:
    """A class in the object table; interned so repeated chains cost nothing."""

    __slots__ = ("kind", "name")

    def __init__(self, name: str, kind: int) -> None:
        self.name = name
        self.kind = kind


class _CString:
    __slots__ = ("value",)

    def __init__(self, value: bytes) -> None:
        self.value = value


class _Pending:
    """An object whose contents are still being read (a reference to it is a cycle)."""

    __slots__ = ("class_name",)

    def __init__(self) -> None:
        self.class_name = "NSObject"


_CLASS_CACHE: dict[tuple[bytes, _Class | None], _Class] = {}
_MAX_CLASS_CACHE = 4096


def _intern_class(name: bytes, superclass: _Class | None) -> _Class:
    key = (name, superclass)
    cls = _CLASS_CACHE.get(key)
    if cls is None:
        text = name.decode("utf-8", "replace")
        kind = _KNOWN_KINDS.get(text)
        if kind is None:
            kind = superclass.kind if superclass is not None else _OTHER
        cls = _Class(text, kind)
        if len(_CLASS_CACHE) >= _MAX_CLASS_CACHE:
            _CLASS_CACHE.clear()
        _CLASS_CACHE[key] = cls
    return cls


_SINGLE_TYPES = frozenset(b"@+*#%:!cCsSiIlLqQfdB")
_ENCODING_CACHE: dict[bytes, tuple[bytes, ...]] = {}


def _malformed() -> UndecodableError:
    return UndecodableError(MALFORMED)


def split_encodings(encoding: bytes) -> tuple[bytes, ...]:
    """Split a type-encoding string such as b"iI" or b"{_NSRange=QQ}[4c]" into single types."""
    cached = _ENCODING_CACHE.get(encoding)
    if cached is not None:
        return cached
    parts: list[bytes] = []
    pos = 0
    while pos < len(encoding):
        end = _type_end(encoding, pos, 0)
        parts.append(encoding[pos:end])
        pos = end
    if not parts:
        raise _malformed()
    result = tuple(parts)
    if len(_ENCODING_CACHE) >= _MAX_ENCODING_CACHE:
        _ENCODING_CACHE.clear()
    _ENCODING_CACHE[encoding] = result
    return result


def _type_end(enc: bytes, pos: int, depth: int) -> int:
    """Index just past the single type encoding starting at `pos`."""
    if depth > 16 or pos >= len(enc):
        raise _malformed()
    code = enc[pos]
    if code in _SINGLE_TYPES:
        return pos + 1
    if code == 0x5B:  # '[' count type ']'
        pos += 1
        start = pos
        while pos < len(enc) and 0x30 <= enc[pos] <= 0x39:
            pos += 1
        if pos == start or pos - start > 9:
            raise _malformed()
        pos = _type_end(enc, pos, depth + 1)
        if pos >= len(enc) or enc[pos] != 0x5D:
            raise _malformed()
        return pos + 1
    if code == 0x7B:  # '{' name '=' types '}'
        equals = enc.find(b"=", pos)
        if equals < 0:
            raise _malformed()
        pos = equals + 1
        while pos < len(enc) and enc[pos] != 0x7D:
            pos = _type_end(enc, pos, depth + 1)
        if pos >= len(enc):
            raise _malformed()
        return pos + 1
    raise _malformed()


class _State:
    """The tables of one decode. Functions below pass `pos` explicitly and return it, which
    keeps the hot loop on local variables (several times faster than attribute updates)."""

    __slots__ = ("data", "little", "objects", "strings", "text_span")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.strings: list[bytes] = []
        self.objects: list[Any] = []
        self.little = True
        self.text_span: tuple[int, int] | None = None  # the first '+' value: (head, end)


def _wide_int(st: _State, head: int, pos: int, signed: bool) -> tuple[int, int]:
    """An integer whose head byte is a tag: 0x81 = 2 bytes follow, 0x82 = 4 bytes follow."""
    if head < 0x80:
        return head, pos
    if head >= _FIRST_REF:
        return (head - 256 if signed else head), pos
    if head == _INT16:
        size = 2
    elif head == _INT32:
        size = 4
    else:
        raise _malformed()
    end = pos + size
    if end > len(st.data):
        raise _malformed()
    return int.from_bytes(st.data[pos:end], "little" if st.little else "big", signed=signed), end


def _ref_index(st: _State, head: int, pos: int) -> tuple[int, int]:
    if head >= _FIRST_REF:
        return head - _FIRST_REF, pos
    value, pos = _wide_int(st, head, pos, True)
    return value + _REF_BIAS, pos


def _take(st: _State, pos: int, count: int) -> tuple[bytes, int]:
    end = pos + count
    if count < 0 or end > len(st.data):
        raise _malformed()
    return st.data[pos:end], end


def _shared_string(st: _State, pos: int) -> tuple[bytes | None, int]:
    data = st.data
    head = data[pos]
    pos += 1
    if head >= _FIRST_REF:
        return st.strings[head - _FIRST_REF], pos
    if head == _NEW:
        length = data[pos]
        pos += 1
        if 0x80 <= length < _FIRST_REF:
            length, pos = _wide_int(st, length, pos, False)
        end = pos + length
        if end > len(data):
            raise _malformed()
        value = data[pos:end]
        st.strings.append(value)
        return value, end
    if head == _NIL:
        return None, pos
    index, pos = _ref_index(st, head, pos)
    return st.strings[index], pos


def _c_string(st: _State, pos: int) -> tuple[bytes | None, int]:
    head = st.data[pos]
    pos += 1
    if head == _NEW:
        value, pos = _shared_string(st, pos)
        if value is None:
            raise _malformed()
        st.objects.append(_CString(value))
        return value, pos
    if head == _NIL:
        return None, pos
    index, pos = _ref_index(st, head, pos)
    entry = st.objects[index]
    if type(entry) is not _CString:
        raise _malformed()
    return entry.value, pos


# Literal class chains whose names are all written out (not string references) read the
# same in every stream: cache them by their bytes and replay the table updates. The
# terminating superclass reference, if any, is resolved again at each replay.
_ChainEntry = tuple[bytes, tuple[bytes, ...], int | None]  # chain bytes, names, terminator
_CHAIN_CACHE: dict[bytes, list[_ChainEntry]] = {}  # by the chain's first _CHAIN_KEY bytes
_CHAIN_KEY = 12
_MAX_CHAIN_CACHE = 256


def _read_class(st: _State, pos: int) -> tuple[_Class | None, int]:
    """A class chain: literal classes (most derived first) ending in nil or a reference.
    Each literal class takes an object number in stream order."""
    data = st.data
    candidates = _CHAIN_CACHE.get(data[pos : pos + _CHAIN_KEY])
    if candidates is not None:
        for chain, cached_names, cached_terminator in candidates:
            if data.startswith(chain, pos):
                return _replay_chain(st, cached_names, cached_terminator), pos + len(chain)
    objects = st.objects
    start = pos
    head = data[pos]
    pos += 1
    names: list[bytes] = []
    first_index = len(objects)
    literal_names = True
    while head == _NEW:
        literal_names = literal_names and data[pos] == _NEW
        name, pos = _shared_string(st, pos)
        if name is None:
            raise _malformed()
        version = data[pos]  # class version: ignored, but it may be a wide integer
        pos += 1
        if 0x80 <= version < _FIRST_REF:
            version, pos = _wide_int(st, version, pos, True)
        names.append(name)
        objects.append(None)
        head = data[pos]
        pos += 1
    superclass: _Class | None
    terminator: int | None = None
    if head == _NIL:
        superclass = None
    else:
        terminator, pos = _ref_index(st, head, pos)
        superclass = objects[terminator]
        if type(superclass) is not _Class:
            raise _malformed()
    for offset in range(len(names) - 1, -1, -1):
        superclass = _intern_class(names[offset], superclass)
        objects[first_index + offset] = superclass
    if names and literal_names:
        _remember_chain(data[start:pos], tuple(names), terminator)
    return superclass, pos


def _replay_chain(st: _State, names: tuple[bytes, ...], terminator: int | None) -> _Class | None:
    objects = st.objects
    superclass: _Class | None = None
    if terminator is not None:
        superclass = objects[terminator]
        if type(superclass) is not _Class:
            raise _malformed()
    st.strings.extend(names)
    first_index = len(objects)
    objects.extend([None] * len(names))
    for offset in range(len(names) - 1, -1, -1):
        superclass = _intern_class(names[offset], superclass)
        objects[first_index + offset] = superclass
    return superclass


def _remember_chain(chain: bytes, names: tuple[bytes, ...], terminator: int | None) -> None:
    if len(_CHAIN_CACHE) >= _MAX_CHAIN_CACHE:
        _CHAIN_CACHE.clear()
    candidates = _CHAIN_CACHE.setdefault(chain[:_CHAIN_KEY], [])
    if len(candidates) < 8 and all(known != chain for known, _, _ in candidates):
        candidates.append((chain, names, terminator))


def _value(st: _State, code: bytes, pos: int, depth: int) -> tuple[Any, int]:
    """One value of a single type encoding."""
    data = st.data
    kind = code[0]
    if kind == 0x40:  # '@'
        return _object(st, pos, depth)
    if kind in b"silq" or kind in b"SILQ":
        head = data[pos]
        pos += 1
        if head < 0x80:
            return head, pos
        return _wide_int(st, head, pos, kind > 0x60)
    if kind == 0x2B:  # '+'
        head = data[pos]
        if head == _NIL:
            return None, pos + 1
        start = pos
        length, pos = _wide_int(st, head, pos + 1, False)
        raw, pos = _take(st, pos, length)
        if st.text_span is None:
            st.text_span = (start, pos)
        return raw, pos
    if kind == 0x2A:  # '*'
        return _c_string(st, pos)
    if kind == 0x63:  # 'c': always one literal byte
        byte = data[pos]
        return (byte - 256 if byte > 127 else byte), pos + 1
    if kind == 0x43:  # 'C'
        return data[pos], pos + 1
    if kind == 0x42:  # 'B'
        return bool(data[pos]), pos + 1
    if kind == 0x66 or kind == 0x64:  # 'f', 'd'
        head = data[pos]
        pos += 1
        if head != _FLOAT:
            number, pos = _wide_int(st, head, pos, True)
            return float(number), pos
        size = 4 if kind == 0x66 else 8
        raw, pos = _take(st, pos, size)
        fmt = ("<" if st.little else ">") + ("f" if kind == 0x66 else "d")
        return float(struct.unpack(fmt, raw)[0]), pos
    if kind == 0x23:  # '#'
        cls, pos = _read_class(st, pos)
        return (None if cls is None else ArchivedObject(cls.name, kind=cls.kind)), pos
    if kind == 0x25 or kind == 0x3A:  # '%' atom, ':' selector
        return _shared_string(st, pos)
    if kind == 0x21:  # '!': an ignored field, no data
        return None, pos
    if kind == 0x5B:
        return _array(st, code, pos, depth)
    if kind == 0x7B:
        return _struct(st, code, pos, depth)
    raise _malformed()


def _array(st: _State, code: bytes, pos: int, depth: int) -> tuple[Any, int]:
    digits_end = 1
    while 0x30 <= code[digits_end] <= 0x39:
        digits_end += 1
    count = int(code[1:digits_end])
    element = code[digits_end:-1]
    if element in (b"c", b"C"):
        return _take(st, pos, count)
    if count > len(st.data) - pos or depth >= MAX_DEPTH:  # each element takes >= 1 byte
        raise _malformed()
    items: list[Any] = []
    for _ in range(count):
        item, pos = _value(st, element, pos, depth + 1)
        items.append(item)
    return items, pos


def _struct(st: _State, code: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth >= MAX_DEPTH:
        raise _malformed()
    inner = code[code.index(b"=") + 1 : -1]
    fields: list[Any] = []
    if inner:
        for part in split_encodings(inner):
            item, pos = _value(st, part, pos, depth + 1)
            fields.append(item)
    return tuple(fields), pos


def _object(st: _State, pos: int, depth: int) -> tuple[Any, int]:
    data = st.data
    objects = st.objects
    head = data[pos]
    pos += 1
    if head != _NEW:
        if head >= _FIRST_REF:
            entry = objects[head - _FIRST_REF]
        elif head == _NIL:
            return None, pos
        else:
            index, pos = _ref_index(st, head, pos)
            entry = objects[index]
        entry_type = type(entry)
        if entry_type is _Class or entry_type is _CString or entry is None:
            raise _malformed()
        if entry_type is _Pending:
            return ArchivedObject(entry.class_name), pos  # a cycle: cut it, keep the class
        return entry, pos
    if depth >= MAX_DEPTH:
        raise _malformed()
    index = len(objects)
    pending = _Pending()
    objects.append(pending)
    head = data[pos]
    if head >= _FIRST_REF:  # the class by reference: usual once the first objects are read
        cls = objects[head - _FIRST_REF]
        if type(cls) is not _Class:
            raise _malformed()
        pos += 1
    else:
        cls, pos = _read_class(st, pos)
        if cls is None:
            raise _malformed()
    pending.class_name = cls.name
    strings = st.strings
    if cls.kind == _STRING:  # fast path: "+" by reference, a short string, end of object
        head = data[pos]
        if head >= _FIRST_REF and strings[head - _FIRST_REF] == b"+":
            length = data[pos + 1]
            end = pos + 2 + length
            if length < 0x80 and end < len(data) and data[end] == _END:
                if st.text_span is None:
                    st.text_span = (pos + 1, end)
                text = data[pos + 2 : end].decode("utf-8")
                objects[index] = text
                return text, end + 1
    elif cls.kind == _NUMBER:  # fast path: "*", its C string and a small int, all by reference
        number = _small_number(st, pos)
        if number is not None:
            objects[index] = number
            return number, pos + 5
    encodings: list[bytes] = []
    values: list[Any] = []
    depth += 1
    head = data[pos]
    while head != _END:
        encoding: bytes | None
        if head >= _FIRST_REF:  # the usual case: an encoding seen before
            encoding = strings[head - _FIRST_REF]
            pos += 1
        else:
            encoding, pos = _shared_string(st, pos)
            if not encoding:
                raise _malformed()
        encodings.append(encoding)
        if len(encoding) != 1:
            for code in split_encodings(encoding):
                value, pos = _value(st, code, pos, depth)
                values.append(value)
        else:
            # inline the commonest single values: objects, short strings, small ints
            type_code = encoding[0]
            head = data[pos]
            if type_code == 0x40:  # "@"
                value, pos = _object(st, pos, depth)
            elif type_code == 0x2B and head < 0x80:  # '+' shorter than 128 bytes
                end = pos + 1 + head
                if end > len(data):
                    raise _malformed()
                value = data[pos + 1 : end]
                if st.text_span is None:
                    st.text_span = (pos, end)
                pos = end
            elif type_code in (0x69, 0x49) and (head < 0x80 or head >= _FIRST_REF):
                value = head - 256 if (head >= _FIRST_REF and type_code == 0x69) else head
                pos += 1
            else:
                value, pos = _value(st, encoding, pos, depth)
            values.append(value)
        head = data[pos]
    pos += 1
    result = _build(cls, encodings[0] if len(encodings) == 1 else b"".join(encodings), values)
    objects[index] = result
    return result, pos


_SMALL_INT_CODES = (b"i", b"q", b"l", b"s")


def _small_number(st: _State, pos: int) -> int | None:
    """An NSNumber body written as references: '*' <C string> <type> <one-byte int> <end>.
    None when the body has any other shape (the general loop then reads it)."""
    data, strings = st.data, st.strings
    if pos + 4 >= len(data):
        return None
    head, c_string, group, value = data[pos], data[pos + 1], data[pos + 2], data[pos + 3]
    if head < _FIRST_REF or c_string < _FIRST_REF or group < _FIRST_REF:
        return None
    if strings[head - _FIRST_REF] != b"*" or data[pos + 4] != _END:
        return None
    if type(st.objects[c_string - _FIRST_REF]) is not _CString:
        return None
    if strings[group - _FIRST_REF] not in _SMALL_INT_CODES or 0x80 <= value < _FIRST_REF:
        return None
    return value - 256 if value >= _FIRST_REF else value


def _root(data: bytes) -> Any:
    """The single root value of the stream; anything after it is malformed."""
    return _root_state(data)[0]


def _root_state(data: bytes) -> tuple[Any, _State]:
    if len(data) < 16 or data[0] != 4 or data[1] != 11:
        raise _malformed()
    st = _State(data)
    signature = data[2:13]
    if signature == b"typedstream":
        st.little = False
    elif signature != b"streamtyped":
        raise _malformed()
    _, pos = _wide_int(st, data[13], 14, False)  # system version (1000)
    encoding, pos = _shared_string(st, pos)
    if encoding != b"@":
        raise _malformed()
    result, pos = _object(st, pos, 0)
    if pos != len(data):
        raise _malformed()
    return result, st


def _build(cls: _Class, encoding: bytes, values: list[Any]) -> Any:
    """Turn an object's class and contents into a Python value."""
    kind = cls.kind
    if kind == _STRING:
        if encoding[:1] != b"+" or values[0] is None:
            raise _malformed()
        text: str = values[0].decode("utf-8")
        return text
    if kind == _NUMBER:
        if encoding[:1] != b"*" or len(values) != 2:
            raise _malformed()
        number = values[1]
        if type(number) is bool:
            return int(number)
        if not isinstance(number, int | float):
            raise _malformed()
        return number
    if kind == _DICT:
        return _build_dict(encoding, values)
    if kind == _ARRAY:
        if encoding[:1] not in (b"i", b"I") or values[0] != len(values) - 1:
            raise _malformed()
        if encoding[1:] != b"@" * (len(values) - 1):
            raise _malformed()
        return values[1:]
    if kind == _URL:
        return _build_url(encoding, values)
    if kind == _DATA:
        if encoding[:1] != b"i" or len(values) != 2 or not isinstance(values[1], bytes):
            raise _malformed()
        if values[0] != len(values[1]):
            raise _malformed()
        data: bytes = values[1]
        return data
    return ArchivedObject(cls.name, tuple(values), encoding, kind)


def _build_dict(encoding: bytes, values: list[Any]) -> dict[Any, Any]:
    count = values[0]
    if encoding[:1] not in (b"i", b"I") or count != (len(values) - 1) // 2:
        raise _malformed()
    if len(values) != 2 * count + 1 or encoding[1:] != b"@" * (2 * count):
        raise _malformed()
    result: dict[Any, Any] = {}
    for offset in range(1, len(values), 2):
        key = values[offset]
        if isinstance(key, dict | list):  # unhashable: keep a stable text form
            key = repr(key)
        result[key] = values[offset + 1]
    return result


def _build_url(encoding: bytes, values: list[Any]) -> NSURLValue:
    if encoding == b"c@" and values[0] == 0:
        base = None
        string = values[1]
    elif encoding == b"c@@" and values[0] == 1:
        base = values[1]
        string = values[2]
        if base is not None and not isinstance(base, NSURLValue):
            raise _malformed()
    else:
        raise _malformed()
    if not isinstance(string, str):
        raise _malformed()
    return NSURLValue(string, base)


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
_ONE_RUN_CACHE: dict[tuple[bytes, bytes, bytes], tuple[str, Mapping[str, object]]] = {}
_MAX_RUNS_CACHE = 8192
_MAX_CACHED_SUFFIX = 1024
cache_enabled = True  # benchmarks switch it off to measure the full decoder


def clear_cache() -> None:
    """Forget every cached decoding (benchmarks start each pass from empty caches)."""
    _PREFIXES.clear()
    _RUNS_CACHE.clear()
    _ONE_RUN_CACHE.clear()
    _CHAIN_CACHE.clear()


def decode_attributed_body(blob: bytes) -> AttributedString:
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
        _remember(data, st.text_span, body)
    return body


def _from_cache(data: bytes, prefix: bytes) -> AttributedString | None:
    start = len(prefix)
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
    split = _first_run_length(data, text_end)
    if split is not None:
        length_start, length_end, run_length = split
        one = _ONE_RUN_CACHE.get((prefix, data[text_end:length_start], data[length_end:]))
        if one is not None:
            text = _utf8(data[text_start:text_end])
            if text is None or utf16_length(text) != run_length:
                return None
            return AttributedString(one[0], text, (AttributeRun(run_length, one[1]),))
    hit = _RUNS_CACHE.get((prefix, data[text_end:]))
    if hit is None:
        return None
    class_name, runs, total = hit
    text = _utf8(data[text_start:text_end])
    if text is None or utf16_length(text) != total:
        return None
    return AttributedString(class_name, text, runs)


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


def _remember(data: bytes, span: tuple[int, int], body: AttributedString) -> None:
    prefix, suffix = data[: span[0]], data[span[1] :]
    if len(suffix) > _MAX_CACHED_SUFFIX or data[2:13] != b"streamtyped":
        return  # only little-endian streams (all of Apple's); big suffixes are rare
    if prefix not in _PREFIXES:
        if len(_PREFIXES) >= _MAX_PREFIXES:
            return
        _PREFIXES.append(prefix)
    if len(_RUNS_CACHE) + len(_ONE_RUN_CACHE) >= _MAX_RUNS_CACHE:
        _RUNS_CACHE.clear()
        _ONE_RUN_CACHE.clear()
    if len(body.runs) == 1:
        split = _first_run_length(data, span[1])
        if split is not None and split[2] == body.runs[0].length:
            key = (prefix, data[span[1] : split[0]], data[split[1] :])
            _ONE_RUN_CACHE[key] = (body.class_name, body.runs[0].attributes)
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


def utf16_length(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


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
