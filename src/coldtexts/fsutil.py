"""Filesystem rules every writer follows: private modes and atomic publication.

Atomic: write a temp file in the destination's own folder, fsync, os.replace, fsync the
folder. A crash leaves either the old file or the new one, never half of one.
Private: folders 0700, files 0600 (owner-only), on every platform where modes exist.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from coldtexts.errors import DiskFullError, OutputNotWritableError

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
TEMP_PREFIX = ".coldtexts-tmp-"


def make_private_dir(path: Path) -> Path:
    """Create `path` (and parents) owner-only; tighten it if it already exists."""
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(path, PRIVATE_DIR_MODE)
    except PermissionError as exc:
        raise OutputNotWritableError(
            f"Cannot create {path}: permission denied; choose a folder you own."
        ) from exc
    return path


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a directory for fsync; NTFS renames are journaled.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def raise_for_os_error(exc: OSError, path: Path) -> None:
    """Turn disk-full and permission failures into typed errors."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        raise DiskFullError(
            f"The disk holding {path.parent} is full; free some space and run again."
        ) from exc
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        raise OutputNotWritableError(
            f"Cannot write {path}: {exc.strerror}; check the folder's permissions."
        ) from exc


@contextlib.contextmanager
def atomic_writer(path: Path, mode: int = PRIVATE_FILE_MODE) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces `path` atomically when the block succeeds."""
    folder = path.parent
    make_private_dir(folder)
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if os.name == "posix":
            os.chmod(tmp, mode)
        os.replace(tmp, path)
        _fsync_dir(folder)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise_for_os_error(exc, path)
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes, mode: int = PRIVATE_FILE_MODE) -> None:
    with atomic_writer(path, mode) as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str, mode: int = PRIVATE_FILE_MODE) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def is_inside(child: Path, parent: Path) -> bool:
    """True when `child` resolves to a path inside `parent` (symlinks followed)."""
    try:
        child.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def remove_stale_temps(folder: Path) -> int:
    """Remove temp files a killed run left behind in `folder` (not recursive)."""
    removed = 0
    if not folder.is_dir():
        return 0
    for entry in folder.iterdir():
        if entry.name.startswith(TEMP_PREFIX) and entry.is_file():
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


def human_size(size: int) -> str:
    """Bytes in decimal units, as file managers show them: "812 bytes", "1.5 MB"."""
    if size < 1000:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"
