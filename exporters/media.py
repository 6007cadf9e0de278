"""Derived media: image previews and browser-playable audio, made once ever.

Each derived file is named by the original's SHA-256 (previews/ab/<sha>.jpg), so a photo
is converted once, whatever the number of runs, conversations or formats that show it;
`ensure_previews` skips what exists and converts the rest on every core. Decoding a
12 MP HEIC costs ~0.4 s here, more than rendering a thousand messages, hence the cache.

Images become JPEG (stickers PNG, to keep their transparency) no larger than
PREVIEW_EDGE pixels, EXIF-oriented: WeasyPrint embeds JPEG bytes as they are, and every
browser shows them (HEIC only shows in Safari). CAF and AMR voice messages, which browsers
cannot play, become AAC in an .m4a (PyAV, no external tools). A file that cannot be
converted simply gets no derived copy: pages then link the original.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

from coldtexts.fsutil import atomic_write_text, atomic_writer, make_private_dir
from coldtexts.view import AttachmentView

from .workers import LazyPool

log = logging.getLogger("coldtexts.media")
PREVIEW_EDGE = 1280
STICKER_EDGE = 512
JPEG_QUALITY = 82
BROWSER_UNPLAYABLE = ("caf", "amr", "x-caf", "amr-wb", "3gpp")
POOL_THRESHOLD = 6  # convert in-process below this many files: a pool costs more


def _audio_needs_conversion(view: AttachmentView) -> bool:
    name = view.attachment.display_name.lower()
    mime = (view.mime or "").lower()
    uti = (view.attachment.uti or "").lower()
    return (name.endswith((".caf", ".amr")) or "caf" in mime or "amr" in mime
            or uti in ("com.apple.coreaudio-format", "org.3gpp.adaptive-multi-rate-audio"))


def derived_kind(view: AttachmentView) -> str | None:
    """"image", "sticker" or "audio" when this attachment gets a derived copy."""
    if view.kind == "sticker":
        return "sticker"
    if view.kind == "image":
        return "image"
    if view.kind == "audio" and _audio_needs_conversion(view):
        return "audio"
    return None


def preview_path(sha256: str, kind: str) -> str:
    """Archive-relative path of the derived copy of the original with this hash."""
    suffix = {"image": "jpg", "sticker": "png", "audio": "m4a"}[kind]
    return f"previews/{sha256[:2]}/{sha256}.{suffix}"


def derived_for(view: AttachmentView, archive_root: Path) -> str | None:
    """The derived copy's archive path when it exists (templates use it), else None."""
    kind = derived_kind(view)
    if kind is None or view.sha256 is None:
        return None
    path = preview_path(view.sha256, kind)
    return path if (archive_root / path).is_file() else None


def _make_image(source: Path, target: Path, sticker: bool) -> None:
    from PIL import Image, ImageOps

    _register_heif()
    with Image.open(source) as opened:
        edge = STICKER_EDGE if sticker else PREVIEW_EDGE
        if opened.format == "JPEG":
            opened.draft("RGB", (edge, edge))  # decode at 1/2, 1/4 or 1/8 scale: much cheaper
        image = ImageOps.exif_transpose(opened)
        image.thumbnail((edge, edge))
        with atomic_writer(target) as out:
            if sticker:
                image.convert("RGBA").save(out, "PNG", optimize=False)
            else:
                image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)


def _register_heif() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener(thumbnails=False)


def _make_audio(source: Path, target: Path) -> None:
    import av

    with av.open(str(source)) as inp, atomic_writer(target) as raw:
        in_stream = inp.streams.audio[0]
        with av.open(raw, "w", format="ipod") as out:
            out_stream = out.add_stream("aac", rate=in_stream.rate or 44100)
            for frame in inp.decode(in_stream):
                frame.pts = None
                for packet in out_stream.encode(frame):
                    out.mux(packet)
            for packet in out_stream.encode(None):
                out.mux(packet)


def convert_one(job: tuple[str, str, str]) -> str | None:
    """Make one derived file; returns an error in words, or None. Runs in workers."""
    source, target, kind = job
    target_path = Path(target)
    try:
        make_private_dir(target_path.parent)
        if kind == "audio":
            _make_audio(Path(source), target_path)
        else:
            _make_image(Path(source), target_path, sticker=kind == "sticker")
    except Exception as exc:  # a damaged file must not stop the others
        # Remember the failure: the same bytes would fail the same way on every run.
        with contextlib.suppress(OSError):
            atomic_write_text(failure_marker(target_path), f"{type(exc).__name__}\n")
        return f"{Path(source).name}: {type(exc).__name__}: {exc}"
    return None


def failure_marker(target: Path) -> Path:
    """Beside a derived file that could not be made: `<sha>.jpg.failed`. Delete it (or the
    whole previews/ folder) to try again, e.g. after upgrading pillow-heif."""
    return target.with_name(target.name + ".failed")


def _jobs(archive_root: Path, attachments: Sequence[AttachmentView]) -> list[tuple[str, str, str]]:
    jobs: dict[str, tuple[str, str, str]] = {}
    for view in attachments:
        kind = derived_kind(view)
        if kind is None or view.original is None or view.sha256 is None:
            continue
        target = archive_root / preview_path(view.sha256, kind)
        if view.sha256 in jobs or target.is_file() or failure_marker(target).is_file():
            continue
        jobs[view.sha256] = (str(archive_root / view.original), str(target), kind)
    return list(jobs.values())


class PreviewMaker:
    """Makes missing derived files for a whole run, with one worker pool started the first
    time a batch is big enough. Starting a pool (the forkserver, then Pillow, pillow-heif
    and PyAV imported in each worker) cost ~0.7 s, and was paid once per conversation
    before: a tenth of a 100,000-message export's preview time. Close it when done."""

    def __init__(self, workers: int = 0) -> None:
        self._pool = LazyPool(workers)

    def ensure(self, archive_root: Path, attachments: Sequence[AttachmentView]) -> list[str]:
        """Make every missing derived file; returns the conversions that failed, in words."""
        jobs = _jobs(archive_root, attachments)
        if not jobs:
            return []
        if len(jobs) < POOL_THRESHOLD and not self._pool.started:
            results = [convert_one(job) for job in jobs]
        else:
            results = list(self._pool.executor().map(convert_one, jobs, chunksize=4))
        failures = [r for r in results if r]
        for failure in failures:
            log.warning("no preview for %s", failure)
        return failures

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PreviewMaker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ensure_previews(archive_root: Path, attachments: Sequence[AttachmentView],
                    workers: int = 0) -> list[str]:
    """Make every missing derived file (one batch, its own pool if it needs one)."""
    with PreviewMaker(workers) as maker:
        return maker.ensure(archive_root, attachments)
