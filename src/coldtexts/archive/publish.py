"""Publishing files into the archive: atomic, owner-only, and recorded in `files`.

Every file the archive writes goes through a Publisher, which also records its SHA-256,
size and mtime in the store's `files` table so the manifest never re-hashes an unchanged
file. The caller commits the store *after* publishing (files first, then the record).
A dry run substitutes NoOpPublisher: the same code path, nothing written.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from coldtexts.fsutil import (
    PRIVATE_FILE_MODE,
    _fsync_dir,
    atomic_write_bytes,
    atomic_writer,
    make_private_dir,
    raise_for_os_error,
)

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class FileRecord:
    path: str  # archive-relative POSIX path
    sha256: str
    size: int
    mtime_ns: int


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_relative(rel: str) -> None:
    """Refuse any path that could leave the archive folder (an exporter bug)."""
    if rel.startswith("/") or "\\" in rel or ":" in rel or any(
            part in ("", ".", "..") for part in rel.split("/")):
        raise ValueError(f"refusing to write outside the archive: {rel!r}")


def record_file(conn: sqlite3.Connection, record: FileRecord) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO files (path, sha256, size, mtime_ns) VALUES (?, ?, ?, ?)",
        (record.path, record.sha256, record.size, record.mtime_ns),
    )


class Publisher:
    """Writes into the archive folder at `root`."""

    writes = True

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: set[str] = set()

    def _folders(self, rel: str) -> None:
        check_relative(rel)
        # fsutil makes only the last folder private; parents made along the way would get
        # the umask's mode, so make each level here, top down.
        parts = rel.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in self._made:
                make_private_dir(self.root / folder)
                self._made.add(folder)

    def write(self, rel: str, data: bytes) -> FileRecord:
        target = self.root / rel
        self._folders(rel)
        atomic_write_bytes(target, data)
        return FileRecord(rel, hashlib.sha256(data).hexdigest(), len(data),
                          target.stat().st_mtime_ns)

    def move_in(self, source: Path, rel: str, sha256: str) -> FileRecord:
        """Move an extracted file into place (copy when it lives on another disk)."""
        target = self.root / rel
        self._folders(rel)
        try:
            _fsync_file(source)
            if os.name == "posix":
                os.chmod(source, PRIVATE_FILE_MODE)
            os.replace(source, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise_for_os_error(exc, target)
                raise
            with source.open("rb") as src, atomic_writer(target) as dst:
                shutil.copyfileobj(src, dst, CHUNK)
            source.unlink()
        stat = target.stat()
        return FileRecord(rel, sha256, stat.st_size, stat.st_mtime_ns)

    def discard(self, source: Path) -> None:
        """Remove an extracted file the archive already holds (same content)."""
        source.unlink(missing_ok=True)


class NoOpPublisher(Publisher):
    """Dry run: computes what would be written, writes nothing, leaves sources alone."""

    writes = False

    def write(self, rel: str, data: bytes) -> FileRecord:
        check_relative(rel)
        return FileRecord(rel, hashlib.sha256(data).hexdigest(), len(data), 0)

    def move_in(self, source: Path, rel: str, sha256: str) -> FileRecord:
        return FileRecord(rel, sha256, source.stat().st_size, 0)

    def discard(self, source: Path) -> None:
        return None


def _fsync_file(path: Path) -> None:
    # Windows can only flush a handle opened for writing.
    fd = os.open(path, os.O_RDWR if os.name == "nt" else os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
