"""HTML pages read like Messages, escape every message, and link only inside the archive."""

from __future__ import annotations

import gc
import itertools
import posixpath
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from coldtexts.exporters.base import RenderContext, RenderOptions
from coldtexts.exporters.html import (
    HtmlExporter,
    render_volume,
    shipped_thread,
    templates_folder,
)
from coldtexts.exporters.words import relative_link

from coldtexts.view import VolumeView
from export_support import Page, render, showcase_archive
from view_factory import XSS_IMG, XSS_SCRIPT, archive_path, bulk_volume, guid, sha

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[tuple[VolumeView, ...],
                                                               RenderContext, dict[str, str]]:
    root = tmp_path_factory.mktemp("archive")
    volumes, ctx = showcase_archive(root)
    pages = {path: data.decode("utf-8") for path, data in render("html", volumes, ctx).items()}
    return volumes, ctx, pages


def page(archive: tuple[object, object, dict[str, str]], key: str = "2024") -> str:
    return archive[2][f"conversations/family/{key}.html"]


def chunk(source: str, label: str) -> str:
    """The HTML of one message: from its anchor to the next message's."""
    start = source.index(f'id="m-{guid(label)}"')
    following = source.find('id="m-', start + 1)
    return source[start:following if following != -1 else len(source)]


def classes(source: str, label: str) -> set[str]:
    before = source.rfind("<", 0, source.index(f'id="m-{guid(label)}"'))
    tag = source[before:source.index(">", before)]
    found = re.search(r'class="([^"]*)"', tag)
    return set(found.group(1).split()) if found else set()


def test_message_content_is_escaped_and_shows_as_text(archive: tuple) -> None:
    source = page(archive)
    parsed = Page(source)
    assert not any(tag == "script" for tag, _ in parsed.tags)
    assert not any(name.startswith("on") for _, attrs in parsed.tags for name in attrs)
    assert "x" not in parsed.attrs("img", "src")
    for shown in (XSS_SCRIPT, XSS_IMG, "<b>subject</b>", "<i>+1 (555) 999-0000</i>",
                  "Family <b>& friends</b>", "A <very> good story", "Boarding pass <LHR>.pdf"):
        assert shown in parsed.text


def test_every_message_has_its_anchor(archive: tuple) -> None:
    volumes = archive[0]
    for volume in volumes:
        ids = Page(page(archive, volume.volume.key)).ids()
        assert all(m.anchor in ids for m in volume.messages)
        assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("label", "side", "colour"), [
    ("hello", "them", "blue"), ("mine", "me", "blue"), ("sms-in", "them", "green"),
    ("sms-out", "me", "green"), ("rcs", "them", "green"), ("sat", "them", "blue"),
])
def test_bubbles_sit_left_or_right_in_the_service_colour(archive: tuple, label: str,
                                                         side: str, colour: str) -> None:
    assert {side, colour} <= classes(page(archive), label)


def test_group_messages_name_their_sender_and_services_are_labelled(archive: tuple) -> None:
    source = page(archive)
    assert "Mom" in Page(chunk(source, "hello")).text
    assert "李伟" in Page(chunk(source, "cjk")).text
    assert "Me" not in Page(chunk(source, "mine")).text.split()
    assert "satellite" in Page(chunk(source, "sat")).text
    assert "SMS" in Page(chunk(source, "sms-in")).text


def test_times_and_day_separators_use_the_chosen_zone(archive: tuple) -> None:
    source = page(archive)
    assert "09:02" in Page(chunk(source, "hello")).text  # 14:02 UTC in New York (EST)
    text = Page(source).text
    assert "Friday, January 5, 2024" in text
    assert "19:30" in Page(chunk(source, "confetti")).text  # 00:30 UTC on March 3
    assert "Saturday, March 2, 2024" in text
    assert "March 3, 2024" not in text
    for month in ("January 2024", "February 2024", "March 2024"):
        assert month in text


def test_tapbacks_name_who_reacted(archive: tuple) -> None:
    text = Page(chunk(page(archive), "hello")).text
    for reaction in ("❤️ Dad", "😂 You", "🎉 李伟"):
        assert reaction in text


