"""Opening the SQLite store: pragmas, damage detection, migrations, the dry-run copy.

Connections run in autocommit mode (isolation_level=None); callers open explicit
transactions with `transaction()`, so it is always visible where a commit happens.
The journal is DELETE, so the store is one self-contained file between runs.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coldtexts.errors import ArchiveDamagedError
from coldtexts.fsutil import PRIVATE_FILE_MODE

from .schema import migrate

STORE_NAME = "coldtexts.db"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(when: datetime) -> int:
    """Microseconds since the epoch (UTC); naive datetimes are taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // timedelta(microseconds=1)


def from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def now_us() -> int:
    return to_us(datetime.now(UTC))


def _damaged(path: Path, exc: Exception) -> ArchiveDamagedError:
    return ArchiveDamagedError(
        f"The archive's store {path} cannot be read ({exc}); restore it from a copy of the "
        "archive, or move it aside and export again into a new folder."
    )


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -32000")


def open_store(path: Path, *, create: bool) -> sqlite3.Connection:
    """Open (or create) the store at `path`, check it is sound, and migrate it."""
    existed = path.exists()
    if not existed and not create:
        raise ArchiveDamagedError(
            f"{path.parent} has no store ({STORE_NAME}); it is not a coldtexts archive, "
            "or the store was removed. Check the folder name."
        )
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, exc) from exc
    try:
        if not existed and os.name == "posix":
            os.chmod(path, PRIVATE_FILE_MODE)
        _configure(conn)
        conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file between runs
        if existed:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {result}")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _damaged(path, exc) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection for status and verify; never migrates or writes."""
    if not path.is_file():
        raise ArchiveDamagedError(
            f"{path.parent} has no store ({STORE_NAME}); it is not a coldtexts archive. "
            "Check the folder name."
        )
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True,
                               isolation_level=None)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, exc) from exc
    return conn


def memory_copy(source: sqlite3.Connection) -> sqlite3.Connection:
    """An in-memory copy of the store for dry runs: the real code path, nothing persists."""
    copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    source.backup(copy)
    _configure(copy)
    return copy


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception (KeyboardInterrupt too)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
