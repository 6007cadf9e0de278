"""PDF bubble width classes: they must only ever save WeasyPrint work, never move a glyph.

The proof is a real layout: the same volume laid out by WeasyPrint with and without the
classes must put every piece of text at the same place, with the same width: with the
wide bounds, and with the known text font's own (textfont.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from coldtexts.exporters import bubbles, textfont
from coldtexts.exporters.base import RenderContext, RenderOptions
from coldtexts.exporters.html import render_volume, templates_folder

from coldtexts.messages.models import Part, PartKind, TextRun
from coldtexts.view import VolumeView
from view_factory import at, bulk_volume, message, view, with_volumes

FONT_FILES = ("noto/NotoSans-Regular.ttf", "noto/NotoSans-Italic.ttf", "noto/NotoSans-Bold.ttf",
              "noto/NotoSans-BoldItalic.ttf", "dejavu/DejaVuSans.ttf",
              "dejavu/DejaVuSans-Oblique.ttf", "dejavu/DejaVuSans-Bold.ttf",
              "dejavu/DejaVuSans-BoldOblique.ttf")
FONTS = Path("/usr/share/fonts/truetype")

#: Texts at and around the bounds, plus what layout treats specially.
EDGE_TEXTS = (
    "ok", "Hi  there,   spaced", "W" * 30, "i" * 125, "i" * 160, "m" * 60,
    "word " * 14, "word " * 17, "word " * 20, "word " * 40,
    "line one\nline two", "short\n" + "long line " * 12,
    "https://example.com/" + "a" * 150, "你好" * 10, "你好" * 30, "😂" * 12, "شكرا " * 30,
    "e\u0301" * 70, "The quick brown fox jumps over the lazy dog, then naps awhile.",
    "ffi ffl fi fl " * 8, "oU\u0328 o\u031b L\u00b7 " * 10, "❤️ 😂 你好 شكرا ok " * 7,
    "AVAVAV ToTo YoYo LTLT W.W. P.P. TyTy " * 3, "VAVA \"A\"A f)f) " * 9,
    "👍🏽 " * 25, "👨\u200d👩\u200d👧 " * 24, "❤️" * 30, "ok ❤️ " * 14,
    "شكرا (ok) [T,] {Yo} <A> " * 6, "شكرا (ok) " * 9,
)
STYLED = (TextRun("Bold words, ", bold=True), TextRun("italic ones ", italic=True),
          TextRun("and @Mom", mention="+15551230001"), TextRun(" plain " * 9))


def _volume() -> VolumeView:
    bulk = bulk_volume(160, seed=11)
    edges = tuple(view(message(f"edge-{i}", at(2024, 12, 1 + i % 28, 9), sender, text))
                  for i, text in enumerate(EDGE_TEXTS) for sender in (None, "+15551230001"))
    styled = tuple(view(message(f"styled-{i}", at(2024, 12, 28, 9), sender,
                                parts=(Part(0, PartKind.TEXT, runs),)))
                   for i, runs in enumerate((STYLED, STYLED[:3], STYLED * 2))
                   for sender in (None, "+15551230001"))
    return with_volumes(bulk.conversation,
                        [("2024", "2024", (*bulk.messages, *edges, *styled))])[0]


def _layout(html: str, ctx: RenderContext) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every text box (page, x, y, width, text) and every bubble's painted rectangle."""
    from weasyprint import CSS, HTML

    folder = templates_folder(ctx.options)
    css = CSS(string=(folder / "style.css").read_text("utf-8")
              + (folder / "print.css").read_text("utf-8"))
    document = HTML(string=html, base_url=ctx.archive_root.as_uri() + "/").render(
        stylesheets=[css])
    texts: list[tuple[Any, ...]] = []
    bubbles_drawn: list[tuple[Any, ...]] = []

    def walk(box: Any, page: int) -> None:
        if hasattr(box, "text"):
            texts.append((page, round(box.position_x, 3), round(box.position_y, 3),
                          round(box.width, 3), box.text))
        element = getattr(box, "element", None)
        if (element is not None and "bubble" in (element.get("class") or "").split()
                and type(box).__name__ in ("InlineBlockBox", "InlineBox")):
            bubbles_drawn.append((page, box.border_box_x(), box.border_box_y(),
                                  box.border_width(), box.border_height()))
        for child in getattr(box, "children", ()):
            walk(child, page)

    for number, page in enumerate(document.pages):
        walk(page._page_box, number)
    return texts, bubbles_drawn


def _without_classes(html: str) -> str:
    return (html.replace('"bubble long"', '"bubble"').replace('"bubble short"', '"bubble"')
            .replace('"part short"', '"part"'))


