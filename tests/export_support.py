"""Shared set-up for the exporter tests: a showcase archive folder and render helpers."""

from __future__ import annotations

import html.parser
from pathlib import Path

from coldtexts.exporters import get_exporters
from coldtexts.exporters.base import Exporter, RenderContext, RenderJob, RenderOptions

from coldtexts.view import AttachmentView, VolumeView
from view_factory import showcase_volumes
from view_factory_media import write_originals

ZONE = "America/New_York"


def all_attachments(volumes: tuple[VolumeView, ...]) -> list[AttachmentView]:
    found: list[AttachmentView] = []
    for volume in volumes:
        for message in volume.messages:
            found.extend(message.attachments)
            found.extend(r.sticker for r in message.reactions if r.sticker is not None)
    return found


def showcase_archive(root: Path, previews: bool = True,
                     **options: object) -> tuple[tuple[VolumeView, ...], RenderContext]:
    """The showcase volumes with their originals (and previews) stored under `root`."""
    from coldtexts.exporters import media

    volumes = showcase_volumes()
    write_originals(root)
    if previews:
        media.ensure_previews(root, all_attachments(volumes))
    ctx = RenderContext(root, RenderOptions(timezone=ZONE, **options))  # type: ignore[arg-type]
    return volumes, ctx


def exporter(name: str) -> Exporter:
    return get_exporters([name])[0]


def jobs_for(exp: Exporter, volumes: tuple[VolumeView, ...]) -> list[RenderJob]:
    conversation = volumes[0].conversation
    if exp.scope == "conversation":
        return [RenderJob(exp.output_path(conversation, None), conversation, volumes)]
    return [RenderJob(exp.output_path(conversation, v.volume.key), conversation, (v,))
            for v in volumes]


def render(name: str, volumes: tuple[VolumeView, ...], ctx: RenderContext) -> dict[str, bytes]:
    """Archive path → bytes for every output of one format."""
    exp = exporter(name)
    out: dict[str, bytes] = {}
    for result in exp.render_many(jobs_for(exp, volumes), ctx):
        assert result.error is None, result.error
        assert result.data is not None
        out[result.job.path] = result.data
    return out


class Page(html.parser.HTMLParser):
    """Every start tag with its attributes, and the page's text, as a browser reads them."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text_chunks: list[str] = []
        self.feed(source)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text_chunks.append(data)

    @property
    def text(self) -> str:
        return "".join(self.text_chunks)

    def attrs(self, tag: str, name: str) -> list[str]:
        return [a[name] or "" for t, a in self.tags if t == tag and name in a]

    def ids(self) -> list[str]:
        return [a["id"] or "" for _t, a in self.tags if "id" in a]
