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
_NARROWEST_MAX = min(_ASCII_MAX_WIDTHS)
_WIDE_MIN = 900  # CJK ideographs, kana, hangul and emoji are at least this wide
_OTHER_MIN = 100  # any other visible character (Arabic joins narrowly; be cautious)
_OTHER_MAX = 2000  # emoji, CJK, accented letters: at most two ems (a handful of
#  ligature-like signs such as U+FDFD are wider; nowrap lets them overflow slightly)
#: Kerning, and fonts other than these, can only move a line's width a little; keep a
#: margin either way.
_LOWER_SAFETY, _UPPER_SAFETY = 0.9, 1.05
#: The bubble's content box: 75% of A4's 210 mm less print.css's 2 x 14 mm margins, in
#: thousandths of an em of the 10 pt text (1 mm = 72 / 25.4 pt).
WRAP_WIDTH = 0.75 * (210 - 28) * 72 / 25.4 / 10 * 1000


def _is_wide(code: int) -> bool:
    return (0x2E80 <= code <= 0xA4CF or 0xAC00 <= code <= 0xD7A3 or 0xF900 <= code <= 0xFAFF
            or 0x1F300 <= code <= 0x1FAFF)


def _min_width(ch: str) -> int:
    code = ord(ch)
    if 0x20 <= code < 0x7F:
        return _ASCII_MIN_WIDTHS[code - 0x20]
    if _is_wide(code):
        return _WIDE_MIN
    if unicodedata.category(ch) in ("Mn", "Me", "Cf", "Cc", "Zl", "Zp"):
        return 0  # combining marks, joiners, controls: may take no room at all
    return _OTHER_MIN


def _max_width(ch: str) -> int:
    code = ord(ch)
    return _ASCII_MAX_WIDTHS[code - 0x20] if 0x20 <= code < 0x7F else _OTHER_MAX


def min_line_width(line: str) -> float:
    """A lower bound of one line's width, in thousandths of an em, in the PDF's fonts."""
    return sum(map(_min_width, line)) * _LOWER_SAFETY


def max_line_width(line: str) -> float:
    """An upper bound of one line's width, in thousandths of an em, in the PDF's fonts."""
    return sum(map(_max_width, line)) * _UPPER_SAFETY


def fits_one_line(text: str) -> bool:
    """True for a text that surely fits on one line of a PDF bubble, whatever font."""
    if "\n" in text or len(text) * _NARROWEST_MAX > WRAP_WIDTH:
        return False  # the cheap common answer: too long even in the narrowest glyphs
    return max_line_width(text) <= WRAP_WIDTH


def surely_wraps(text: str) -> bool:
    """True when some line of the text is wider than a bubble can be, whatever font."""
    if len(text) * _WIDE_MIN < WRAP_WIDTH:
        return False  # the cheap common answer: too short to need a second line
    return any(min_line_width(line) > WRAP_WIDTH for line in text.split("\n"))


def bubble_class(text: str) -> str | None:
    """`short`, `long` or None (let WeasyPrint measure): see the module's docstring."""
    if fits_one_line(text):
        return "short"
    if surely_wraps(text):
        return "long"
    return None
