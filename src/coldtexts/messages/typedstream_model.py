"""The values the typedstream decoder produces (shared by its modules and its callers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from coldtexts.messages.fastbuild import fast_builder

MALFORMED = "malformed"
NOT_ATTRIBUTED = "not an attributed string"

MAX_DEPTH = 64  # real bodies nest 4-5 objects deep

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


# The decoder's cache builds these for every body it has seen the shape of.
new_attributed_string = fast_builder(AttributedString)
new_attribute_run = fast_builder(AttributeRun)


def utf16_length(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_ASTRAL_LEADS = bytes(range(0xF0, 0xF5))


def text_of_units(raw: bytes, units: int) -> str | None:
    """`raw` as text when it is UTF-8 of exactly `units` UTF-16 code units (what an
    attributed string's runs count), else None. The units are read off the UTF-8 rather
    than by encoding the text again (2.3x faster on a non-ASCII message): a character
    beyond the BMP is two units and one 4-byte sequence, whose lead byte (F0-F4) appears
    nowhere else."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    found = len(text)
    if found != len(raw):  # not ASCII
        found += len(raw) - len(raw.translate(None, _ASTRAL_LEADS))
    return text if found == units else None
