"""Reading in two processes gives exactly what reading in one gives, and loses nothing
when the worker is gone.

The showcase databases are small, so they are cut into chunks of two or three rows (the
real chunks are thousands): every chunk boundary, the worker's and this process's
chunks, and votes read apart from their polls all come up.
"""

from __future__ import annotations

import itertools
import multiprocessing
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from coldtexts.fixtures.smsdb_builder import build_showcase
from coldtexts.messages import reader_parallel
from coldtexts.messages.models import Message
from coldtexts.messages.reader import SmsDatabase


def _sequential(path: Path) -> tuple[list[Message], list[object]]:
    with SmsDatabase.open(path) as db:
        return list(db.messages(parallel=False)), list(db.problems)


def _parallel(path: Path, rows: int, *, worker_path: Path | None = None
              ) -> tuple[list[Message], list[object], int]:
    """Read in two processes; checks which chunks this process read itself."""
    with SmsDatabase.open(path) as db:
        bounds = reader_parallel.chunk_bounds(db, rows=rows, min_rows=0)
        assert bounds is not None
        if worker_path is not None:
            db.path = worker_path
        read_here: list[int] = []
        read_chunk = db.messages_in_chunk

        def recording(bounds: Sequence[Any] | None, index: int) -> Iterator[Message]:
            read_here.append(index)
            return read_chunk(bounds, index)

        db.messages_in_chunk = recording  # type: ignore[method-assign]
        messages = list(reader_parallel.messages(db, bounds))
        everything = list(range(len(bounds)))
        assert read_here == (everything if worker_path else everything[::2])
        return messages, list(db.problems), len(bounds)


@pytest.mark.parametrize("schema", ["ios12", "ios16", "ios18"])
@pytest.mark.parametrize("rows", [2, 3])
def test_two_processes_read_what_one_reads(tmp_path: Path, schema: str, rows: int) -> None:
    path = tmp_path / "sms.db"
    build_showcase(path, schema)
    messages, problems = _sequential(path)
    parallel, parallel_problems, chunks = _parallel(path, rows)
    assert chunks > 4
    assert parallel == messages
    assert parallel_problems == problems
    assert not multiprocessing.active_children()


def test_rows_without_a_date_and_shared_dates_are_read_once(tmp_path: Path) -> None:
    path = tmp_path / "sms.db"
    build_showcase(path, "ios18")
    with sqlite3.connect(path) as connection:
        rowids = [r[0] for r in connection.execute("SELECT ROWID FROM message ORDER BY ROWID")]
        connection.executemany("UPDATE message SET date = NULL WHERE ROWID = ?",
                               [(r,) for r in rowids[:3]])
        connection.executemany("UPDATE message SET date = 700000000000000000 WHERE ROWID = ?",
                               [(r,) for r in rowids[5:12]])
    messages, problems = _sequential(path)
    parallel, parallel_problems, _ = _parallel(path, 2)
    assert [m.guid for m in parallel] == [m.guid for m in messages]
    assert parallel == messages and parallel_problems == problems


def test_a_worker_that_cannot_start_reading_leaves_every_chunk_to_the_run(
        tmp_path: Path) -> None:
    path = tmp_path / "sms.db"
    build_showcase(path, "ios16")
    messages, problems = _sequential(path)
    parallel, parallel_problems, _ = _parallel(path, 2, worker_path=tmp_path / "gone.db")
    assert parallel == messages and parallel_problems == problems


def _grow(path: Path, copies: int) -> None:
    """Add `copies` copies of each plain showcase message, later in time."""
    with sqlite3.connect(path) as connection:
        columns = [r[1] for r in connection.execute("PRAGMA table_info(message)")
                   if r[1] != "ROWID"]
        rows = connection.execute(
            f"SELECT ROWID, {', '.join(columns)} FROM message WHERE cache_has_attachments = 0 "
            "AND associated_message_type = 0 AND attributedBody IS NOT NULL").fetchall()
        guid_i, date_i = columns.index("guid"), columns.index("date")
        insert = (f"INSERT INTO message ({', '.join(columns)}) "
                  f"VALUES ({', '.join('?' * len(columns))})")
        for copy in range(1, copies + 1):
            for rowid, *values in rows:
                values[guid_i] = f"{values[guid_i]}-{copy}"
                values[date_i] = (values[date_i] or 0) + copy * 10**15
                new = connection.execute(insert, values).lastrowid
                connection.execute(
                    "INSERT INTO chat_message_join (chat_id, message_id) "
                    "SELECT chat_id, ? FROM chat_message_join WHERE message_id = ?", (new, rowid))


def test_a_worker_killed_midway_is_read_around(tmp_path: Path) -> None:
    path = tmp_path / "sms.db"
    build_showcase(path, "ios18")
    _grow(path, 100)
    with SmsDatabase.open(path) as db:
        bounds = reader_parallel.chunk_bounds(db, rows=300, min_rows=0)
        assert bounds is not None and len(bounds) > 5
        worker = reader_parallel._Worker(db.path, bounds, range(1, len(bounds), 2))
        try:
            first = worker.receive(1)
            assert first is not None and first[0]
            assert first[0] == list(db.messages_in_chunk(bounds, 1))
            # Chunk 3 is larger than a pipe holds, so the worker is stuck sending it
            # until it is read: killed now, it has sent part of it at most.
            assert len(list(db.messages_in_chunk(bounds, 3))) * 300 > 2**16
            worker._process.kill()
            worker._process.join()
            assert worker.receive(3) is None and worker.lost
            assert worker.receive(5) is None
        finally:
            worker.close()
    messages, problems = _sequential(path)
    parallel, parallel_problems, _ = _parallel(path, 300)
    assert parallel == messages and parallel_problems == problems


def test_stopping_early_ends_the_worker(tmp_path: Path) -> None:
    path = tmp_path / "sms.db"
    build_showcase(path, "ios18")
    with SmsDatabase.open(path) as db:
        bounds = reader_parallel.chunk_bounds(db, rows=2, min_rows=0)
        assert bounds is not None
        stream = reader_parallel.messages(db, bounds)
        assert len(list(itertools.islice(stream, 5))) == 5
        stream.close()  # type: ignore[attr-defined]
    assert not multiprocessing.active_children()


def test_small_or_unindexed_databases_are_read_in_one_process(tmp_path: Path) -> None:
    path = tmp_path / "sms.db"
    build_showcase(path, "ios18")
    with SmsDatabase.open(path) as db:
        assert reader_parallel.chunk_bounds(db) is None  # far below MIN_ROWS
        assert reader_parallel.chunk_bounds(db, rows=2, min_rows=0) is not None
    with sqlite3.connect(path) as connection:
        names = [r[0] for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'message' "
            "AND sql LIKE '%(date)%'")]
        assert names
        for name in names:
            connection.execute(f'DROP INDEX "{name}"')
    with SmsDatabase.open(path) as db:
        assert not db.has_date_index
        assert reader_parallel.chunk_bounds(db, rows=2, min_rows=0) is None


def test_chunk_dates_cover_every_date_once() -> None:
    bounds = [10, 20, 30]
    assert reader_parallel.chunk_dates(None, 0) == ("", ())
    assert reader_parallel.chunk_dates([10], 0) == ("", ())
    assert reader_parallel.chunk_dates(bounds, 0) == ("first", (20,))
    assert reader_parallel.chunk_dates(bounds, 1) == ("middle", (20, 30))
    assert reader_parallel.chunk_dates(bounds, 2) == ("last", (30,))
