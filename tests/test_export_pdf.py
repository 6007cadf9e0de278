"""PDF/A volumes: drawn (not blank), real glyphs for every script, PDF/A metadata, an
outline per month, a running header, offline rendering, and the same bytes every time."""

from __future__ import annotations

import http.server
import io
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pikepdf
import pytest
from coldtexts.exporters.base import RenderContext, RenderJob, RenderOptions
from coldtexts.exporters.pdf import PdfExporter
from PIL import Image

from coldtexts.view import VolumeView
from export_support import exporter, jobs_for, render, showcase_archive
from view_factory import at, guid, message, sha, view, with_volumes
from view_factory_showcase import showcase_messages_2024

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils")
Showcase = tuple[tuple[VolumeView, ...], RenderContext, dict[str, bytes]]


@pytest.fixture(scope="module")
def showcase(tmp_path_factory: pytest.TempPathFactory) -> Showcase:
    root = tmp_path_factory.mktemp("archive")
    volumes, ctx = showcase_archive(root)
    return volumes, ctx, render("pdf", volumes, ctx)


def pdf_of(showcase: Showcase, key: str = "2024") -> bytes:
    return showcase[2][f"conversations/family/{key}.pdf"]


def rasterise(data: bytes, tmp_path: Path, dpi: int = 50) -> list[Image.Image]:
    source = tmp_path / "doc.pdf"
    source.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(source), str(tmp_path / "page")],
                   check=True)
    return [Image.open(p).convert("RGB") for p in sorted(tmp_path.glob("page-*.png"))]


def page_texts(data: bytes, tmp_path: Path) -> list[str]:
    source = tmp_path / "text.pdf"
    source.write_bytes(data)
    out = subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True,
                         capture_output=True).stdout.decode("utf-8")
    return out.split("\f")[:-1]


def inked(image: Image.Image, box: tuple[int, int, int, int] | None = None) -> int:
    """How many pixels are not (nearly) white."""
    gray = (image.crop(box) if box else image).convert("L")
    return sum(count for level, count in enumerate(gray.histogram()) if level < 235)


def fonts(data: bytes) -> set[str]:
    names: set[str] = set()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            for font in page.Resources.get("/Font", {}).values():
                names.add(str(font.get("/BaseFont", "")))
                for descendant in font.get("/DescendantFonts", []):
                    names.add(str(descendant.get("/BaseFont", "")))
    return names


def test_every_page_is_drawn(showcase: Showcase, tmp_path: Path) -> None:
    pages = rasterise(pdf_of(showcase), tmp_path)
    assert len(pages) >= 2
    for image in pages:
        assert inked(image) > image.width * image.height // 100


def test_pdfa_metadata_output_intent_and_pinned_dates(showcase: Showcase) -> None:
    with pikepdf.open(io.BytesIO(pdf_of(showcase))) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3"
        assert meta["pdfaid:conformance"] == "U"
        assert meta["xmp:CreateDate"] == meta["xmp:ModifyDate"] == "2024-03-02T19:30:00-05:00"
        intents = pdf.Root.OutputIntents
        assert len(intents) == 1 and intents[0].S == "/GTS_PDFA1"
        assert len(intents[0].DestOutputProfile.read_bytes()) > 1000  # an ICC profile
        assert len(pdf.trailer.ID) == 2
        assert pdf.Root.Lang == "en"


def test_no_image_is_interpolated(showcase: Showcase) -> None:
    """PDF/A forbids /Interpolate true; CSS image-rendering: crisp-edges turns it off."""
    with pikepdf.open(io.BytesIO(pdf_of(showcase))) as pdf:
        seen = 0
        for page in pdf.pages:
            for image in page.Resources.get("/XObject", {}).values():
                if image.get("/Subtype") == "/Image":
                    seen += 1
                    assert not image.get("/Interpolate", False)
        assert seen >= 5


def test_photos_are_embedded_as_the_previews_bytes(showcase: Showcase) -> None:
    root = showcase[1].archive_root
    preview = (root / f"previews/{sha('photo-heic')[:2]}/{sha('photo-heic')}.jpg").read_bytes()
    with pikepdf.open(io.BytesIO(pdf_of(showcase))) as pdf:
        jpegs = {bytes(x.read_raw_bytes()) for page in pdf.pages
                 for x in page.Resources.get("/XObject", {}).values()
                 if x.get("/Filter") == "/DCTDecode"}
    assert preview in jpegs


def test_outline_has_one_entry_per_month(showcase: Showcase) -> None:
    with pikepdf.open(io.BytesIO(pdf_of(showcase))) as pdf, pdf.open_outline() as outline:
        titles = [item.title for item in outline.root]
    assert titles == ["January 2024", "February 2024", "March 2024"]


