"""Which files draw the PDF's Latin text, when fontconfig makes that certain.

print.css asks for "Noto Sans", "DejaVu Sans", sans-serif, and Pango draws each character
with the first of those that covers it, through fontconfig; so without knowing more, the
bubble width bounds (bubbles.py) must cover both families in every style, with wide
margins. But when fontconfig lists Noto Sans as exactly four static files (regular, bold,
italic, bold italic: what Debian's fonts-noto-core installs) and matches "Noto Sans" to
the regular one, every ASCII character of the PDF's text is drawn from one of those four
files: Noto Sans covers ASCII, comes first in the list, and has no other face to match a
weight or style. Then the bounds can be that font's own: the advance widths of its ASCII
glyphs and what its default kerning pairs and ligatures can add or take, read here from
the files with fontTools (which WeasyPrint itself uses to subset fonts). Nothing in the
PDF changes. Anywhere else (other faces installed, a variable font, a restyled font list)
the wide bounds stay in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import fontconfig

_FAMILY = b"Noto Sans"
#: fontconfig's weight and slant numbers of the four faces, in TextFont.files order
#: (FC_WEIGHT_REGULAR/BOLD, FC_SLANT_ROMAN/ITALIC), and its normal width.
_FC_FACES = ((80, 0), (200, 0), (80, 100), (200, 100))
_FC_NORMAL_WIDTH = 100
#: print.css's font list as shipped; a restyled copy that says otherwise is left alone.
SHIPPED_RULE = 'html { font-family: "Noto Sans", "DejaVu Sans", sans-serif; }'


@dataclass(frozen=True)
class TextFont:
    """The four static files of Noto Sans: regular, bold, italic, bold italic."""

    files: tuple[Path, ...]


@dataclass(frozen=True)
class _Face:
    weight: int
    slant: int
    width: int
    file: Path
    static: bool  # not a variable font, and the file's first face


def _path(ffi: Any, text: Any) -> Path:
    return Path(ffi.string(text[0]).decode("utf-8", "surrogateescape"))


def _listed_faces(ffi: Any, lib: Any, config: Any) -> list[_Face]:
    """Every face fontconfig lists in the Noto Sans family."""
    pattern = lib.FcPatternCreate()
    lib.FcPatternAddString(pattern, b"family", _FAMILY)
    names = [ffi.new("char[]", name) for name in (b"index", b"weight", b"slant", b"width",
                                                  b"variable")]  # variadic: cdata only
    objects = lib.FcObjectSetBuild(b"file", *names, ffi.cast("char *", ffi.NULL))
    fonts = lib.FcFontList(config, pattern, objects)
    faces = []
    text, number, flag = ffi.new("FcChar8 **"), ffi.new("int *"), ffi.new("FcBool *")
    for i in range(fonts.nfont if fonts != ffi.NULL else 0):
        font = fonts.fonts[i]
        values = []
        for key in (b"index", b"weight", b"slant", b"width"):
            values.append(number[0] if lib.FcPatternGetInteger(font, key, 0, number) == 0
                          else -1)
        variable = lib.FcPatternGetBool(font, b"variable", 0, flag) == 0 and bool(flag[0])
        if lib.FcPatternGetString(font, b"file", 0, text) == 0:
            faces.append(_Face(values[1], values[2], values[3], _path(ffi, text),
                               values[0] == 0 and not variable))
    if fonts != ffi.NULL:
        lib.FcFontSetDestroy(fonts)
    lib.FcObjectSetDestroy(objects)
    lib.FcPatternDestroy(pattern)
    return faces


def _matched_file(ffi: Any, lib: Any, config: Any) -> Path | None:
    """The file fontconfig matches "Noto Sans" to, its configured aliases applied."""
    pattern = lib.FcPatternCreate()
    lib.FcPatternAddString(pattern, b"family", _FAMILY)
    lib.FcConfigSubstitute(config, pattern, lib.FcMatchPattern)
    lib.FcDefaultSubstitute(pattern)
    result = ffi.new("FcResult *")
    match = lib.FcFontMatch(config, pattern, result)
    lib.FcPatternDestroy(pattern)
    if match == ffi.NULL:
        return None
    text = ffi.new("FcChar8 **")
    found = _path(ffi, text) if lib.FcPatternGetString(match, b"file", 0, text) == 0 else None
    lib.FcPatternDestroy(match)
    return found


@lru_cache(maxsize=1)
def text_font() -> TextFont | None:
    """Noto Sans's four files, once per process; None unless fontconfig lists exactly
    those four static faces in the family and matches "Noto Sans" to the regular one."""
    loaded = fontconfig.load()
    if loaded is None:
        return None
    ffi, lib, config = loaded
    faces = _listed_faces(ffi, lib, config)
    matched = _matched_file(ffi, lib, config)
    if len(faces) != len(_FC_FACES) or not all(face.static for face in faces):
        return None
    by_style = {(face.weight, face.slant, face.width): face.file for face in faces}
    files = tuple(by_style.get((weight, slant, _FC_NORMAL_WIDTH)) for weight, slant in _FC_FACES)
    if any(path is None for path in files) or matched != files[0]:
        return None
    return TextFont(tuple(path for path in files if path is not None))


@lru_cache(maxsize=8)
def known_font(templates: Path) -> TextFont | None:
    """The font that draws the ASCII text of PDFs made from the templates in `templates`:
    text_font() when their print.css names the shipped font list, else None."""
    try:
        print_css = (templates / "print.css").read_text("utf-8")
    except OSError:
        return None
    return text_font() if SHIPPED_RULE in print_css else None


# -- widths ---------------------------------------------------------------------------------
#: OpenType features HarfBuzz applies to horizontal Latin text unless told otherwise, which
#: WeasyPrint does not for print.css: the lookups that can change an ASCII glyph's width.
_DEFAULT_GSUB = frozenset({"ccmp", "locl", "rvrn", "rlig", "liga", "clig", "calt", "rclt",
                           "ltra", "ltrm", "rtla", "rtlm"})
#: Characters that make HarfBuzz apply more features (U+2044 FRACTION SLASH: numerator
#: and denominator digits); lines with one are left to the wide bounds.
_FEATURE_TRIGGERS = frozenset({"\u2044"})
#: ASCII characters drawn as their mirror image in right-to-left runs.
_MIRRORED = {"(": ")", ")": "(", "<": ">", ">": "<", "[": "]", "]": "[", "{": "}", "}": "{"}
_DEFAULT_GPOS = frozenset({"kern", "dist", "curs", "abvm", "blwm", "mark", "mkmk"})


class UnknownShaping(Exception):
    """The font has a lookup on ASCII glyphs whose width effect is not bounded here."""


@dataclass(frozen=True)
class AsciiBounds:
    """Per printable ASCII character (U+0020 to U+007E), in thousandths of an em: what it
    can add to a line's width at least and at most, its kerning and ligatures included."""

    low: tuple[float, ...]
    high: tuple[float, ...]
    #: Characters that may form a ligature with ASCII ones: lines with any of them are
    #: not bounded by these tables.
    joining: frozenset[str]


