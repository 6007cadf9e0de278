"""Manifest.db: the index of a backup's files (domain, relative path → file ID, keys).

Rows come from a file an attacker could have crafted, so every value is checked before
use: file IDs must be 40 lowercase hex digits, relative paths may not escape (no `..`,
no absolute paths), symlink rows are never followed, and MBFile blobs are size-bounded.
"""

from __future__ import annotations

import plistlib
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from coldtexts.errors import BackupCorruptError, UnsafeBackupError

FILE_ID = re.compile(r"[0-9a-f]{40}")
MAX_MBFILE_BYTES = 100 * 1024
FLAG_FILE, FLAG_DIRECTORY, FLAG_SYMLINK = 1, 2, 4


@dataclass(frozen=True, slots=True)
class FileRecord:
    file_id: str
    domain: str
    relative_path: str
    flags: int
    size: int  # the manifest's Size: a hint only (Apple's is sometimes wrong)
    protection_class: int
    wrapped_key: bytes | None  # 40-byte RFC 3394 wrap; None in unencrypted backups
    mtime: int | None

    @property
    def content_path(self) -> str:
        return f"{self.file_id[:2]}/{self.file_id}"


def safe_relative_path(relative_path: str) -> PurePosixPath:
    """The relative path as a POSIX path that cannot leave the folder it is joined to."""
    path = PurePosixPath(relative_path)
    if (path.is_absolute() or ".." in path.parts or "\\" in relative_path
            or "\x00" in relative_path or not path.parts):
        raise UnsafeBackupError(
            f"The backup's manifest names a file outside its folder ({relative_path!r}); "
            "refusing a backup that looks tampered with."
        )
    return path


def _deref(objects: list[Any], value: Any) -> Any:
    if isinstance(value, plistlib.UID):
        return objects[value.data]
    return value


def parse_mbfile(blob: bytes) -> dict[str, Any]:
    """The MBFile record of a Manifest.db row (an NSKeyedArchiver binary plist)."""
    if not isinstance(blob, bytes) or len(blob) > MAX_MBFILE_BYTES:
        raise ValueError("MBFile blob missing or too large")
    archive = plistlib.loads(blob)
    objects = archive["$objects"]
    record = objects[archive["$top"]["root"].data]
    if not isinstance(record, dict):
        raise ValueError("MBFile root is not a dictionary")
    key = _deref(objects, record.get("EncryptionKey"))
    if isinstance(key, dict):
        key = key.get("NS.data")
    return {
        "size": int(record.get("Size", 0) or 0),
        "protection_class": int(record.get("ProtectionClass", 0) or 0),
        "key": key if isinstance(key, bytes) else None,
        "mtime": record.get("LastModified"),
    }


class Manifest:
    """A read-only view of a (plaintext) Manifest.db."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            self._conn.execute("SELECT fileID, domain, relativePath, flags, file FROM Files "
                               "LIMIT 1").fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # damaged text is not UTF-8
            raise BackupCorruptError(
                f"The backup's Manifest.db cannot be read ({exc}); the backup is damaged or "
                "truncated: make a new backup."
            ) from exc

    def close(self) -> None:
        self._conn.close()

    def _record(self, row: tuple[Any, ...]) -> FileRecord:
        file_id, domain, relative_path, flags, blob = row
        if not isinstance(file_id, str) or not FILE_ID.fullmatch(file_id):
            raise UnsafeBackupError(
                f"The backup's manifest has a malformed file ID ({file_id!r}); refusing a "
                "backup that looks tampered with."
            )
        safe_relative_path(relative_path)
        if not isinstance(flags, int):
            raise BackupCorruptError(
                f"The manifest entry for {domain}/{relative_path} has no valid kind ({flags!r}); "
                "the backup is damaged: make a new backup."
            )
        try:
            info = parse_mbfile(blob)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError,
                plistlib.InvalidFileException) as exc:
            raise BackupCorruptError(
                f"The manifest entry for {domain}/{relative_path} is damaged ({exc}); make a "
                "new backup."
            ) from exc
        key = info["key"]
        return FileRecord(
            file_id=file_id, domain=domain, relative_path=relative_path, flags=flags,
            size=info["size"], protection_class=info["protection_class"],
            wrapped_key=key[4:] if key else None,
            mtime=int(info["mtime"]) if isinstance(info["mtime"], int | float) else None,
        )

    def _query(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise BackupCorruptError(
                f"The backup's Manifest.db is damaged ({exc}); make a new backup."
            ) from exc

    def lookup(self, domain: str, relative_path: str) -> FileRecord | None:
        """The regular-file row for (domain, path); symlink and folder rows are refused."""
        rows = self._query(
            "SELECT fileID, domain, relativePath, flags, file FROM Files "
            "WHERE domain = ? AND relativePath = ?", (domain, relative_path))
        if not rows:
            return None
        record = self._record(rows[0])
        if record.flags == FLAG_SYMLINK:
            raise UnsafeBackupError(
                f"The backup lists {domain}/{relative_path} as a symbolic link; coldtexts never "
                "follows links out of a backup."
            )
        return record if record.flags == FLAG_FILE else None

    def files_under(self, domain: str, prefix: str) -> Iterator[FileRecord]:
        """Every regular file of `domain` whose path starts with `prefix`."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        for row in self._query(
            "SELECT fileID, domain, relativePath, flags, file FROM Files WHERE domain = ? "
            "AND relativePath LIKE ? ESCAPE '\\' AND flags = 1 ORDER BY relativePath",
            (domain, escaped + "%"),
        ):
            yield self._record(row)
