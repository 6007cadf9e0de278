"""Open an SQLite file strictly read-only, with its write-ahead log applied.

A database in WAL mode keeps recent transactions in `<db>-wal` (real backups hold
messages that exist only there), and SQLite needs a `-shm` index beside it to read the
WAL. Opening read-only in place could create that `-shm` next to the source, so when a
WAL or shm exists, or the header says WAL mode, the trio is copied into a private
temporary folder first and opened there. The source folder is never written.

The bulk reads (every message row) go through a second connection, apsw's, to the same
file: the standard sqlite3 module of Python 3.11 releases and takes back the GIL around
every column of every row, which apsw does not. Reading through apsw takes 13.6 % fewer
instructions and about 0.91x the time (BENCHMARKS.md, "Reading sms.db"). apsw brings its
own SQLite, so two copies of the library share the process; SQLite warns that they
cannot see each other's POSIX locks, which matters to writers only: both connections
here are read-only.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from types import TracebackType

import apsw

_SIDECARS = ("-wal", "-shm")
_HEADER = b"SQLite format 3\x00"


class ReadOnlyDatabase:
    """A read-only sqlite3 connection plus the temporary copy it may live in."""

    def __init__(self, path: Path, *, private_copy: bool = True) -> None:
        """`private_copy=False` opens `path` where it is: for a second reader of a file a
        ReadOnlyDatabase has already opened (its `path`), never for a source."""
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        target = path
        if private_copy and _needs_private_copy(path):
            self._tempdir = tempfile.TemporaryDirectory(prefix="coldtexts-sqlite-")
            target = Path(self._tempdir.name) / path.name
            shutil.copyfile(path, target)
            for suffix in _SIDECARS:
                sidecar = path.with_name(path.name + suffix)
                if sidecar.is_file():
                    shutil.copyfile(sidecar, target.with_name(target.name + suffix))
        self.path = target  # the file actually opened
        self._rows: apsw.Connection | None = None
        uri = f"{target.resolve().as_uri()}?mode=ro"
        try:
            self.connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        except BaseException:
            self._cleanup()
            raise
        self._uri = uri

    @property
    def rows(self) -> apsw.Connection:
        """The connection for bulk reads (see the module's note), opened on first use:
        apsw.Error (not sqlite3's) when the file cannot be read."""
        if self._rows is None:
            # NOMUTEX: only one thread at a time reads through it (the reader's).
            self._rows = apsw.Connection(self._uri, flags=apsw.SQLITE_OPEN_READONLY
                                         | apsw.SQLITE_OPEN_URI | apsw.SQLITE_OPEN_NOMUTEX)
        return self._rows

    def close(self) -> None:
        try:
            if self._rows is not None:
                self._rows.close()
            self.connection.close()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> ReadOnlyDatabase:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def looks_like_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(_HEADER)) == _HEADER
    except OSError:
        return False


def _needs_private_copy(path: Path) -> bool:
    if any(path.with_name(path.name + suffix).exists() for suffix in _SIDECARS):
        return True
    try:
        with path.open("rb") as handle:
            header = handle.read(20)
    except OSError:
        return False
    # Bytes 18/19 are the read/write format versions: 2 means WAL mode.
    return len(header) == 20 and (header[18] == 2 or header[19] == 2)


def table_columns(connection: sqlite3.Connection, table: str) -> frozenset[str]:
    """The column names of `table` (empty when the table does not exist)."""
    rows = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
    return frozenset(str(row[1]) for row in rows)


def has_index_on(connection: sqlite3.Connection, table: str, column: str) -> bool:
    """Whether an index of `table` starts with `column` (so ranges of it are cheap)."""
    for row in connection.execute(f'PRAGMA index_list("{table}")').fetchall():
        first = connection.execute(f'PRAGMA index_info("{row[1]}")').fetchone()
        if first is not None and first[2] == column:
            return True
    return False


def table_names(connection: sqlite3.Connection) -> frozenset[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return frozenset(str(row[0]) for row in rows)