def _known_or_skip(ctx: RenderContext) -> textfont.TextFont:
    font = textfont.known_font(templates_folder(ctx.options))
    if font is None:
        pytest.skip("Noto Sans is not installed here as just four static files")
    return font


@pytest.mark.parametrize("known", [False, True], ids=["wide-bounds", "known-font"])
def test_width_classes_change_no_glyph_position(tmp_path: Path, known: bool,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = RenderContext(tmp_path, RenderOptions(timezone="America/New_York"))
    if known:
        _known_or_skip(ctx)
        assert bubbles.pdf_widths(False) != bubbles.WIDE
    else:
        monkeypatch.setattr(textfont, "known_font", lambda folder: None)
    html = render_volume(_volume(), ctx, pdf=True)
    assert html.count('"bubble long"') > 40 and html.count('"bubble short"') > 40
    assert html.count('"bubble"') > 10  # the undecided middle is left to WeasyPrint
    plain = _without_classes(html)
    (texts, drawn), (plain_texts, plain_drawn) = _layout(html, ctx), _layout(plain, ctx)
    assert len(texts) > 300
    assert texts == plain_texts
    # Each bubble's background is painted where the inline-block's was, to a point: an
    # inline's painted height comes from its first font, so a line whose emoji or CJK
    # glyphs came from a taller fallback font paints a fraction of a point shorter.
    assert len(drawn) == len(plain_drawn)
    for ours, theirs in zip(drawn, plain_drawn, strict=True):
        assert ours[0] == theirs[0]
        assert ours[1:] == pytest.approx(theirs[1:], abs=1.0), (ours, theirs)


@pytest.mark.parametrize(("text", "expected"), [
    ("ok", "short"), ("", "short"), ("W" * 30, "short"), ("two\nlines", None),
    ("word " * 10, "short"), ("word " * 15, None), ("word " * 25, "long"),
    ("你好" * 30, None), ("你好 " * 25, "long"), ("i" * 200, None), ("i " * 100, "long"),
    ("i" * 100, "short"), ("i" * 115, None), ("👍🏽 " * 25, None), ("❤️ " * 14, "short"),
])
def test_bubble_class(text: str, expected: str | None) -> None:
    assert bubbles.bubble_class(text) == expected


def test_known_font_bounds_are_tighter_and_fall_back_when_joined(tmp_path: Path) -> None:
    _known_or_skip(RenderContext(tmp_path, RenderOptions(timezone="America/New_York")))
    plain, styled = bubbles.pdf_widths(False), bubbles.pdf_widths(True)
    text = "see you at dinner " * 5  # undecided with the wide bounds
    assert bubbles.bubble_class(text) is None
    assert bubbles.bubble_class(text, plain) == "long"
    assert all(s <= p for s, p in zip(styled.ascii_low, plain.ascii_low, strict=True))
    assert all(s >= p for s, p in zip(styled.ascii_high, plain.ascii_high, strict=True))
    joined = text + "o\u0328"  # may form a ligature with the o: the wide bounds decide
    assert bubbles.bubble_class(joined, plain) == bubbles.bubble_class(joined)


def test_a_restyled_font_list_is_not_known(tmp_path: Path) -> None:
    (tmp_path / "print.css").write_text('html { font-family: "DejaVu Serif"; }')
    assert textfont.known_font(tmp_path) is None


def test_known_font_is_what_fontconfig_draws_noto_sans_with() -> None:
    font = textfont.text_font()
    if font is None:
        pytest.skip("Noto Sans is not installed here as just four static files")
    assert len(set(font.files)) == 4 and all(path.is_file() for path in font.files)
    if font.files[0].name == "NotoSans-Regular.ttf":  # Debian's names
        assert [path.name for path in font.files[1:]] == [
            "NotoSans-Bold.ttf", "NotoSans-Italic.ttf", "NotoSans-BoldItalic.ttf"]


def test_html_pages_carry_no_width_classes(tmp_path: Path) -> None:
    ctx = RenderContext(tmp_path, RenderOptions(timezone="America/New_York"))
    html = render_volume(_volume(), ctx, pdf=False)
    assert "bubble long" not in html and "bubble short" not in html


def test_width_tables_bound_the_installed_fonts() -> None:
    ttlib = pytest.importorskip("fontTools.ttLib")
    paths = [FONTS / name for name in FONT_FILES if (FONTS / name).is_file()]
    if not paths:
        pytest.skip("Noto Sans and DejaVu Sans are not installed here")
    for path in paths:
        font = ttlib.TTFont(path)
        cmap, metrics, em = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
        for code in range(0x20, 0x7F):
            width = metrics[cmap[code]][0] * 1000 / em
            assert bubbles.min_line_width(chr(code)) <= width, (path.name, chr(code))
            assert bubbles.max_line_width(chr(code)) >= width, (path.name, chr(code))
