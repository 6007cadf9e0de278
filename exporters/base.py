"""The one small interface every output format implements.

The archive layer decides *what* to render (which conversation, which volume, whether
its render key changed) and publishes the bytes atomically; an exporter only turns view
objects into bytes. Exporters never touch the network, never read a backup, and never
write files themselves (the PDF worker pool returns bytes to the parent).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal, Protocol

from coldtexts.view import ConversationView, VolumeView


@dataclass(frozen=True, slots=True)
class RenderOptions:
    timezone: str = "UTC"  # IANA name; the CLI fills in the system zone by default
    owner_name: str = "Me"
    templates_dir: Path | None = None  # a user's restyled copy of templates/
    pdf_workers: int = 0  # 0: one per core


@dataclass(frozen=True, slots=True)
class RenderContext:
    archive_root: Path  # exporters may read archive files (images for PDF), never write
    options: RenderOptions = field(default_factory=RenderOptions)


@dataclass(frozen=True, slots=True)
class RenderJob:
    path: str  # archive-relative POSIX path of the output, e.g. conversations/x/2019.pdf
    conversation: ConversationView
    volumes: tuple[VolumeView, ...]  # one for per-volume formats, all for whole-conversation


@dataclass(frozen=True, slots=True)
class RenderResult:
    job: RenderJob
    data: bytes | None
    error: str | None = None  # one sentence when this output failed (the run goes on)
    warnings: tuple[str, ...] = ()  # sentences worth telling (e.g. characters no font draws)


class Exporter(Protocol):
    name: ClassVar[str]  # "html", "pdf", "txt", "jsonl"
    scope: ClassVar[Literal["volume", "conversation"]]
    # Whether its outputs show photo previews (archive/render.py makes them only then:
    # converting a 12 MP HEIC takes ~0.4 s, wasted on a TXT- or JSONL-only export).
    shows_previews: ClassVar[bool]

    def output_path(self, conversation: ConversationView, volume_key: str | None) -> str:
        """Archive-relative path of one output (volume_key is None for conversation scope)."""
        ...

    def fingerprint(self, options: RenderOptions) -> str:
        """A digest of everything besides the data that shapes the output: the exporter's
        version, the templates' bytes, the options. Part of every render key."""
        ...

    def render_many(self, jobs: Sequence[RenderJob], ctx: RenderContext) -> Iterator[RenderResult]:
        """Render each job; a failed job yields a RenderResult with `error` set."""
        ...