def test_running_header_page_numbers_and_selectable_text(showcase: Showcase,
                                                          tmp_path: Path) -> None:
    pages = page_texts(pdf_of(showcase), tmp_path)
    for number, text in enumerate(pages, start=1):
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        assert "Family <b>& friends</b>" in lines[0]
        assert "January 4, 2024 – March 2, 2024" in lines[0]
        assert lines[-1] == str(number)
        assert " of " not in lines[-1]
    everything = "\n".join(pages)
    for said in ("Good morning sweetheart!", "<script>alert('pwned')</script>",
                 "你好，明天见！日本語もOK", "مرحبا", "كيف حالك اليوم؟", "Dinner at 6 tonight"):
        assert said in everything


def single_message_pdf(showcase: Showcase, label: str) -> bytes:
    ctx = showcase[1]
    chosen = tuple(m for m in showcase_messages_2024() if m.message.guid == guid(label))
    volume = with_volumes(showcase[0][0].conversation, [("2024", "2024", chosen)])[0]
    results = list(PdfExporter().render_many([RenderJob("x.pdf", volume.conversation,
                                                        (volume,))], ctx))
    assert results[0].data is not None, results[0].error
    return results[0].data


@pytest.mark.parametrize(("label", "font"), [
    ("emoji", "Emoji"), ("cjk", "CJK"), ("arabic", "Arabic|DejaVu"),
])
def test_scripts_are_drawn_with_real_glyphs(showcase: Showcase, tmp_path: Path,
                                            label: str, font: str) -> None:
    data = single_message_pdf(showcase, label)
    assert any(any(f in name for f in font.split("|")) for name in fonts(data)), fonts(data)
    page = rasterise(data, tmp_path, dpi=100)[0]
    body = (0, page.height // 5, page.width, page.height * 9 // 10)
    assert inked(page, body) > 400
    if label == "emoji":  # colour glyphs: 😀 and 🎂 are yellow and pink, never grey tofu
        colourful = sum(1 for r, g, b in page.crop(body).get_flattened_data()
                        if max(r, g, b) - min(r, g, b) > 80 and not (b > r and b > g))
        assert colourful > 200


def test_rendering_is_deterministic_in_process_and_in_a_worker(showcase: Showcase) -> None:
    volumes, ctx = showcase[0], showcase[1]
    again = render("pdf", volumes[1:], ctx)
    assert again["conversations/family/2025.pdf"] == pdf_of(showcase, "2025")
    code = (f"import sys; sys.path[:0] = [{str(HERE)!r}]\n"
            "from pathlib import Path\n"
            "from export_support import render, showcase_archive\n"
            f"volumes, ctx = showcase_archive(Path({str(ctx.archive_root)!r}))\n"
            "sys.stdout.buffer.write(render('pdf', volumes[1:], ctx)"
            "['conversations/family/2025.pdf'])\n")
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                           env={"PYTHONHASHSEED": "999", "TZ": "Asia/Tokyo",
                                "PATH": "/usr/bin:/bin"})
    assert child.stdout == pdf_of(showcase, "2025")


def test_emoji_glyph_images_are_shared_and_the_pdf_is_unchanged(
        showcase: Showcase, monkeypatch: pytest.MonkeyPatch) -> None:
    from coldtexts.exporters import pdf
    from weasyprint.draw import text
    from weasyprint.images import RasterImage

    assert getattr(text.RasterImage, "_coldtexts_shared", False), "WeasyPrint's hook moved"
    monkeypatch.setattr(text, "RasterImage", RasterImage)
    monkeypatch.setattr(pdf, "_share_emoji_images", lambda: None)
    volumes, ctx = showcase[0], showcase[1]
    unshared = render("pdf", volumes[:1], ctx)["conversations/family/2024.pdf"]
    assert unshared == pdf_of(showcase, "2024")


@pytest.mark.slow
def test_volumes_render_in_worker_processes_with_the_same_bytes(tmp_path: Path) -> None:
    from view_factory import bulk_volume

    volumes = tuple(bulk_volume(600, key=str(year), attachment_every=0)
                    for year in (2021, 2022, 2023))
    ctx = RenderContext(tmp_path, RenderOptions(timezone="UTC", pdf_workers=2))
    pdf = exporter("pdf")
    jobs = [job for v in volumes for job in jobs_for(pdf, (v,))]
    pooled = list(pdf.render_many(jobs, ctx))
    assert [r.job for r in pooled] == jobs
    inline = list(PdfExporter().render_many(jobs[:1], ctx))
    assert pooled[0].data == inline[0].data
    assert all(r.data is not None and r.data.startswith(b"%PDF-") for r in pooled)