def test_tapbacks_sit_on_the_part_they_target(archive: tuple) -> None:
    source = chunk(page(archive), "photos")
    jpeg_preview = f"previews/{sha('photo-jpeg')[:2]}/{sha('photo-jpeg')}.jpg"
    like = source.index("👍")
    assert source.index(jpeg_preview) < like < source.index("From the beach")
    assert source.index("From the beach") < source.index("❤️ Dad")


def test_replies_quote_and_link_what_they_answer(archive: tuple) -> None:
    source = page(archive)
    answer = Page(chunk(source, "answer"))
    assert f"2024.html#m-{guid('question')}" in answer.attrs("a", "href")
    assert "Who is bringing dessert?" in answer.text
    lost = Page(chunk(source, "lost-reply")).text
    assert "not in the archive" in lost
    assert ": “" not in lost.replace("archive”", "")  # no empty sender before the quote


def test_edits_unsends_effects_and_flags_are_said(archive: tuple) -> None:
    source = page(archive)
    assert "Dinner at 6 tonight" in Page(chunk(source, "edited")).text
    unsent = Page(chunk(source, "unsent")).text
    assert "unsent" in unsent.lower() and "oops wrong chat" in unsent
    assert "Text as it read before" in Page(chunk(source, "changed")).text
    assert "Slam" in Page(chunk(source, "mine")).text
    assert "Confetti" in Page(chunk(source, "confetti")).text
    assert "Recently Deleted" in Page(chunk(source, "deleted")).text
    assert "2024-06-01" in Page(chunk(source, "gone")).text
    assert "not delivered" in Page(chunk(source, "failed")).text
    assert "expired" in Page(chunk(source, "expired")).text.lower()


def test_events_are_centred_lines(archive: tuple) -> None:
    source = page(archive)
    assert "event" in classes(source, "renamed")
    assert "Dad named the conversation “Family”" in Page(chunk(source, "renamed")).text
    assert "أميرة left the conversation" in Page(page(archive, "2025")).text


def test_attachments_show_inline_with_their_originals_linked(archive: tuple) -> None:
    source = page(archive)
    up = "../../"
    photos = Page(chunk(source, "photos"))
    assert up + f"previews/{sha('photo-heic')[:2]}/{sha('photo-heic')}.jpg" in photos.attrs(
        "img", "src")
    assert up + archive_path("photo-heic") in photos.attrs("a", "href")
    assert not any(src.lower().endswith(".heic") for src in Page(source).attrs("img", "src"))
    video = Page(chunk(source, "video"))
    assert up + archive_path("video") in video.attrs("video", "src") + [
        s for _t, a in video.tags if _t == "source" for s in [a.get("src") or ""]]
    voice = Page(chunk(source, "voice"))
    assert up + f"previews/{sha('voice')[:2]}/{sha('voice')}.m4a" in voice.attrs("audio", "src")
    assert up + archive_path("voice") in voice.attrs("a", "href")
    assert "Hi, it's Mom, call me back" in voice.text
    assert up + archive_path("song") in Page(chunk(source, "song")).attrs("audio", "src")
    pdf = Page(chunk(source, "pdf"))
    assert up + archive_path("pdf") in pdf.attrs("a", "href")
    assert "Boarding pass <LHR>.pdf" in pdf.text and "97.8 KB" in pdf.text
    missing = Page(chunk(source, "missing")).text
    assert "IMG_0412.HEIC" in missing and "iCloud" in missing
    sticker = Page(chunk(source, "sticker"))
    assert up + f"previews/{sha('sticker')[:2]}/{sha('sticker')}.png" in sticker.attrs(
        "img", "src")


def test_link_previews_and_apps_use_cached_content_only(archive: tuple) -> None:
    link = Page(chunk(page(archive), "link"))
    assert "A <very> good story" in link.text
    assert "What happened & why" in link.text and "Example News" in link.text
    assert all(not src.startswith(("http:", "https:", "//")) for src in link.attrs("img", "src"))
    preview = f"previews/{sha('preview-image')[:2]}/{sha('preview-image')}.jpg"
    assert "../../" + preview in link.attrs("img", "src")
    assert "Sent $25 with Apple Pay." in Page(chunk(page(archive), "pay")).text


