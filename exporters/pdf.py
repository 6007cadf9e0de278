"""PDF/A-3u volumes through WeasyPrint, from the same templates as the HTML.

WeasyPrint is single-threaded and keeps a whole document in memory, and its memory is
only reliably returned when a process ends (reference/pdf-rendering.md), so volumes are
rendered in worker processes that are replaced every few volumes, one volume per task,
with the bytes sent back to the parent (which publishes them atomically). Small batches
render in-process: starting a worker costs more than they do.

Nothing is fetched from the network: the URL fetcher serves files inside the archive
folder and refuses everything else. Images are the pre-scaled JPEG/PNG previews, which
WeasyPrint embeds as they are. Metadata is pinned (dates from the volume's last message,
the identifier from the content) so the same store renders the same PDF.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import unquote, urlparse

from coldtexts.view import ConversationView, VolumeView

from . import glyphs
from .base import RenderContext, RenderJob, RenderOptions, RenderResult
from .fingerprint import fingerprint, module_files
from .html import render_volume, template_files, templates_folder
from .workers import LazyPool

PDF_VARIANT = "pdf/a-3u"  # the maintainers' recommended archival variant
INLINE_MESSAGES = 1500  # below this many messages in a batch, skip the worker pool
#: Messages a worker renders before it is replaced: bounds its memory growth (eight full
#: volumes) while amortising its start-up (~0.8 s of fonts and stylesheet) over many small
#: conversations, each of which counts as at least MIN_TASK_WEIGHT messages.
MESSAGES_PER_WORKER = 32_000
MIN_TASK_WEIGHT = 250


def _archive_fetcher(archive_root: Path) -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = archive_root.resolve()

    class ArchiveFetcher(URLFetcher):  # type: ignore[misc]
        """Serves files inside the archive; refuses every other URL (no network)."""

        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            parsed = urlparse(url)
            if parsed.scheme != "file":
                raise ValueError(f"coldtexts renders offline; not fetching {parsed.scheme} URL")
            path = Path(unquote(parsed.path)).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                raise ValueError("coldtexts only reads files inside the archive")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=path.read_bytes(),
                                      headers={"Content-Type": mime})

    return ArchiveFetcher()


@lru_cache(maxsize=4)
def _stylesheet(folder: Path, archive_root: Path) -> Any:
    """The parsed stylesheet, once per process. It gets the archive fetcher too: a
    restyled copy's @import or url() must not reach the network either."""
    from weasyprint import CSS

    text = (folder / "style.css").read_text("utf-8") + (folder / "print.css").read_text("utf-8")
    return CSS(string=text, base_url=folder.resolve().as_uri() + "/",
               url_fetcher=_archive_fetcher(archive_root))


_SHARED_MARK = "_coldtexts_shared"


def _share_emoji_images() -> None:
    """Draw each colour emoji glyph from one image object per process.

    For every emoji it draws, WeasyPrint decodes the glyph's PNG from the font and builds
    a new RasterImage, whose palette PNG it converts and re-encodes (~1.5 ms): 15% of a
    volume's render time with a tapback on every seventh message, measured. The image
    depends only on its id (font hash and glyph) and the PDF already keeps one XObject per
    id, so handing back the first object for an id changes nothing in the output. If a
    WeasyPrint release renames the hook, rendering goes on unshared (a test notices)."""
    try:
        from weasyprint.draw import text
    except ImportError:
        return
    build = getattr(text, "RasterImage", None)
    if build is None or getattr(build, _SHARED_MARK, False):
        return
    images: dict[str, Any] = {}

    def shared(pillow_image: Any, image_id: str, image_data: bytes, *args: Any,
               **kwargs: Any) -> Any:
        image = images.get(image_id)
        if image is None:
            image = images[image_id] = build(pillow_image, image_id, image_data, *args,
                                             **kwargs)
        return image

    setattr(shared, _SHARED_MARK, True)
    text.RasterImage = shared