def _unwrapped(lookup: Any) -> list[tuple[int, Any]]:
    """(type, subtable) of a lookup's subtables, looking through extension lookups."""
    found = []
    for subtable in lookup.SubTable:
        inner = getattr(subtable, "ExtSubTable", None)
        if inner is not None:
            found.append((inner.LookupType, inner))
        else:
            found.append((lookup.LookupType, subtable))
    return found


#: Where contextual lookups keep their rules: rule set -> rule attribute names.
_RULES = {"PosRuleSet": "PosRule", "PosClassSet": "PosClassRule",
          "ChainPosRuleSet": "ChainPosRule", "ChainPosClassSet": "ChainPosClassRule",
          "SubRuleSet": "SubRule", "SubClassSet": "SubClassRule",
          "ChainSubRuleSet": "ChainSubRule", "ChainSubClassSet": "ChainSubClassRule"}


def _called_lookups(subtable: Any) -> list[int]:
    """The lookups a contextual subtable calls, once per lookup record (of any rule)."""
    records = [*(getattr(subtable, "PosLookupRecord", None) or ()),
               *(getattr(subtable, "SubstLookupRecord", None) or ())]
    for set_name, rule_name in _RULES.items():
        for rule_set in getattr(subtable, set_name, None) or ():
            for rule in (getattr(rule_set, rule_name, None) or ()) if rule_set else ():
                records += getattr(rule, "PosLookupRecord", None) or ()
                records += getattr(rule, "SubstLookupRecord", None) or ()
    return [record.LookupListIndex for record in records]