def test_every_local_reference_is_relative_and_inside_the_archive(archive: tuple) -> None:
    root = archive[1].archive_root
    allowed = ("https://", "http://", "mailto:", "tel:", "sms:", "facetime:", "maps:", "#")
    for path, source in archive[2].items():
        parsed = Page(source)
        folder = posixpath.dirname(path)
        for tag, attrs in parsed.tags:
            for name in ("src", "href"):
                value = attrs.get(name)
                if value is None or (name == "href" and value.startswith(allowed)):
                    continue
                assert not value.startswith(("/", "file:", "http", "//")), (tag, value)
                target = posixpath.normpath(posixpath.join(folder, value.split("#")[0]))
                assert not target.startswith(".."), value
                if name == "src":
                    assert (root / target).is_file(), value


def test_volumes_link_to_each_other_and_to_the_indexes(archive: tuple) -> None:
    first, second = Page(page(archive, "2024")), Page(page(archive, "2025"))
    assert "2025.html" in first.attrs("a", "href")
    assert "2024.html" in second.attrs("a", "href")
    for parsed in (first, second):
        assert {"index.html", "../../index.html"} <= set(parsed.attrs("a", "href"))
        assert "../../assets/style.css" in parsed.attrs("link", "href")


def test_site_index_lists_conversations_most_recent_first(archive: tuple) -> None:
    volumes, ctx = archive[0], archive[1]
    other = bulk_volume(30, key="2026").conversation  # last message in 2026: listed first
    exporter = HtmlExporter()
    source = exporter.render_site_index([volumes[0].conversation, other], ctx).decode()
    parsed = Page(source)
    hrefs = [h for h in parsed.attrs("a", "href") if h.startswith("conversations/")]
    assert hrefs == ["conversations/mom/index.html", "conversations/family/index.html"]
    text = parsed.text
    for expected in ("Family <b>& friends</b>", "Mom, Dad, 李伟, أميرة", "38 messages",
                     "See you Sunday ❤️", "January 4, 2024 – January 2, 2025"):
        assert expected in text
    assert parsed.attrs("input", "id") == ["filter"]
    assert not any(t == "li" and ("hidden" in a or "display" in (a.get("style") or ""))
                   for t, a in parsed.tags)  # without JavaScript every row shows
    scripts = parsed.attrs("script", "src")
    assets = exporter.assets()
    assert all(s.removeprefix("assets/") in assets for s in scripts)
    assert "style.css" in assets


def test_conversation_index_lists_its_volumes(archive: tuple) -> None:
    volumes, ctx = archive[0], archive[1]
    parsed = Page(HtmlExporter().render_conversation_index(volumes[0].conversation,
                                                           ctx).decode())
    hrefs = parsed.attrs("a", "href")
    assert {"2024.html", "2025.html", "transcript.txt", "../../index.html"} <= set(hrefs)
    assert "35" in parsed.text and "3" in parsed.text