@contextmanager
def _source_date(moment: datetime) -> Iterator[None]:
    """Pin the timestamp fontTools writes into each subset font's `head` table (the
    reproducible-builds SOURCE_DATE_EPOCH it honours); otherwise every render differs."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.timestamp()))
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def render_pdf(volume: VolumeView, ctx: RenderContext) -> bytes:
    """One volume as PDF/A bytes."""
    return render_pdf_checked(volume, ctx)[0]


def render_pdf_checked(volume: VolumeView, ctx: RenderContext) -> tuple[bytes, tuple[str, ...]]:
    """One volume as PDF/A bytes, with a warning when some characters have no font
    (runs in workers: module-level and picklable)."""
    from weasyprint import HTML

    _share_emoji_images()
    html = render_volume(volume, ctx, pdf=True)
    folder = (ctx.archive_root / volume.conversation.folder).resolve()
    document = HTML(string=html, base_url=folder.as_uri() + "/",
                    url_fetcher=_archive_fetcher(ctx.archive_root))
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode()
    stylesheet = _stylesheet(templates_folder(ctx.options), ctx.archive_root)
    with _source_date(volume.volume.last):
        pdf: bytes = document.write_pdf(stylesheets=[stylesheet], pdf_variant=PDF_VARIANT,
                                        pdf_identifier=identifier)
    missing = glyphs.uncovered((html,))
    where = f"{volume.conversation.folder}/{volume.volume.key}.pdf"
    return pdf, (glyphs.warning(missing, where),) if missing else ()


def _render_job(job: RenderJob, ctx: RenderContext) -> RenderResult:
    try:
        data, warnings = render_pdf_checked(job.volumes[0], ctx)
    except Exception as exc:  # one bad volume must not stop the others
        return RenderResult(job, None, f"PDF rendering failed: {type(exc).__name__}: {exc}")
    return RenderResult(job, data, warnings=warnings)


class PdfExporter:
    name: ClassVar[str] = "pdf"
    scope: ClassVar[Literal["volume", "conversation"]] = "volume"
    shows_previews: ClassVar[bool] = True

    def __init__(self) -> None:
        self._pool: LazyPool | None = None  # made on first need: its size is an option
        self._submitted = 0  # messages sent to the current pool, each volume at least 250

    def output_path(self, conversation: ConversationView, volume_key: str | None) -> str:
        return f"{conversation.folder}/{volume_key}.pdf"

    def fingerprint(self, options: RenderOptions) -> str:
        return fingerprint(self.name, options,
                           [*module_files("pdf", "glyphs", "bubbles", "textfont", "fontconfig",
                                         "html", "html_rows", "html_thread", "words", "media"),
                            *template_files(options)])

    def _lazy_pool(self, options: RenderOptions) -> LazyPool:
        if self._pool is None:
            self._pool = LazyPool(options.pdf_workers)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        self._submitted = 0

    def __del__(self) -> None:
        self.close()

    def _next_batch(self, pool: LazyPool, pending: Sequence[RenderJob]) -> list[RenderJob]:
        """The jobs the current pool still has room for (at least one), counted in."""
        budget = pool.workers * MESSAGES_PER_WORKER
        batch: list[RenderJob] = []
        for job in pending:
            if batch and self._submitted >= budget:
                break
            batch.append(job)
            self._submitted += max(len(job.volumes[0].messages), MIN_TASK_WEIGHT)
        return batch

    def render_many(self, jobs: Sequence[RenderJob], ctx: RenderContext) -> Iterator[RenderResult]:
        size = sum(len(job.volumes[0].messages) for job in jobs)
        if (len(jobs) == 1 and size < INLINE_MESSAGES) or size < INLINE_MESSAGES // 4:
            for job in jobs:
                yield _render_job(job, ctx)
            return
        # Workers are replaced by replacing the pool once it has been sent its budget:
        # WeasyPrint returns memory to the system only when its process ends. (Not
        # max_tasks_per_child: with Python 3.11 a pool using it was seen to hang once its
        # workers retired.)
        pending = list(jobs)
        pool = self._lazy_pool(ctx.options)
        while pending:
            batch = self._next_batch(pool, pending)
            del pending[:len(batch)]
            executor = pool.executor()
            futures: list[Future[RenderResult]] = [executor.submit(_render_job, job, ctx)
                                                   for job in batch]
            for future in futures:
                yield future.result()
            if self._submitted >= pool.workers * MESSAGES_PER_WORKER:
                self.close()
