"""HTML: one page per volume (a year, or part of a busy one), a page per conversation
listing its volumes, the archive's index.html with a filter box, and assets/.

Pages use relative links only, so the archive folder can move; they load nothing from
the network. The same templates make the PDF (see pdf.py).
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

import jinja2

from coldtexts import __version__
from coldtexts.view import ConversationView, VolumeRef, VolumeView

from . import textfont
from .base import RenderContext, RenderJob, RenderOptions, RenderResult
from .fingerprint import fingerprint, module_files
from .html_rows import RowBuilder
from .html_thread import thread_html

ASSETS = ("style.css", "filter.js")
SHIPPED_TEMPLATES = Path(str(importlib.resources.files("coldtexts.templates")))
THREAD_TEMPLATES = ("volume.html.j2", "message.html.j2")


def templates_folder(options: RenderOptions) -> Path:
    if options.templates_dir is not None:
        return Path(options.templates_dir)
    return SHIPPED_TEMPLATES


@lru_cache(maxsize=8)
def environment(folder: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,  # every value is escaped unless it is already Markup
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def template_files(options: RenderOptions) -> list[Path]:
    folder = templates_folder(options)
    return sorted(p for p in folder.iterdir() if p.suffix in (".j2", ".css", ".js"))


def span_text(first: datetime | None, last: datetime | None, zone: ZoneInfo) -> str:
    if first is None or last is None:
        return "no messages"
    a, b = first.astimezone(zone), last.astimezone(zone)
    if a.date() == b.date():
        return f"{a:%B} {a.day}, {a.year}"
    return f"{a:%B} {a.day}, {a.year} – {b:%B} {b.day}, {b.year}"


def _neighbours(conversation: ConversationView,
                key: str) -> tuple[VolumeRef | None, VolumeRef | None]:
    keys = [v.key for v in conversation.volumes]
    index = keys.index(key) if key in keys else -1
    prev = conversation.volumes[index - 1] if index > 0 else None
    nxt = conversation.volumes[index + 1] if 0 <= index < len(keys) - 1 else None
    return prev, nxt


def shipped_thread(folder: Path) -> bool:
    """True while `folder`'s templates that lay out the thread (volume.html.j2's row loop,
    message.html.j2) are the ones shipped with coldtexts, so Python may write the thread
    in their place (html_thread.thread_html); a restyled copy of either keeps its say. Read
    on every call, as Jinja's loader notices an edit too."""
    return folder == SHIPPED_TEMPLATES or all(
        _read(folder / name) == _read(SHIPPED_TEMPLATES / name) for name in THREAD_TEMPLATES)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def volume_context(volume: VolumeView, ctx: RenderContext, *, pdf: bool) -> dict[str, Any]:
    zone = ZoneInfo(ctx.options.timezone)
    conversation = volume.conversation
    builder = RowBuilder(zone, conversation.folder, ctx.archive_root, ctx.options.owner_name,
                         conversation.is_group)
    if pdf:
        builder.for_pdf(volume, known_font=textfont.known_font(
            templates_folder(ctx.options)) is not None)
    prev, nxt = _neighbours(conversation, volume.volume.key)
    last = volume.volume.last.astimezone(zone)
    return {
        "title": f"{conversation.title} · {volume.volume.label}",
        "version": __version__, "pdf": pdf, "body_class": "volume",
        "assets": "../../assets", "created": last.isoformat(timespec="seconds"),
        "conversation": conversation, "volume": volume.volume,
        "span": span_text(volume.volume.first, volume.volume.last, zone),
        "prev": prev, "next": nxt, "timezone": ctx.options.timezone,
        **thread_or_rows(builder, volume, templates_folder(ctx.options), pdf=pdf),
    }


def thread_or_rows(builder: RowBuilder, volume: VolumeView, folder: Path, *,
                   pdf: bool) -> dict[str, Any]:
    """The page's messages: the whole thread as markup written in Python, or the rows for
    restyled copy to lay out (volume.html.j2 takes either)."""
    if shipped_thread(folder):
        return {"thread": thread_html(builder.iter_rows(volume.messages), pdf=pdf),
                "rows": None}
    return {"thread": None, "rows": builder.rows(volume.messages)}


def render_volume(volume: VolumeView, ctx: RenderContext, *, pdf: bool = False) -> str:
    template = environment(templates_folder(ctx.options)).get_template("volume.html.j2")
    return template.render(volume_context(volume, ctx, pdf=pdf))


class HtmlExporter:
    name: ClassVar[str] = "html"
    scope: ClassVar[Literal["volume", "conversation"]] = "volume"
    shows_previews: ClassVar[bool] = True

    def output_path(self, conversation: ConversationView, volume_key: str | None) -> str:
        return f"{conversation.folder}/{volume_key}.html"

    def fingerprint(self, options: RenderOptions) -> str:
        return fingerprint(self.name, options,
                           [*module_files("html", "html_rows", "html_thread", "words", "media"),
                            *template_files(options)])

    def render_many(self, jobs: Sequence[RenderJob], ctx: RenderContext) -> Iterator[RenderResult]:
        for job in jobs:
            yield RenderResult(job, render_volume(job.volumes[0], ctx).encode("utf-8"))

    # -- archive-wide pages (called by the archive's renderer) ------------------------------
    def render_site_index(self, conversations: Sequence[ConversationView],
                          ctx: RenderContext) -> bytes:
        zone = ZoneInfo(ctx.options.timezone)
        floor = datetime.min.replace(tzinfo=ZoneInfo("UTC"))
        ordered = sorted(conversations, key=lambda c: (c.last or floor, c.slug), reverse=True)
        items = [{
            "title": c.title, "href": f"{c.folder}/index.html", "count": c.message_count,
            "span": span_text(c.first, c.last, zone),
            "participants": ", ".join(c.participants) if c.is_group else "",
            "last": c.last_text,
            "search": " ".join([c.title, *c.participants, c.slug]).lower(),
        } for c in ordered]
        template = environment(templates_folder(ctx.options)).get_template("site_index.html.j2")
        return template.render(
            title="Messages archive", version=__version__, pdf=False, body_class="index",
            assets="assets", created=None, conversations=items,
            total=sum(c.message_count for c in conversations),
        ).encode("utf-8")

    def render_conversation_index(self, conversation: ConversationView,
                                  ctx: RenderContext) -> bytes:
        zone = ZoneInfo(ctx.options.timezone)
        volumes = [{"key": v.key, "label": v.label, "count": v.message_count,
                    "first": f"{v.first.astimezone(zone):%Y-%m-%d}",
                    "last": f"{v.last.astimezone(zone):%Y-%m-%d}"} for v in conversation.volumes]
        template = environment(templates_folder(ctx.options)).get_template(
            "conversation_index.html.j2")
        return template.render(
            title=conversation.title, version=__version__, pdf=False, body_class="conversation",
            assets="../../assets", created=None, conversation=conversation, volumes=volumes,
            span=span_text(conversation.first, conversation.last, zone),
        ).encode("utf-8")

    def assets(self) -> dict[str, bytes]:
        folder = templates_folder(RenderOptions())
        return {name: (folder / name).read_bytes() for name in ASSETS}
