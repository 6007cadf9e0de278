"""Typedstream wire primitives: tagged integers, shared strings, C strings, class chains.

Functions take the read position and return the new one, which keeps the hot loop on
local variables. Head bytes 0x80-0x91 are tags (0x81 int16, 0x82 int32, 0x83 float,
0x84 new, 0x85 nil, 0x86 end of object); 0x92 and up are back-references (smsdb.md §4.1).
"""

from __future__ import annotations

from typing import Any

from coldtexts.errors import UndecodableError
from coldtexts.messages.typedstream_model import _KNOWN_KINDS, _OTHER, MALFORMED

_MAX_ENCODING_CACHE = 512

_INT16 = 0x81
_INT32 = 0x82
_FLOAT = 0x83
_NEW = 0x84
_NIL = 0x85
_END = 0x86
_FIRST_REF = 0x92  # reference number 0 in a head byte
_REF_BIAS = 110  # a multi-byte reference stores (index - 110)

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

    __slots__ = ("data", "little", "objects", "run_lengths", "short_strings", "strings",
                 "text_span")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.strings: list[bytes] = []
        self.objects: list[Any] = []
        self.little = True
        self.text_span: tuple[int, int] | None = None  # the first '+' value: (head, end)
        # Where the root's unsigned ints (an attributed string's run lengths) and the later
        # short NSStrings (head, end, text) lie: the run cache's templates are cut there.
        self.run_lengths: list[tuple[int, int]] = []
        self.short_strings: list[tuple[int, int, str]] = []


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