def _applied_lookups(table: Any, features: frozenset[str]) -> dict[int, int]:
    """Lookup index -> how many times it may run on one glyph, at most: once per default
    feature listing it, plus once per record of a contextual lookup calling it (which may
    call others in turn)."""
    counts: dict[int, int] = {}
    for record in table.FeatureList.FeatureRecord:
        if record.FeatureTag in features:
            for index in record.Feature.LookupListIndex:
                counts[index] = counts.get(index, 0) + 1
    todo, seen = list(counts), set(counts)
    while todo:
        for _kind, subtable in _unwrapped(table.LookupList.Lookup[todo.pop()]):
            for called in _called_lookups(subtable):
                counts[called] = counts.get(called, 0) + 1
                if called not in seen:
                    seen.add(called)
                    todo.append(called)
    return counts


def _x_advance(*values: Any) -> float:
    return float(sum(getattr(value, "XAdvance", 0) or 0 for value in values
                     if value is not None))


def _pair_adjustments(subtable: Any, glyphs: set[str]) -> dict[str, list[float]]:
    """What a pair positioning subtable may add to each glyph's advance as a pair's first."""
    found: dict[str, list[float]] = {}
    covered = subtable.Coverage.glyphs
    if subtable.Format == 1:
        for glyph, pair_set in zip(covered, subtable.PairSet, strict=True):
            if glyph in glyphs:
                found[glyph] = [_x_advance(r.Value1, r.Value2)
                                for r in pair_set.PairValueRecord]
    else:
        classes = subtable.ClassDef1.classDefs
        for glyph in covered:
            if glyph in glyphs:
                row = subtable.Class1Record[classes.get(glyph, 0)]
                found[glyph] = [_x_advance(r.Value1, r.Value2) for r in row.Class2Record]
    return found


def _single_adjustments(subtable: Any, glyphs: set[str]) -> dict[str, list[float]]:
    covered = subtable.Coverage.glyphs
    if subtable.Format == 1:
        return {glyph: [_x_advance(subtable.Value)] for glyph in covered if glyph in glyphs}
    return {glyph: [_x_advance(value)] for glyph, value in zip(covered, subtable.Value,
                                                               strict=True)
            if glyph in glyphs}


def _positioning(font: Any, glyphs: set[str]) -> tuple[dict[str, float], dict[str, float]]:
    """The least and the most GPOS may add to each glyph's advance."""
    low = dict.fromkeys(glyphs, 0.0)
    high = dict.fromkeys(glyphs, 0.0)
    if "GPOS" not in font:
        return low, high
    table = font["GPOS"].table
    for index, times in _applied_lookups(table, _DEFAULT_GPOS).items():
        for kind, subtable in _unwrapped(table.LookupList.Lookup[index]):
            if kind == 1:
                found = _single_adjustments(subtable, glyphs)
            elif kind == 2:
                found = _pair_adjustments(subtable, glyphs)
            elif kind == 3 and glyphs & set(subtable.Coverage.glyphs):
                raise UnknownShaping("cursive attachment on ASCII")
            else:
                continue  # marks attach without advancing; contexts call the lookups above
            for glyph, adjustments in found.items():
                low[glyph] += times * min(0.0, *adjustments)
                high[glyph] += times * max(0.0, *adjustments)
    return low, high


@dataclass(frozen=True)
class _Substitutions:
    """The default GSUB lookups that can change which glyph draws a character."""

    singles: list[dict[str, str]]
    ligatures: list[tuple[str, list[str], str]]  # (first glyph, the others, ligature)
    others: set[str]  # glyphs that multiple, alternate or reverse substitutions take

    def closure(self, glyph: str) -> set[str]:
        """`glyph` and every glyph single substitutions may turn it into."""
        seen, todo = {glyph}, [glyph]
        while todo:
            current = todo.pop()
            for mapping in self.singles:
                new = mapping.get(current)
                if new is not None and new not in seen:
                    seen.add(new)
                    todo.append(new)
        return seen


