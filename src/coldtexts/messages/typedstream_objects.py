"""Typedstream values and objects: a generic reader of any object graph, turning the
foundation classes into Python values (NSString -> str, NSNumber -> int/float,
NSDictionary -> dict, NSArray -> list, NSURL -> NSURLValue, NSData -> bytes) and keeping
everything else as ArchivedObject."""

from __future__ import annotations

import struct
from typing import Any

from coldtexts.messages.typedstream_model import (
    _ARRAY,
    _DATA,
    _DICT,
    _NUMBER,
    _STRING,
    _URL,
    MAX_DEPTH,
    ArchivedObject,
    NSURLValue,
)
from coldtexts.messages.typedstream_wire import (
    _END,
    _FIRST_REF,
    _FLOAT,
    _NEW,
    _NIL,
    _c_string,
    _Class,
    _CString,
    _malformed,
    _Pending,
    _read_class,
    _ref_index,
    _shared_string,
    _State,
    _take,
    _wide_int,
    split_encodings,
)


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
                text = data[pos + 2 : end].decode("utf-8")
                if st.text_span is None:
                    st.text_span = (pos + 1, end)
                else:
                    st.short_strings.append((pos + 1, end, text))
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
                start = pos
                value, pos = _value(st, code, pos, depth)
                values.append(value)
                if depth == 1 and code == b"I":  # the root's: a run length, if it is a body
                    st.run_lengths.append((start, pos))
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
