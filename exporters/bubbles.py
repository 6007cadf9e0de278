"""How wide a PDF text bubble will be, decided before WeasyPrint lays it out.

A bubble is an inline-block of `max-width: 75%`, so WeasyPrint finds its width by
shrink-to-fit: it lays the text out for its min-content and max-content widths before
laying it out for real, which was a quarter of PDF layout time (profiled). Two cases
need none of that, and the exporter marks them with a class:

- `short`: the text surely fits one line, so print.css lays the bubble out inline, as
  text in its part, with padding standing in for the box: nothing to measure at all;
- `long`: the text surely needs more than one line, so shrink-to-fit would give exactly
  the 75% maximum; print.css gives those bubbles `width: 75%`, which is the same box
  with no measuring pass.

Anything in between keeps shrink-to-fit. "Surely" rests on bounds, never on estimates,
so the text lands where it would without the classes (tests/test_export_bubbles.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import pairwise

from . import textfont

#: Advance widths (thousandths of an em) of printable ASCII, U+0020 to U+007E, in the
#: PDF's font stack (Noto Sans and DejaVu Sans, regular, italic, bold and bold italic),
#: read from the fonts' hmtx tables: the smallest and the largest among them.
#: tests/test_export_bubbles.py checks both against the installed fonts.
_ASCII_MIN_WIDTHS = (
    260, 261, 392, 646, 551, 799, 673, 220, 290, 290, 500, 572, 256, 313, 256, 336,
    551, 551, 551, 551, 551, 551, 551, 551, 551, 551, 256, 256, 572, 572, 572, 430,
    848, 562, 600, 587, 667, 514, 477, 678, 680, 294, 273, 562, 478, 841, 707, 721,
    567, 721, 573, 505, 501, 677, 552, 856, 527, 509, 531, 290, 336, 290, 551, 395,
    278, 561, 579, 453, 579, 499, 318, 579, 579, 258, 258, 495, 258, 875, 579, 563,
    579, 579, 398, 432, 332, 579, 467, 723, 483, 467, 445, 350, 336, 350, 572,
)
_ASCII_MAX_WIDTHS = (
    349, 457, 521, 838, 696, 1002, 873, 307, 458, 458, 551, 838, 380, 416, 380, 421,
    696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 581,
    1000, 774, 763, 734, 831, 684, 684, 821, 837, 389, 373, 775, 638, 996, 837, 851,
    733, 851, 771, 721, 683, 813, 774, 1104, 771, 725, 726, 458, 421, 458, 838, 500,
    500, 675, 716, 593, 716, 679, 436, 716, 712, 343, 343, 666, 343, 1042, 712, 688,
    716, 716, 494, 596, 479, 712, 652, 924, 646, 652, 583, 712, 551, 712, 838,
)
_WIDE_MIN = 900  # CJK ideographs, kana, hangul and emoji are at least this wide
_OTHER_MIN = 100  # any other visible character (Arabic joins narrowly; be cautious)
_OTHER_MAX = 2000  # emoji, CJK, accented letters: at most two ems (a handful of
#  ligature-like signs such as U+FDFD are wider; nowrap lets them overflow slightly)
#: Kerning, and fonts other than these, can only move a line's width a little; keep a
#: margin either way (the known font's tables carry their kerning already, so they get
#: only a hair for rounding).
_LOWER_SAFETY, _UPPER_SAFETY = 0.9, 1.05
_KNOWN_LOWER, _KNOWN_UPPER = 0.998, 1.002
#: The bubble's content box: 75% of A4's 210 mm less print.css's 2 x 14 mm margins, in
#: thousandths of an em of the 10 pt text (1 mm = 72 / 25.4 pt).
WRAP_WIDTH = 0.75 * (210 - 28) * 72 / 25.4 / 10 * 1000


@dataclass(frozen=True)
class Widths:
    """Bounds of what each printable ASCII character adds to a line (thousandths of an
    em, margins included); lines with a `joining` character are bounded by WIDE."""

    ascii_low: tuple[float, ...]
    ascii_high: tuple[float, ...]
    joining: frozenset[str] = frozenset()

    @cached_property
    def narrowest_high(self) -> float:
        return min(min(self.ascii_high), _OTHER_MAX * _UPPER_SAFETY)

    @cached_property
    def widest_low(self) -> float:
        return max(max(self.ascii_low), _WIDE_MIN * _LOWER_SAFETY)


#: Whatever font draws the text: the two families of print.css, any style.
WIDE = Widths(tuple(w * _LOWER_SAFETY for w in _ASCII_MIN_WIDTHS),
              tuple(w * _UPPER_SAFETY for w in _ASCII_MAX_WIDTHS))


def _is_wide(code: int) -> bool:
    return (0x2E80 <= code <= 0xA4CF or 0xAC00 <= code <= 0xD7A3 or 0xF900 <= code <= 0xFAFF
            or 0x1F300 <= code <= 0x1FAFF)


def _other_min(ch: str) -> float:
    """A lower bound of a non-ASCII character's width, margin included."""
    code = ord(ch)
    if 0x1F3FB <= code <= 0x1F3FF:
        return 0  # a skin tone modifier: drawn into the emoji before it
    if _is_wide(code):
        return _WIDE_MIN * _LOWER_SAFETY
    if unicodedata.category(ch) in ("Mn", "Me", "Cf", "Cc", "Zl", "Zp"):
        return 0  # combining marks, joiners, controls: may take no room at all
    return _OTHER_MIN * _LOWER_SAFETY


