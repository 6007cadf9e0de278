"""MANIFEST.sha256: every file of the archive with its SHA-256, `sha256sum -c` compatible.

Covers every file except the manifest itself, the lock file, logs/, a run's top-level
working files (".coldtexts-*": the decrypted staging folder) and, in any folder, the
temp files of atomic writes (".coldtexts-tmp-*": half-written, never content; a preview
worker of a killed run can still be finishing one while the next run hashes). Hashes come from
the store's `files` table when a file's size and mtime are what the archive recorded
when it wrote it, so writing the manifest re-hashes only files that changed or that
something else wrote (previews, say). The store is hashed last, after its final commit.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from coldtexts.fsutil import TEMP_PREFIX, atomic_write_bytes, remove_stale_temps

from .lock import LOCK_NAME
from .publish import sha256_file
from .store import STORE_NAME

MANIFEST_NAME = "MANIFEST.sha256"
EXCLUDED_FILES = frozenset({MANIFEST_NAME, LOCK_NAME})
EXCLUDED_DIRS = frozenset({"logs"})
# Top-level working files of a run (the lock, temp files, the decrypted staging folder)
# are never part of the archive.
WORKING_PREFIX = ".coldtexts-"


def archive_files(root: Path) -> Iterator[str]:
    """Archive-relative POSIX paths of every file the manifest covers, sorted."""
    yield from sorted(_walk(root, ""))


def _walk(folder: Path, prefix: str) -> Iterator[str]:
    with os.scandir(folder) as entries:
        for entry in entries:
            rel = f"{prefix}{entry.name}"
            if prefix == "" and entry.name.startswith(WORKING_PREFIX):
                continue
            if entry.is_dir(follow_symlinks=False):
                if not (prefix == "" and entry.name in EXCLUDED_DIRS):
                    yield from _walk(Path(entry.path), f"{rel}/")
            elif not ((prefix == "" and entry.name in EXCLUDED_FILES)
                      or entry.name.startswith(TEMP_PREFIX)):
                yield rel


def remove_temps(root: Path) -> int:
    """Delete temp files a killed run left anywhere in the archive."""
    removed = remove_stale_temps(root)
    for dirpath, dirnames, filenames in os.walk(root):
        if any(name.startswith(TEMP_PREFIX) for name in filenames):
            removed += remove_stale_temps(Path(dirpath))
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
    return removed


def hash_known_files(conn: sqlite3.Connection, root: Path) -> dict[str, str]:
    """SHA-256 of every covered file except the store; updates `files` as it goes."""
    known = {
        path: (sha, size, mtime)
        for path, sha, size, mtime in conn.execute(
            "SELECT path, sha256, size, mtime_ns FROM files"
        )
    }
    hashes: dict[str, str] = {}
    for rel in archive_files(root):
        if rel == STORE_NAME:
            continue
        stat = (root / rel).stat()
        entry = known.get(rel)
        if entry is not None and (entry[1], entry[2]) == (stat.st_size, stat.st_mtime_ns):
            hashes[rel] = entry[0]
            continue
        sha = sha256_file(root / rel)
        conn.execute(
            "INSERT OR REPLACE INTO files (path, sha256, size, mtime_ns) VALUES (?, ?, ?, ?)",
            (rel, sha, stat.st_size, stat.st_mtime_ns),
        )
        hashes[rel] = sha
    return hashes


def write_manifest(root: Path, hashes: dict[str, str]) -> Path:
    lines = [f"{hashes[rel]}  {rel}\n" for rel in sorted(hashes)]
    target = root / MANIFEST_NAME
    atomic_write_bytes(target, "".join(lines).encode("utf-8"))
    return target


def read_manifest(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        sha, sep, rel = line.partition("  ")
        if not sep or len(sha) != 64:
            raise ValueError(f"line {number} is not '<sha256>  <path>'")
        entries[rel] = sha
    return entries
