"""The order of the stages: find → unlock → extract → read → ingest → attachments →
render → manifest. Each stage is a library call; this module only sequences them, times
them, and gathers what the run report says.

Decrypted plaintext exists only in a 0700 staging folder inside the archive folder (the
destination's disk, so moving attachments into the store is a rename); it is removed on
every exit path, and a folder left by a killed run is removed by the next run.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from coldtexts.archive import Archive, IngestStats, RenderStats, SourceInfo
from coldtexts.archive import status as archive_status
from coldtexts.archive.types import time_into
from coldtexts.backup.extract import (
    Backup,
    ExtractedFile,
    Unlocked,
    open_backup,
    remove_stale_staging,
    staging,
    unlock,
)
from coldtexts.backup.locate import BackupInfo, inspect_backup, require_complete
from coldtexts.config import system_zone_name
from coldtexts.errors import EXIT_OK, EXIT_PARTIAL, EXIT_RENDER_FAILED, DiskFullError
from coldtexts.exporters import get_exporters
from coldtexts.exporters.base import RenderContext, RenderOptions
from coldtexts.messages.contacts import ContactBook
from coldtexts.messages.reader import SmsDatabase
from coldtexts.options import ExportOptions
from coldtexts.progress import NullProgress, ProgressDisplay
from coldtexts.report import (
    ConversationCounts,
    RunReport,
    backup_warnings,
    outcome_for,
    problem_counts,
    to_json,
)
from coldtexts.runlog import run_log

log = logging.getLogger("coldtexts.pipeline")
SPACE_MARGIN = 64 * 1024 * 1024


@dataclass(slots=True)
class RunState:
    """What the stages learn as they go, for the report."""

    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    ingest: IngestStats | None = None
    render: RenderStats | None = None
    problems: list[tuple[str, str | None]] = field(default_factory=list)
    missing_attachments: int = 0
    missing_by_conversation: dict[str, int] = field(default_factory=dict)

    def stage(self, name: str) -> contextlib.AbstractContextManager[None]:
        return time_into(self.timings, name)


def check_free_space(folder: Path, needed_bytes: int) -> None:
    """Refuse to start decrypting when the destination cannot hold what will be written."""
    free = shutil.disk_usage(folder).free
    if needed_bytes + SPACE_MARGIN > free:
        raise DiskFullError(
            f"The disk holding {folder} has {free / 1e9:.1f} GB free but this run needs about "
            f"{(needed_bytes + SPACE_MARGIN) / 1e9:.1f} GB; free some space and run again."
        )


def _last_ingested(archive_root: Path, udid: str) -> datetime | None:
    if not (archive_root / "coldtexts.db").is_file():
        return None
    dates = [s.backup_date for s in archive_status(archive_root).sources if s.udid == udid]
    return max(dates) if dates else None


def _warnings(info: BackupInfo, options: ExportOptions) -> list[str]:
    last = _last_ingested(options.archive, info.udid)
    backup_date = info.last_backup or datetime.now(UTC)
    return backup_warnings(backup_date, last, datetime.now(UTC), options.max_backup_age_days,
                           info.encrypted)


def _ingest(archive: Archive, backup: Backup, info: BackupInfo, state: RunState,
            progress: ProgressDisplay) -> None:
    with state.stage("decrypt"), progress.stage("Decrypting Messages database") as bar:
        files = backup.extract_messages()
        bar.advance()
    with state.stage("ingest"):
        contacts = ContactBook.open(files.address_book)
        with SmsDatabase.open(files.sms_db, contacts) as db, \
                progress.stage("Reading messages", total=db.count_messages(),
                               unit="messages") as bar:
            source_id = archive.begin_source(SourceInfo(
                udid=info.udid, device_name=info.device_name, product_type=info.product_type,
                ios_version=info.ios_version, backup_date=info.last_backup or datetime.now(UTC),
                backup_path=str(info.path)))

            def counted_messages() -> Iterator[object]:
                for message in db.messages():
                    bar.advance()
                    yield message

            state.ingest = archive.ingest(source_id, db.conversations(),
                                          counted_messages(),  # type: ignore[arg-type]
                                          db.reactions())
            state.problems = [(p.kind, p.guid) for p in db.problems]


def _attachments(archive: Archive, backup: Backup, folder: Path, state: RunState,
                 progress: ProgressDisplay) -> None:
    with state.stage("attachments"):
        needs = archive.attachments_needing_files()
        if not needs:
            return
        by_path: dict[str, list[str]] = defaultdict(list)
        for need in needs:
            by_path[need.device_path].append(need.guid)
        check_free_space(folder, backup.attachment_bytes(by_path))
        with progress.stage("Decrypting attachments", total=len(by_path), unit="files") as bar:
            for item in backup.extract_attachments(list(by_path), folder):
                for index, guid in enumerate(by_path[item.device_path]):
                    if isinstance(item, ExtractedFile):
                        # The first guid takes the file; the others find it by content hash.
                        path = item.path if index == 0 else _copy_for(item, index)
                        archive.store_attachment_file(guid, path, item.sha256, item.size)
                    else:
                        archive.record_missing_attachment(guid, item.reason)
                        state.missing_attachments += 1
                bar.advance()


def _copy_for(item: ExtractedFile, index: int) -> Path:
    copy = item.path.with_name(f"{item.path.name}.{index}")
    shutil.copyfile(item.path, copy)
    return copy


def _render(archive: Archive, options: ExportOptions, state: RunState,
            progress: ProgressDisplay) -> None:
    exporters = get_exporters(options.formats)
    ctx = RenderContext(archive.root, RenderOptions(
        timezone=render_zone(options), owner_name=options.owner_name,
        templates_dir=options.templates_dir))
    with state.stage("render"), progress.stage("Rendering conversations",
                                                unit="conversations") as bar:
        def advance(done: int, total: int) -> None:
            bar.update(done, total)

        state.render = archive.render(exporters, ctx, conversations=options.conversations or None,
                                      since=options.since, until=options.until, progress=advance)
    # Where rendering's time went, in the report: "render html", "render previews", ...
    for name, seconds in state.render.seconds.items():
        state.timings[f"render {name}"] = seconds


def render_zone(options: ExportOptions) -> str:
    return options.timezone or system_zone_name()


def _exit_code(state: RunState) -> int:
    if state.render is not None and state.render.failed:
        return EXIT_RENDER_FAILED
    if state.missing_attachments:
        return EXIT_PARTIAL
    return EXIT_OK


def _report(options: ExportOptions, info: BackupInfo, state: RunState, started: datetime,
            exit_code: int) -> RunReport:
    per_conversation: dict[str, ConversationCounts] = {}
    if state.ingest is not None:
        for slug, counts in state.ingest.by_conversation.items():
            per_conversation[slug] = ConversationCounts(
                conversation=slug, new=counts.new, edited=counts.changed,
                deleted_on_device=counts.no_longer_on_device)
    for slug, missing in state.missing_by_conversation.items():
        base = per_conversation.get(slug, ConversationCounts(conversation=slug))
        per_conversation[slug] = ConversationCounts(
            conversation=slug, title=base.title, new=base.new, edited=base.edited,
            deleted_on_device=base.deleted_on_device, attachments_missing=missing)
    return RunReport(
        started=started, finished=datetime.now(UTC),
        outcome="dry run" if options.dry_run else outcome_for(exit_code),
        exit_code=exit_code, archive=str(options.archive), backup=str(info.path),
        conversations=tuple(per_conversation[k] for k in sorted(per_conversation)),
        timings=dict(state.timings), problems=problem_counts(state.problems),
        warnings=tuple(state.warnings),
    )


def run_export(options: ExportOptions, *, progress: ProgressDisplay | None = None,
               stdin: TextIO | None = None) -> tuple[RunReport, RenderStats | None]:
    """Archive the backup in options.backup into options.archive; returns the run report.

    Raises the typed errors of coldtexts.errors for anything that stops the run."""
    progress = progress or NullProgress()
    started = datetime.now(UTC)
    options = replace(options, archive=options.archive.expanduser().absolute(),
                      backup=options.backup.expanduser().absolute())
    info = inspect_backup(options.backup, with_size=False)
    require_complete(info)
    state = RunState(warnings=_warnings(info, options))
    with state.stage("unlock"), progress.stage("Unlocking backup"):
        unlocked = unlock(info, options.secrets, stdin=stdin)
    new_archive = not options.archive.exists()
    try:
        report = _run(options, info, unlocked, state, started, progress)
    except BaseException:
        if new_archive and not options.dry_run:
            _remove_unfinished_archive(options.archive)
        raise
    return report, state.render


def _remove_unfinished_archive(folder: Path) -> None:
    """A first run that failed leaves nothing behind (it created only its own files)."""
    shutil.rmtree(folder, ignore_errors=True)


def _run(options: ExportOptions, info: BackupInfo, unlocked: Unlocked, state: RunState,
         started: datetime, progress: ProgressDisplay) -> RunReport:
    with Archive.open(options.archive, dry_run=options.dry_run) as archive:
        logs = contextlib.nullcontext() if options.dry_run else run_log(archive.root)
        with logs:
            stage_parent = archive.root if archive.root.is_dir() else archive.root.parent
            remove_stale_staging(stage_parent)
            with staging(stage_parent) as folder:
                with state.stage("decrypt"):
                    backup = open_backup(info, options.secrets, folder, unlocked=unlocked)
                with backup:
                    if backup.remembered:
                        log.info("saved the derived backup key in %s", backup.remembered)
                    _ingest(archive, backup, info, state, progress)
                    _attachments(archive, backup, folder, state, progress)
            state.missing_by_conversation = archive.missing_attachments_by_conversation()
            _render(archive, options, state, progress)
            exit_code = _exit_code(state)
            report = _report(options, info, state, started, exit_code)
            zone = render_zone(options)
            with state.stage("manifest"):
                # The zone is recorded so that `coldtexts search` links to the right volume.
                archive.finish_run(report.outcome, {**to_json(report), "timezone": zone})
            log.info("run finished: %s", report.outcome)
    return report
