"""The Archive: one open archive folder for one run (lock held, store open).

    with Archive.open(root) as archive:
        source_id = archive.begin_source(info)
        archive.ingest(source_id, conversations, messages, reactions)
        ... archive.store_attachment_file(...) for each needed attachment ...
        stats = archive.render(exporters, ctx)
        archive.finish_run("success", report)

A dry run (dry_run=True) works on an in-memory copy of the store with a publisher that
writes nothing: the same decisions are made and reported, nothing persists.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType

from coldtexts.errors import ArchiveDamagedError, OutputNotWritableError
from coldtexts.exporters.base import Exporter, RenderContext
from coldtexts.fsutil import make_private_dir
from coldtexts.messages.models import Conversation, Message, Reaction

from . import attachments as attachment_store
from .ingest import Ingester
from .lock import LOCK_NAME, ArchiveLock, LockHolder
from .manifest import (
    MANIFEST_NAME,
    WORKING_PREFIX,
    hash_known_files,
    remove_temps,
    write_manifest,
)
from .plan import load_metas, load_names, matches
from .publish import NoOpPublisher, Publisher, record_file, sha256_file
from .render import Progress, Renderer
from .schema import migrate
from .store import (
    STORE_NAME,
    from_us,
    memory_copy,
    now_us,
    open_read_only,
    open_store,
    to_us,
    transaction,
)
from .types import AttachmentNeed, IngestStats, RenderStats, SourceInfo

ATTACHMENT_COMMIT_EVERY = 200  # files go in first; their rows may trail by a batch


class Archive:
    def __init__(self, root: Path, conn: sqlite3.Connection, lock: ArchiveLock | None,
                 publisher: Publisher, dry_run: bool) -> None:
        self.root = root
        self.dry_run = dry_run
        self._conn = conn
        self._lock = lock
        self._publisher = publisher
        self._started = now_us()
        self._pending_attachment_rows = 0
        self._finished = False

    # -- opening and closing ----------------------------------------------------------------
    @classmethod
    def open(cls, root: Path, *, create: bool = True, dry_run: bool = False) -> Archive:
        root = Path(root)
        store = root / STORE_NAME
        if not store.exists() and not create:
            raise ArchiveDamagedError(
                f"{root} is not a coldtexts archive (no {STORE_NAME}); check the folder name."
            )
        _refuse_foreign_folder(root)
        if dry_run:
            return cls._open_dry(root)
        make_private_dir(root)
        lock = ArchiveLock(root).acquire()
        try:
            remove_temps(root)
            conn = open_store(store, create=create)
        except BaseException:
            lock.release()
            raise
        return cls(root, conn, lock, Publisher(root), dry_run=False)

    @classmethod
    def _open_dry(cls, root: Path) -> Archive:
        # Lock only a real archive: a dry run must not leave a lock file in a folder
        # that is not one yet.
        lock = ArchiveLock(root).acquire() if (root / STORE_NAME).is_file() else None
        try:
            if (root / STORE_NAME).exists():
                source = open_read_only(root / STORE_NAME)
                try:
                    conn = memory_copy(source)
                except sqlite3.DatabaseError as exc:
                    raise ArchiveDamagedError(
                        f"The archive's store {root / STORE_NAME} cannot be read ({exc}); "
                        "restore it from a copy of the archive."
                    ) from exc
                finally:
                    source.close()
            else:
                conn = memory_copy(sqlite3.connect(":memory:"))
            migrate(conn)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        return cls(root, conn, lock, NoOpPublisher(root), dry_run=True)

    @property
    def stale_lock(self) -> LockHolder | None:
        """The details a killed run left in the lock, when this run took it over."""
        return self._lock.stale if self._lock else None

    def close(self) -> None:
        try:
            self._flush()
            self._conn.close()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None and not self._finished:
            self._record_failed_run(exc_type.__name__)
        self.close()

    # -- ingest -----------------------------------------------------------------------------
    def begin_source(self, source: SourceInfo) -> int:
        """Record a backup as a source (the same backup again reuses its row)."""
        self._flush()
        backup_date = to_us(source.backup_date)
        row = self._conn.execute(
            "SELECT id FROM sources WHERE udid = ? AND backup_date = ?",
            (source.udid, backup_date),
        ).fetchone()
        if row is not None:
            return int(row[0])
        with transaction(self._conn):
            cursor = self._conn.execute(
                "INSERT INTO sources (udid, device_name, product_type, ios_version, "
                "backup_date, backup_path, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (source.udid, source.device_name, source.product_type, source.ios_version,
                 backup_date, source.backup_path, now_us()),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def ingest(self, source_id: int, conversations: Iterable[Conversation],
               messages: Iterable[Message], reactions: Iterable[Reaction], *,
               complete: bool = True) -> IngestStats:
        """Upsert one backup's data by GUID (see ingest.py); one transaction."""
        self._flush()
        return Ingester(self._conn, source_id).run(conversations, messages, reactions,
                                                   complete=complete)

    def newest_backup_date(self, udid: str | None = None) -> datetime | None:
        """The date of the newest backup already ingested (of one device, if given): call
        it before begin_source to warn about a backup older than the archive."""
        row = self._conn.execute(
            "SELECT max(backup_date) FROM sources WHERE ?1 IS NULL OR udid = ?1", (udid,)
        ).fetchone()
        return from_us(row[0]) if row[0] is not None else None

    # -- attachments ------------------------------------------------------------------------
    def attachments_needing_files(self) -> list[AttachmentNeed]:
        self._flush()
        return attachment_store.needing_files(self._conn)

    def store_attachment_file(self, guid: str, path: Path, sha256: str, size: int) -> None:
        """Move an extracted file into attachments/ab/<sha256>.<ext> (or drop it when that
        content is stored already) and point the attachment at it."""
        self._begin_batch()
        attachment_store.store_file(self._conn, self._publisher, guid, path, sha256, size)
        self._count_batch()

    def missing_attachments_by_conversation(self) -> dict[str, int]:
        """Folder name -> how many of its attachments have no stored file."""
        self._flush()
        rows = self._conn.execute(
            "SELECT c.slug, count(*) FROM attachments a JOIN messages m ON m.guid = a.owner_guid "
            "JOIN conversations c ON c.id = m.conversation_id WHERE a.sha256 IS NULL "
            "GROUP BY c.slug ORDER BY c.slug"
        )
        return {slug: int(count) for slug, count in rows}

    def record_missing_attachment(self, guid: str, reason: str) -> None:
        self._begin_batch()
        attachment_store.record_missing(self._conn, guid, reason)
        self._count_batch()

    def _begin_batch(self) -> None:
        if not self._conn.in_transaction:
            self._conn.execute("BEGIN IMMEDIATE")

    def _count_batch(self) -> None:
        self._pending_attachment_rows += 1
        if self._pending_attachment_rows >= ATTACHMENT_COMMIT_EVERY:
            self._flush()

    def _flush(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")
        self._pending_attachment_rows = 0

    # -- rendering --------------------------------------------------------------------------
    def render(self, exporters: Sequence[Exporter], ctx: RenderContext, *,
               conversations: Sequence[str] | None = None, since: date | None = None,
               until: date | None = None, progress: Progress | None = None) -> RenderStats:
        """Render what changed; every output's decision and reason is in the stats.
        `progress(done, total)` is called after each conversation."""
        self._flush()
        renderer = Renderer(self._conn, self._publisher, exporters, ctx)
        return renderer.run(conversations, since, until, progress)

    def match_conversations(self, wanted: Sequence[str]) -> dict[str, list[str]]:
        """For each of `wanted` (as given to --conversation), the folder names of the
        conversations it names; an empty list tells the user it matched nothing."""
        self._flush()
        names = load_names(self._conn)
        metas = load_metas(self._conn)
        return {w: [m.slug for m in metas if matches(m, [w], names)] for w in wanted}

    # -- the end of a run -------------------------------------------------------------------
    def finish_run(self, outcome: str, report: Mapping[str, object]) -> None:
        """Record the run (and its report under reports/), then write the manifest."""
        self._flush()
        finished = now_us()
        body = json.dumps(report, indent=2, sort_keys=True, default=str).encode("utf-8")
        stamp = datetime.fromtimestamp(self._started / 1e6, UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        with transaction(self._conn):
            record_file(self._conn, self._publisher.write(f"reports/run-{stamp}.json", body))
            self._conn.execute(
                "INSERT INTO runs (started_at, finished_at, outcome, report) "
                "VALUES (?, ?, ?, ?)",
                (self._started, finished, outcome, body.decode("utf-8")),
            )
        self.write_manifest()
        self._finished = True  # a failure above is recorded as a failed run by __exit__

    def write_manifest(self) -> Path:
        self._flush()
        target = self.root / MANIFEST_NAME
        if not self._publisher.writes:
            return target
        with transaction(self._conn):
            hashes = hash_known_files(self._conn, self.root)
        hashes[STORE_NAME] = sha256_file(self.root / STORE_NAME)  # after the last commit
        return write_manifest(self.root, hashes)

    def _record_failed_run(self, what: str) -> None:
        try:
            self._flush()
            with transaction(self._conn):
                self._conn.execute(
                    "INSERT INTO runs (started_at, finished_at, outcome, report) "
                    "VALUES (?, ?, ?, NULL)",
                    (self._started, now_us(), f"failed ({what})"),
                )
        except sqlite3.Error:
            pass  # the store itself is the problem; the original error says so


_IGNORABLE = frozenset({LOCK_NAME, ".DS_Store", "Thumbs.db", "desktop.ini"})


def _refuse_foreign_folder(root: Path) -> None:
    """Never write an archive over a file, or into a folder that holds other things."""
    if root.exists() and not root.is_dir():
        raise OutputNotWritableError(
            f"{root} is a file, not a folder; choose a new or empty folder for the archive."
        )
    if not root.is_dir() or (root / STORE_NAME).exists():
        return
    foreign = [p.name for p in root.iterdir()
               if p.name not in _IGNORABLE and not p.name.startswith(WORKING_PREFIX)]
    if foreign:
        raise OutputNotWritableError(
            f"{root} is not empty and is not a coldtexts archive (it holds {foreign[0]!r}); "
            "choose a new or empty folder, or the folder of an existing archive."
        )