def _substitutions(font: Any) -> _Substitutions:
    found = _Substitutions([], [], set())
    if "GSUB" not in font:
        return found
    table = font["GSUB"].table
    for index in _applied_lookups(table, _DEFAULT_GSUB):
        for kind, subtable in _unwrapped(table.LookupList.Lookup[index]):
            if kind == 1:
                found.singles.append(subtable.mapping)
            elif kind == 4:
                found.ligatures.extend((first, list(lig.Component), lig.LigGlyph)
                                       for first, ligs in subtable.ligatures.items()
                                       for lig in ligs)
            elif kind == 2:
                found.others.update(subtable.mapping)
            elif kind == 3:
                found.others.update(subtable.alternates)
            elif kind == 8:
                found.others.update(subtable.Coverage.glyphs)
    return found


def _reach(subs: _Substitutions, start: set[str]) -> dict[str, set[str]]:
    """For each of `start`, and each ligature that may start with a glyph they become:
    the glyphs it may end up drawn as."""
    reach: dict[str, set[str]] = {}
    sources = set(start)
    while sources - reach.keys():
        for glyph in sources - reach.keys():
            reach[glyph] = subs.closure(glyph)
        reached = set().union(*reach.values())
        sources |= {lig[2] for lig in subs.ligatures if lig[0] in reached}
    if set().union(*reach.values()) & subs.others:
        raise UnknownShaping("a multiple, alternate or reverse substitution on ASCII")
    return reach


@lru_cache(maxsize=8)  # pdf_widths reads the regular face for plain and styled text
def ascii_bounds(path: Path) -> AsciiBounds:
    """Bounds of each ASCII character's contribution to a line in the font at `path`,
    for lines without any of the returned `joining` characters. Raises UnknownShaping
    for a font whose lookups are not bounded here, and ValueError for a variable font or
    one that lacks an ASCII character."""
    from fontTools.ttLib import TTFont

    font = TTFont(path, lazy=True)
    if "fvar" in font:
        raise ValueError("variable font")
    scale = 1000 / font["head"].unitsPerEm
    cmap, metrics = font.getBestCmap(), font["hmtx"].metrics
    codes = range(0x20, 0x7F)
    if any(code not in cmap for code in codes):
        raise ValueError("the font lacks an ASCII character")
    subs = _substitutions(font)
    reach = _reach(subs, {cmap[code] for code in codes})
    for char, mirror in _MIRRORED.items():  # the two glyphs a bracket may be drawn as
        reach[cmap[ord(char)]] = reach[cmap[ord(char)]] | reach[cmap[ord(mirror)]]
    reached = set().union(*reach.values())
    drawn_from: dict[str, set[int]] = {}  # glyph -> the characters that may become it
    for code, glyph in cmap.items():
        for became in subs.closure(glyph):
            drawn_from.setdefault(became, set()).add(code)
    shown_low, shown_high = _positioning(font, reached)
    advance = {glyph: metrics[glyph][0] for glyph in reached}
    # Ligatures that may take an ASCII character: those of ASCII characters alone are
    # bounded below; a line with any other character that takes part in one is left to
    # the wide bounds (bubbles.py), as ligatures like o + ogonek + macron are rare.
    ascii_ligatures, joining = [], set()
    for lig in subs.ligatures:
        parts = [lig[0], *lig[1]]
        if not reached & set(parts):
            continue
        codes_in = set().union(*(drawn_from.get(g, set()) for g in parts))
        outside = {code for code in codes_in if not 0x20 <= code < 0x7F}
        if outside or any(g not in drawn_from for g in parts):
            joining |= {chr(code) for code in outside}
        else:
            ascii_ligatures.append(lig)
    own = {glyph: [advance[cmap[code]] for code in drawn_from[glyph]]
           for lig in ascii_ligatures for glyph in lig[1]}
    low, high = [], []
    for code in codes:
        glyphs = reach[cmap[code]]
        least = min(advance[g] + shown_low[g] for g in glyphs)
        most = max(advance[g] + shown_high[g] for g in glyphs)
        for first, others, ligature in ascii_ligatures:
            if first in glyphs:
                # The ligature stands for this character and the others: this one counts
                # what the ligature adds less the others' own advances, which lie
                # between their bounds.
                drawn = reach[ligature]
                least = min(least, min(advance[g] + shown_low[g] for g in drawn)
                            - sum(max(own[g]) for g in others))
                most = max(most, max(advance[g] + shown_high[g] for g in drawn)
                           - sum(min(own[g]) for g in others))
        low.append(least * scale)
        high.append(most * scale)
    return AsciiBounds(tuple(low), tuple(high), frozenset(joining) | _FEATURE_TRIGGERS)