@pytest.mark.slow
def test_worker_pools_are_replaced_once_they_have_rendered_their_budget(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from coldtexts.exporters import pdf as pdf_module

    from view_factory import bulk_volume

    monkeypatch.setattr(pdf_module, "MESSAGES_PER_WORKER", 150)
    monkeypatch.setattr(pdf_module, "MIN_TASK_WEIGHT", 100)
    volumes = tuple(bulk_volume(n, key=str(2015 + i), attachment_every=0)
                    for i, n in enumerate((150, 40, 40, 150, 150, 10)))
    ctx = RenderContext(tmp_path, RenderOptions(timezone="UTC", pdf_workers=2))
    pdf = PdfExporter()
    closed = []
    original_close = pdf.close
    def close() -> None:  # records whether a running pool was closed
        closed.append(pdf._pool is not None and pdf._pool.started)
        original_close()

    monkeypatch.setattr(pdf, "close", close)
    jobs = [job for v in volumes for job in jobs_for(pdf, (v,))]
    results = list(pdf.render_many(jobs, ctx))
    assert [r.job for r in results] == jobs
    assert all(r.data is not None and r.data.startswith(b"%PDF-") for r in results)
    # budget 300 (2 workers x 150): [150, 100 (40), 100 (40)] then [150, 150] then [100]
    assert closed.count(True) == 2
    pdf.close()


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = _png(8, 8)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Recorder.requests.clear()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def hostile_templates(folder: Path, url: str, outside: Path) -> Path:
    """A restyled copy of the templates that asks for remote and outside files."""
    shutil.copytree(HERE.parent / "templates", folder,
                    ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    base = folder / "base.html.j2"
    base.write_text(base.read_text().replace("</head>", (
        f'<link rel="stylesheet" href="{url}/linked.css">'
        f'<link rel="attachment" href="{url}/attached.bin"></head>')).replace(
        "<body", f'<body style="background: url({url}/inline.png)"'))
    volume = folder / "volume.html.j2"
    volume.write_text(volume.read_text().replace("<main", (
        f'<img src="{url}/remote.png"><img src="{outside.as_uri()}"><main')))
    style = folder / "style.css"
    style.write_text(f'@import url("{url}/imported.css");\n' + style.read_text()
                     + f"\n.msg {{ background-image: url({url}/bubble.png); }}\n")
    return folder


def test_rendering_fetches_nothing_from_the_network_or_outside_the_archive(
        showcase: Showcase, server: str, tmp_path: Path) -> None:
    from weasyprint import HTML

    HTML(string=f'<img src="{server}/probe.png">').write_pdf()
    assert _Recorder.requests == ["/probe.png"]  # WeasyPrint alone would fetch it
    _Recorder.requests.clear()

    outside = tmp_path / "outside.png"
    outside.write_bytes(_png(77, 33))
    ctx = showcase[1]
    options = RenderOptions(timezone=ctx.options.timezone,
                            templates_dir=hostile_templates(tmp_path / "tpl", server, outside))
    link = next(m for m in showcase_messages_2024() if m.message.guid == guid("link"))
    preview = replace(link.message.link_preview, url=f"{server}/story",
                      original_url=f"{server}/story")
    linked = replace(link, message=replace(link.message, link_preview=preview,
                                           text=f"{server}/story"))
    volume = with_volumes(showcase[0][0].conversation, [("2024", "2024", (linked,))])[0]
    results = list(PdfExporter().render_many(
        [RenderJob("x.pdf", volume.conversation, (volume,))],
        RenderContext(ctx.archive_root, options)))
    assert results[0].data is not None, results[0].error
    assert _Recorder.requests == []
    with pikepdf.open(io.BytesIO(results[0].data)) as pdf:
        sizes = {(int(x.Width), int(x.Height)) for page in pdf.pages
                 for x in page.Resources.get("/XObject", {}).values()
                 if x.get("/Subtype") == "/Image"}
    assert (77, 33) not in sizes and (8, 8) not in sizes
    assert (600, 315) in sizes  # the link preview's cached image, from inside the archive


def test_characters_no_font_draws_are_warned_about(showcase: Showcase) -> None:
    ctx = showcase[1]
    apple = view(message("apple-logo", at(2024, 5, 1, 12), None, "Sent from my \uf8ff iPhone"))
    hello = next(m for m in showcase_messages_2024() if m.message.guid == guid("hello"))
    volume = with_volumes(showcase[0][0].conversation, [("2024", "2024", (hello, apple))])[0]
    result = next(PdfExporter().render_many(
        [RenderJob("x.pdf", volume.conversation, (volume,))], ctx))
    assert result.data is not None
    assert len(result.warnings) == 1 and "U+F8FF" in result.warnings[0]
    assert "conversations/family/2024.pdf" in result.warnings[0]
    everything = next(PdfExporter().render_many(
        [RenderJob("y.pdf", showcase[0][0].conversation, (showcase[0][0],))], ctx))
    assert everything.warnings == ()  # emoji, CJK and Arabic all have fonts


def test_pdf_markup_gives_ids_only_to_reply_targets(showcase: Showcase) -> None:
    """Ids stop WeasyPrint sharing computed styles (twice the layout time); in the PDF
    only a message a reply points at needs one, and the reply links inside the PDF."""
    from coldtexts.exporters.html import render_volume

    source = render_volume(showcase[0][0], showcase[1], pdf=True)
    assert re.findall(r' id="(m-[^"]+)"', source) == [f"m-{guid('question')}"]
    assert f'href="#m-{guid("question")}"' in source
    with pikepdf.open(io.BytesIO(pdf_of(showcase))) as pdf:
        names = pdf.Root.Names.Dests.Names if "/Dests" in pdf.Root.get("/Names", {}) else []
        assert f"m-{guid('question')}" in {str(n) for n in names[::2]}
