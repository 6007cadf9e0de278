"""PDF bubble width classes: they must only ever save WeasyPrint work, never move a glyph.

The proof is a real layout: the same volume laid out by WeasyPrint with and without the
classes must put every piece of text at the same place, with the same width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from coldtexts.exporters import bubbles
from coldtexts.exporters.base import RenderContext, RenderOptions
from coldtexts.exporters.html import render_volume, templates_folder

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
)


def _volume() -> VolumeView:
    bulk = bulk_volume(160, seed=11)
    edges = tuple(view(message(f"edge-{i}", at(2024, 12, 1 + i % 28, 9), sender, text))
                  for i, text in enumerate(EDGE_TEXTS) for sender in (None, "+15551230001"))
    return with_volumes(bulk.conversation, [("2024", "2024", (*bulk.messages, *edges))])[0]


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


def test_width_classes_change_no_glyph_position(tmp_path: Path) -> None:
    ctx = RenderContext(tmp_path, RenderOptions(timezone="America/New_York"))
    html = render_volume(_volume(), ctx, pdf=True)
    assert html.count('"bubble long"') > 40 and html.count('"bubble short"') > 40
    assert html.count('"bubble"') > 10  # the undecided middle is left to WeasyPrint
    plain = (html.replace('"bubble long"', '"bubble"').replace('"bubble short"', '"bubble"')
             .replace('"part short"', '"part"'))
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
    ("你好" * 30, "long"), ("i" * 200, "long"), ("i" * 100, "short"), ("i" * 115, None),
])
def test_bubble_class(text: str, expected: str | None) -> None:
    assert bubbles.bubble_class(text) == expected


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