_ZWJ = "\u200d"
_VARIATION_SELECTORS = frozenset(map(chr, range(0xFE00, 0xFE10)))


def min_line_width(line: str, widths: Widths = WIDE) -> float:
    """A lower bound of one line's width, in thousandths of an em, in the PDF's fonts."""
    low = widths.ascii_low
    if _ZWJ in line:
        # An emoji ZWJ sequence may be drawn as one glyph: what follows a joiner counts
        # nothing.
        line = "".join(part[1:] if i else part for i, part in enumerate(line.split(_ZWJ)))
    return sum(low[code - 0x20] if 0x20 <= (code := ord(ch)) < 0x7F else _other_min(ch)
               for ch in line)


def max_line_width(line: str, widths: Widths = WIDE) -> float:
    """An upper bound of one line's width, in thousandths of an em, in the PDF's fonts."""
    high, other = widths.ascii_high, _OTHER_MAX * _UPPER_SAFETY
    total = sum(high[code - 0x20] if 0x20 <= (code := ord(ch)) < 0x7F else other
                for ch in line)
    if not _VARIATION_SELECTORS.isdisjoint(line):
        # A variation selector after a character counted as any visible one (two ems) only
        # chooses that character's glyph, and takes no room (HarfBuzz zeroes default
        # ignorables); after ASCII it may turn a digit into a wider emoji: keep it there.
        total -= other * sum(1 for before, ch in pairwise(line)
                             if ch in _VARIATION_SELECTORS and not before.isascii())
    return total


def fits_one_line(text: str, widths: Widths = WIDE) -> bool:
    """True for a text that surely fits on one line of a PDF bubble."""
    if "\n" in text or len(text) * widths.narrowest_high > WRAP_WIDTH:
        return False  # the cheap common answer: too long even in the narrowest glyphs
    return max_line_width(text, widths) <= WRAP_WIDTH


def surely_wraps(text: str, widths: Widths = WIDE) -> bool:
    """True when some line of the text is wider than a bubble can be, and yet no word is:
    shrink-to-fit then gives the bubble all of its 75%. (A word wider than the bubble is
    broken by overflow-wrap, and WeasyPrint sizes such a bubble to the broken lines.)"""
    if len(text) * widths.widest_low < WRAP_WIDTH:
        return False  # the cheap common answer: too short to need a second line
    lines = text.split("\n")
    return (any(min_line_width(line, widths) > WRAP_WIDTH for line in lines)
            and all(_words_fit(line, widths) for line in lines))


def _words_fit(line: str, widths: Widths) -> bool:
    """True when every run of the line between spaces (where it may always break) surely
    fits on a line of its own."""
    words = line.split(" ")
    if max(map(len, words)) * _OTHER_MAX * _UPPER_SAFETY <= WRAP_WIDTH:
        return True  # the cheap common answer: no word is that long
    return all(max_line_width(word, widths) <= WRAP_WIDTH for word in words)


def _known(faces: tuple[textfont.AsciiBounds, ...]) -> Widths:
    """Widths for text drawn in any of `faces` of the known font."""
    lows = zip(*(face.low for face in faces), strict=True)
    highs = zip(*(face.high for face in faces), strict=True)
    return Widths(tuple(min(low) * _KNOWN_LOWER for low in lows),
                  tuple(max(high) * _KNOWN_UPPER for high in highs),
                  frozenset().union(*(face.joining for face in faces)))


@lru_cache(maxsize=2)
def pdf_widths(styled: bool) -> Widths:
    """The bounds for this process's PDFs: the known font's own (textfont.py), its
    regular face for plain text and all four faces for text with bold or italic runs,
    or WIDE when the font is not known or the font's shaping is not understood."""
    font = textfont.text_font()
    if font is None:
        return WIDE
    try:
        faces = tuple(textfont.ascii_bounds(path)
                      for path in (font.files if styled else font.files[:1]))
    except Exception:  # any font fontTools cannot read or bound: the wide bounds
        return WIDE
    return _known(faces)


def bubble_class(text: str, widths: Widths = WIDE) -> str | None:
    """`short`, `long` or None (let WeasyPrint measure): see the module's docstring."""
    if widths.joining and not widths.joining.isdisjoint(text):
        widths = WIDE
    if fits_one_line(text, widths):
        return "short"
    if surely_wraps(text, widths):
        return "long"
    return None
