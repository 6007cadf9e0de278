"""status: what an archive holds, read from its store without taking the lock.

Reading needs no lock: the store is only ever changed in transactions, so a reader sees
the last committed state even while a run is going on.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from .store import STORE_NAME, from_us, open_read_only


@dataclass(frozen=True, slots=True)
class SourceSummary:
    udid: str
    device_name: str | None
    ios_version: str | None
    backup_date: datetime
    ingested_at: datetime


@dataclass(frozen=True, slots=True)
class RunSummary:
    started: datetime
    finished: datetime | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class ArchiveStatus:
    root: str
    schema_migrations: tuple[str, ...]
    conversations: int
    messages: int
    messages_no_longer_on_device: int
    attachments_present: int
    attachments_missing: int
    bytes: int
    outputs_failed: int  # outputs whose last rendering failed (retried on the next run)
    first_message: datetime | None
    last_message: datetime | None
    sources: tuple[SourceSummary, ...]
    last_run: RunSummary | None

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        return _jsonable(data)  # type: ignore[return-value]


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def status(root: Path) -> ArchiveStatus:
    conn = open_read_only(root / STORE_NAME)
    try:
        return _status(conn, root)
    finally:
        conn.close()


def _count(conn: sqlite3.Connection, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])


def _status(conn: sqlite3.Connection, root: Path) -> ArchiveStatus:
    first, last = conn.execute("SELECT min(date), max(date) FROM messages").fetchone()
    sources = tuple(
        SourceSummary(udid, name, ios, from_us(backup), from_us(ingested))
        for udid, name, ios, backup, ingested in conn.execute(
            "SELECT udid, device_name, ios_version, backup_date, ingested_at FROM sources "
            "ORDER BY backup_date, id"
        )
    )
    run = conn.execute(
        "SELECT started_at, finished_at, outcome FROM runs ORDER BY id DESC LIMIT 1"
    ).fetchone()
    last_run = None if run is None else RunSummary(
        from_us(run[0]), from_us(run[1]) if run[1] is not None else None, run[2]
    )
    return ArchiveStatus(
        root=str(root),
        schema_migrations=tuple(_migrations(conn)),
        conversations=_count(conn, "SELECT count(DISTINCT conversation_id) FROM messages"),
        messages=_count(conn, "SELECT count(*) FROM messages"),
        messages_no_longer_on_device=_count(
            conn, "SELECT count(*) FROM messages WHERE gone_as_of IS NOT NULL"
        ),
        attachments_present=_count(
            conn, "SELECT count(*) FROM attachments WHERE sha256 IS NOT NULL"
        ),
        attachments_missing=_count(conn, "SELECT count(*) FROM attachments WHERE sha256 IS NULL"),
        bytes=_folder_bytes(root),
        outputs_failed=_count(conn, "SELECT count(*) FROM renders WHERE error IS NOT NULL"),
        first_message=from_us(first) if first is not None else None,
        last_message=from_us(last) if last is not None else None,
        sources=sources,
        last_run=last_run,
    )


def _migrations(conn: sqlite3.Connection) -> list[str]:
    try:
        return [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    except sqlite3.OperationalError:
        return []  # a store from before migrations were recorded


def _folder_bytes(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += (Path(dirpath) / name).stat().st_size
            except FileNotFoundError:
                continue  # removed while we walked (a temp file being renamed)
    return total