def test_a_restyled_copy_of_the_templates_is_used(archive: tuple, tmp_path: Path) -> None:
    volumes, ctx = archive[0], archive[1]
    folder = tmp_path / "mine"
    shutil.copytree(HERE.parent / "templates", folder,
                    ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    volume = folder / "volume.html.j2"
    volume.write_text(volume.read_text().replace("<main", "<p>restyled</p><main"))
    options = RenderOptions(timezone=ctx.options.timezone, templates_dir=folder)
    restyled = render("html", volumes[:1], RenderContext(ctx.archive_root, options))
    assert "<p>restyled</p>" in restyled["conversations/family/2024.html"].decode()
    assert HtmlExporter().fingerprint(options) != HtmlExporter().fingerprint(ctx.options)


def templates_copy(folder: Path) -> Path:
    shutil.copytree(HERE.parent / "templates", folder,
                    ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return folder


def test_a_restyled_message_template_is_used(archive: tuple, tmp_path: Path) -> None:
    volumes, ctx = archive[0], archive[1]
    folder = templates_copy(tmp_path / "mine")
    macro = folder / "message.html.j2"
    macro.write_text(macro.read_text().replace('class="sender"', 'class="sender mine"'))
    options = RenderOptions(timezone=ctx.options.timezone, templates_dir=folder)
    restyled = render("html", volumes[:1], RenderContext(ctx.archive_root, options))
    assert 'class="sender mine"' in restyled["conversations/family/2024.html"].decode()


@pytest.mark.parametrize(("previews", "restyled"), [(True, "message.html.j2"),
                                                    (False, "message.html.j2"),
                                                    (True, "volume.html.j2")])
def test_the_thread_written_in_python_is_the_message_macros(tmp_path: Path, previews: bool,
                                                            restyled: str) -> None:
    """html_thread.thread_html stands in for the templates' row loop and message macro while
    they are the shipped ones; a copy differing by a comment only makes the pages go
    through the macro: same bytes."""
    volumes, ctx = showcase_archive(tmp_path / "archive", previews=previews)
    volumes = (*volumes, bulk_volume(400, key="2026"))
    folder = templates_copy(tmp_path / "tpl")
    template = folder / restyled
    template.write_text(template.read_text() + "{# a restyled copy #}\n")
    assert shipped_thread(templates_folder(ctx.options))
    assert not shipped_thread(folder)
    by_macro = RenderContext(ctx.archive_root, replace(ctx.options, templates_dir=folder))
    for volume in volumes:
        for pdf in (False, True):
            ours = render_volume(volume, ctx, pdf=pdf)
            assert ours == render_volume(volume, by_macro, pdf=pdf), (volume.volume.key, pdf)


def test_a_page_leaves_no_reference_cycle(archive: tuple) -> None:
    """Rendering allocates too little for the collector to run often, so garbage in a
    cycle (the page's context holding its thread, once) piled up a volume at a time."""
    volumes, ctx = archive[0], archive[1]
    render_volume(volumes[0], ctx)  # templates compiled and cached
    gc.collect()
    gc.disable()
    try:
        render_volume(volumes[0], ctx)
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_relative_links_are_what_posixpath_relpath_gives() -> None:
    """words.relative_link skips relpath's getcwd() calls; every shape of path, with dots,
    doubled or trailing slashes and absolute ones, still links the same."""
    names = ["", ".", "..", "a", "b", "x.heic"]
    paths = {prefix + "/".join(parts) for prefix in ("", "/") for count in range(3)
             for parts in itertools.product(names, repeat=count)}
    for start, path in itertools.product(sorted(paths), repeat=2):
        if path:  # relpath refuses an empty path
            assert relative_link(start, path) == posixpath.relpath(path, start), (start, path)


def test_without_previews_images_link_their_original(tmp_path: Path) -> None:
    volumes, ctx = showcase_archive(tmp_path, previews=False)
    source = render("html", volumes[:1], ctx)["conversations/family/2024.html"].decode()
    photos = Page(chunk(source, "photos"))
    assert "../../" + archive_path("photo-heic") in photos.attrs("a", "href")
    assert not any(src.endswith((".heic", ".HEIC")) for src in photos.attrs("img", "src"))


RENDER_IN_CHILD = """
import sys
sys.path[:0] = [{tests!r}]
from pathlib import Path
from export_support import render, showcase_archive
volumes, ctx = showcase_archive(Path({root!r}))
for path, data in sorted(render("html", volumes, ctx).items()):
    sys.stdout.buffer.write(path.encode() + b"\\0" + data + b"\\0")
"""


def test_rendering_is_byte_identical_across_runs_and_processes(archive: tuple) -> None:
    volumes, ctx, pages = archive
    again = render("html", volumes, ctx)
    assert {p: d.decode() for p, d in again.items()} == pages
    code = RENDER_IN_CHILD.format(tests=str(HERE), root=str(ctx.archive_root))
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                           env={"PYTHONHASHSEED": "12345", "TZ": "Asia/Tokyo",
                                "PATH": "/usr/bin:/bin"})
    expected = b"".join(p.encode() + b"\0" + pages[p].encode() + b"\0" for p in sorted(pages))
    assert child.stdout == expected
