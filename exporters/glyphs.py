"""Which characters no installed font can draw.

Pango picks a fallback font for every character through fontconfig, so a character is
drawable when any font fontconfig knows covers it. The union of every font's coverage
is built once per process (~50 ms for a few hundred fonts) through fontconfig's own C
API, the same library WeasyPrint already loads; a character outside it becomes an empty
box in the PDF (and a `.notdef` glyph, which PDF/A validators reject), so the exporter
warns about it instead of failing quietly.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from . import fontconfig

#: Characters that are never drawn as glyphs of their own (joiners, variation selectors,
#: bidi marks, controls): fonts need not cover them.
_INVISIBLE_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")


@lru_cache(maxsize=1)
def _coverage() -> tuple[Any, Any] | None:
    """(fontconfig library, union of every installed font's charset), or None when
    fontconfig cannot be loaded."""
    loaded = fontconfig.load()
    if loaded is None:
        return None
    ffi, lib, config = loaded
    pattern = lib.FcPatternCreate()
    objects = lib.FcObjectSetBuild(b"charset", ffi.cast("char *", ffi.NULL))
    fonts = lib.FcFontList(config, pattern, objects)
    union = lib.FcCharSetCreate()
    charset = ffi.new("FcCharSet **")
    changed = ffi.new("FcBool *")
    for index in range(fonts.nfont if fonts != ffi.NULL else 0):
        if lib.FcPatternGetCharSet(fonts.fonts[index], b"charset", 0, charset) == 0:
            lib.FcCharSetMerge(union, charset[0], changed)
    if fonts != ffi.NULL:
        lib.FcFontSetDestroy(fonts)
    lib.FcObjectSetDestroy(objects)
    lib.FcPatternDestroy(pattern)
    return lib, union  # the union lives as long as the process, like the config


def _needs_glyph(char: str) -> bool:
    if char.isascii():
        return False  # every text font covers ASCII; controls are not drawn
    code = ord(char)
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or 0xE0020 <= code <= 0xE007F:
        return False  # variation selectors and emoji tag characters shape into others
    return unicodedata.category(char) not in _INVISIBLE_CATEGORIES


def uncovered(texts: Iterable[str]) -> list[str]:
    """The characters of `texts` that no installed font draws, in code point order; an
    empty list when fontconfig is not available to ask."""
    coverage = _coverage()
    if coverage is None:
        return []
    lib, union = coverage
    wanted: set[str] = set()
    for text in texts:
        wanted.update(text)
    return sorted((c for c in wanted if _needs_glyph(c) and not lib.FcCharSetHasChar(
        union, ord(c))), key=ord)


def warning(chars: list[str], where: str) -> str:
    """One sentence naming the characters (at most 20) and what the reader will see."""
    shown = ", ".join(f"U+{ord(c):04X}" + (f" {unicodedata.name(c, '')}".rstrip())
                      for c in chars[:20])
    more = f" and {len(chars) - 20} more" if len(chars) > 20 else ""
    return (f"{where}: no installed font draws {len(chars)} character(s) ({shown}{more}); "
            "they show as empty boxes. Install a font that covers them (e.g. more Noto "
            "fonts) and render again.")
