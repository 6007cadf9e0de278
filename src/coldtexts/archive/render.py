"""Incremental rendering: decide per output whether to render, render, publish, record.

Each output (a conversation's volume in one format, a whole conversation in one format,
an index page, an asset) has a key made of the exporter's fingerprint and a digest of
exactly what it shows. It is skipped only when both equal what the store recorded and
the file on disk is the one recorded (size and mtime match, or its SHA-256 does).
Otherwise it is rendered, published atomically, and only then recorded; the store
commits once per conversation, so a crash loses at most one conversation's records and
a re-run renders those again, byte for byte the same.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from coldtexts import view as view_types
from coldtexts.errors import ConfigError
from coldtexts.exporters.base import (
    Exporter,
    RenderContext,
    RenderJob,
    RenderOptions,
    RenderResult,
)
from coldtexts.view import AttachmentView, ConversationView, VolumeView

from . import attachments, store, views, words
from .plan import (
    ConversationPlan,
    load_metas,
    load_names,
    matches,
    plan_conversation,
    view_digest,
)
from .publish import Publisher, record_file, sha256_file
from .store import now_us, transaction
from .types import Reason, RenderDecision, RenderStats
from .views import ViewBuilder
from .volumes import VolumeSlice

Progress = Callable[[int, int], None]  # (conversations done, conversations to consider)


@dataclass(frozen=True, slots=True)
class _Output:
    path: str
    exporter: str
    fingerprint: str
    content_digest: str
    conversation_id: int | None
    volume_key: str | None


class Renderer:
    def __init__(self, conn: sqlite3.Connection, publisher: Publisher,
                 exporters: Sequence[Exporter], ctx: RenderContext) -> None:
        self._conn = conn
        self._publisher = publisher
        self._exporters = exporters
        self._ctx = ctx
        self._zone = _zone(ctx.options.timezone)
        self._options_digest = _options_digest(ctx)
        self._names = load_names(conn)
        self._reasons: dict[str, Reason] = {}
        # Computed once per run: an exporter may hash its templates to make it. The code
        # that builds the views is part of every output too (a reply's excerpt, an event
        # in words), whatever each exporter's own fingerprint covers.
        view_code = _view_code_digest()
        self._fingerprints = {
            e.name: hashlib.sha256(f"{e.fingerprint(ctx.options)}\0{view_code}".encode())
            .hexdigest() for e in exporters}
        self.stats = RenderStats()
        self._previews: Any = None  # media.PreviewMaker, made on first need, closed by run()

    def run(self, conversations: Sequence[str] | None, since: date | None,
            until: date | None, progress: Progress | None) -> RenderStats:
        plans = [p for meta in load_metas(self._conn)
                 if (p := plan_conversation(self._conn, meta, self._zone, self._names))]
        chosen = [p for p in plans if _matches(p, conversations, self._names)]
        try:
            for done, plan in enumerate(chosen, 1):
                self._conversation(plan, since, until)
                if progress is not None:
                    progress(done, len(chosen))
        finally:
            if self._previews is not None:
                self._previews.close()
        self._site([p.view for p in plans], chosen)
        return self.stats

    # -- one conversation -----------------------------------------------------------------
    def _conversation(self, plan: ConversationPlan, since: date | None,
                      until: date | None) -> None:
        volumes = [v for v in plan.volumes if _overlaps(v, since, until)]
        if not volumes:
            return
        pending: list[tuple[Exporter, _Output, tuple[VolumeSlice, ...]]] = []
        for exporter in self._exporters:
            fingerprint = self._fingerprints[exporter.name]
            if exporter.scope == "volume":
                for volume in volumes:
                    path = exporter.output_path(plan.view, volume.ref.key)
                    out = _Output(path, exporter.name, fingerprint,
                                  plan.volume_digests[volume.ref.key], plan.meta.id,
                                  volume.ref.key)
                    pending += self._decide(plan.view.slug, out, exporter, (volume,))
            else:
                path = exporter.output_path(plan.view, None)
                out = _Output(path, exporter.name, fingerprint, plan.digest, plan.meta.id, None)
                pending += self._decide(plan.view.slug, out, exporter, plan.volumes)
        if pending:
            self._render_conversation(plan, pending)

    def _render_conversation(
        self, plan: ConversationPlan,
        pending: list[tuple[Exporter, _Output, tuple[VolumeSlice, ...]]],
    ) -> None:
        builder = ViewBuilder(self._conn, plan, self._ctx.options.owner_name, self._names)
        cache: dict[str, VolumeView] = {}

        def views(slices: tuple[VolumeSlice, ...]) -> tuple[VolumeView, ...]:
            for volume in slices:
                if volume.ref.key not in cache:
                    cache[volume.ref.key] = builder.volume(volume)
            return tuple(cache[v.ref.key] for v in slices)

        jobs_by_exporter: dict[str, list[tuple[RenderJob, _Output]]] = {}
        exporters: dict[str, Exporter] = {}
        for exporter, out, slices in pending:
            job = RenderJob(out.path, plan.view, views(slices))
            jobs_by_exporter.setdefault(exporter.name, []).append((job, out))
            exporters[exporter.name] = exporter
        if any(exporter.shows_previews for exporter in exporters.values()):
            with self.stats.timing("previews"):
                self._ensure_previews(cache.values())
        with transaction(self._conn):
            for name, jobs in jobs_by_exporter.items():
                with self.stats.timing(name):
                    self._render_jobs(plan.view.slug, exporters[name], jobs)

    def _render_jobs(self, slug: str, exporter: Exporter,
                     jobs: list[tuple[RenderJob, _Output]]) -> None:
        outputs = {job.path: (job, out) for job, out in jobs}
        try:
            for result in exporter.render_many([job for job, _ in jobs], self._ctx):
                _, out = outputs.pop(result.job.path)
                self._publish(slug, out, result)
        except Exception as exc:  # an exporter bug fails its outputs, never the run
            message = f"{exporter.name} exporter failed: {type(exc).__name__}: {exc}"
            for job, out in outputs.values():
                self._publish(slug, out, RenderResult(job, None, message))
            return
        for job, out in outputs.values():
            self._publish(slug, out, RenderResult(job, None, "the exporter skipped it"))

    def _ensure_previews(self, volumes: Any) -> None:
        if not self._publisher.writes:
            return
        try:
            from coldtexts.exporters import media
        except ImportError:
            return
        attachments: list[AttachmentView] = [
            a for v in volumes for m in v.messages for a in m.attachments if a.original
        ]
        attachments += [  # the stickers of sticker tapbacks are drawn too
            r.sticker for v in volumes for m in v.messages for r in m.reactions
            if r.sticker is not None and r.sticker.original
        ]
        if attachments and hasattr(media, "PreviewMaker"):
            if self._previews is None:
                self._previews = media.PreviewMaker()
            self._previews.ensure(self._ctx.archive_root, attachments)

    # -- decisions and publishing -----------------------------------------------------------
    def _decide(self, slug: str, out: _Output, exporter: Exporter,
                slices: tuple[VolumeSlice, ...]
                ) -> list[tuple[Exporter, _Output, tuple[VolumeSlice, ...]]]:
        reason = self.reason(out)
        if reason is Reason.UNCHANGED:
            self.stats.decisions.append(RenderDecision(slug, out.path, reason))
            return []
        self._reasons[out.path] = reason
        return [(exporter, out, slices)]

    def reason(self, out: _Output) -> Reason:
        """DB facts first, the file system last (a stat; a hash only if the stat differs)."""
        row = self._conn.execute(
            "SELECT fingerprint, options_digest, content_digest, sha256, error "
            "FROM renders WHERE path = ?", (out.path,)
        ).fetchone()
        if row is None:
            return Reason.NEW
        fingerprint, options_digest, content_digest, sha, error = row
        if error is not None:
            return Reason.PREVIOUS_ERROR
        if options_digest != self._options_digest:
            return Reason.OPTIONS_CHANGED  # even if an exporter's fingerprint forgot one
        if fingerprint != out.fingerprint:
            return Reason.TEMPLATES_CHANGED
        if content_digest != out.content_digest:
            return Reason.CONTENT_CHANGED
        return self._file_reason(out.path, sha)

    def _file_reason(self, rel: str, sha: str | None) -> Reason:
        target = self._publisher.root / rel
        try:
            stat = target.stat()
        except FileNotFoundError:
            return Reason.OUTPUT_MISSING
        known = self._conn.execute(
            "SELECT sha256, size, mtime_ns FROM files WHERE path = ?", (rel,)
        ).fetchone()
        if known and known[0] == sha and (known[1], known[2]) == (stat.st_size,
                                                                  stat.st_mtime_ns):
            return Reason.UNCHANGED
        actual = sha256_file(target)
        if actual != sha:
            return Reason.OUTPUT_MODIFIED
        self._conn.execute(
            "INSERT OR REPLACE INTO files (path, sha256, size, mtime_ns) VALUES (?, ?, ?, ?)",
            (rel, actual, stat.st_size, stat.st_mtime_ns),
        )  # same bytes, new mtime (copied archive): remember, so next time is a stat only
        return Reason.UNCHANGED

    def _publish(self, slug: str, out: _Output, result: RenderResult) -> None:
        reason = self._reasons.pop(out.path, Reason.NEW)
        error = result.error or (None if result.data is not None else "the exporter "
                                 "returned no data")
        sha = None
        if error is None and result.data is not None:
            try:
                sha = self._write(out.path, result.data)
            except ValueError as exc:  # an output path outside the archive
                error = str(exc)
        self._conn.execute(
            "INSERT OR REPLACE INTO renders (path, conversation_id, volume_key, exporter, "
            "fingerprint, options_digest, content_digest, sha256, error, rendered_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (out.path, out.conversation_id, out.volume_key, out.exporter, out.fingerprint,
             self._options_digest, out.content_digest, sha, error, now_us()),
        )
        self.stats.decisions.append(RenderDecision(slug, out.path, reason, error))

    def _write(self, rel: str, data: bytes) -> str:
        """Publish `data` unless the file already holds exactly these bytes (a change the
        output does not show): untouched files keep their mtime for backup tools."""
        sha = hashlib.sha256(data).hexdigest()
        known = self._conn.execute(
            "SELECT sha256, size, mtime_ns FROM files WHERE path = ?", (rel,)
        ).fetchone()
        if known is not None and known[0] == sha:
            try:
                stat = (self._publisher.root / rel).stat()
            except FileNotFoundError:
                stat = None
            if stat is not None and (stat.st_size, stat.st_mtime_ns) == (known[1], known[2]):
                return sha
        record = self._publisher.write(rel, data)
        record_file(self._conn, record)
        return record.sha256

    # -- archive-wide pages -----------------------------------------------------------------
    def _site(self, views: list[ConversationView], chosen: list[ConversationPlan]) -> None:
        found = next((e for e in self._exporters if hasattr(e, "render_site_index")), None)
        if found is None:
            return
        html = cast(SitePages, found)
        fingerprint = self._fingerprints[found.name]
        site_digest = hashlib.sha256(
            "".join(view_digest(v) for v in views).encode()
        ).hexdigest()
        pages: list[tuple[str, _Output, Callable[[], bytes]]] = [
            ("", _Output("index.html", "html-index", fingerprint, site_digest, None, None),
             partial(html.render_site_index, views, self._ctx))
        ]
        for plan in chosen:
            out = _Output(f"{plan.view.folder}/index.html", "html-index", fingerprint,
                          view_digest(plan.view), plan.meta.id, None)
            pages.append((plan.view.slug, out,
                          partial(html.render_conversation_index, plan.view, self._ctx)))
        for name, data in sorted(html.assets().items()):
            digest = hashlib.sha256(data).hexdigest()
            out = _Output(f"assets/{name}", "html-assets", fingerprint, digest, None, None)
            pages.append(("", out, partial(bytes, data)))
        with transaction(self._conn):
            for slug, out, make in pages:
                self._site_page(slug, out, make, views)

    def _site_page(self, slug: str, out: _Output, make: Callable[[], bytes],
                   views: list[ConversationView]) -> None:
        reason = self.reason(out)
        if reason is Reason.UNCHANGED:
            self.stats.decisions.append(RenderDecision(slug, out.path, reason))
            return
        self._reasons[out.path] = reason
        job = RenderJob(out.path, views[0] if views else _EMPTY, ())
        try:
            result = RenderResult(job, make())
        except Exception as exc:  # an exporter bug fails one page, not the run
            result = RenderResult(job, None, f"{type(exc).__name__}: {exc}")
        self._publish(slug, out, result)


class SitePages(Protocol):
    """What the HTML exporter adds for archive-wide pages (found by duck typing)."""

    def fingerprint(self, options: RenderOptions) -> str: ...

    def render_site_index(self, conversations: Sequence[ConversationView],
                          ctx: RenderContext) -> bytes: ...

    def render_conversation_index(self, conversation: ConversationView,
                                  ctx: RenderContext) -> bytes: ...

    def assets(self) -> dict[str, bytes]: ...


_EMPTY = ConversationView("", "", "", (), False, "", (), 0, None, None)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"Unknown time zone {name!r}; use an IANA name such as Europe/Paris."
        ) from exc


def view_code_files() -> list[Path]:
    """The modules that build the views every exporter renders (views.py and what it
    takes its words, kinds and senders from)."""
    return [Path(str(m.__file__)) for m in (views, words, attachments, store, view_types)]


def _view_code_digest() -> str:
    digest = hashlib.sha256()
    for path in view_code_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _options_digest(ctx: RenderContext) -> str:
    options = replace(ctx.options, templates_dir=None, pdf_workers=0)
    text = f"{options!r}|{ctx.options.templates_dir}"
    return hashlib.sha256(text.encode()).hexdigest()


def _overlaps(volume: VolumeSlice, since: date | None, until: date | None) -> bool:
    if since is not None and volume.ref.last.date() < since:
        return False
    return not (until is not None and volume.ref.first.date() > until)


def _matches(plan: ConversationPlan, wanted: Sequence[str] | None,
             names: dict[str, str]) -> bool:
    return not wanted or matches(plan.meta, wanted, names)
