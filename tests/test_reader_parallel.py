"""Reading in two processes gives exactly what reading in one gives, and loses nothing
when the worker is gone.

The showcase databases are small, so they are cut into chunks of two or three rows (the
real chunks are thousands): every chunk boundary and both processes' chunks come up. A
vote read apart from its poll is tested in test_reader_polls.py.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import multiprocessing.context
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from coldtexts.errors import MessagesDatabaseCorruptError
from coldtexts.fixtures.smsdb_builder import build_showcase
from coldtexts.messages import reader_parallel
from coldtexts.messages.models import Message, Reaction, ReadProblem
from coldtexts.messages.reader import SmsDatabase
from reader_support import damage_message_pages


def _sequential(path: Path, *, reactions: bool = True
                ) -> tuple[list[Message | Reaction], list[object]]:
    """The messages then the reactions, and the problems, read in this process."""
    with SmsDatabase.open(path) as db:
        read: list[Message | Reaction] = list(db.messages(parallel=False))
        if reactions:
            read += db.reactions()
        return read, list(db.problems)


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here reads as a machine with two cores does, whatever this one has."""
    monkeypatch.setattr(reader_parallel.os, "cpu_count", lambda: 2)


def _bounds(db: SmsDatabase, rows: int) -> list[Any]:
    """The chunk bounds of `db` cut every `rows` rows, however small it is."""
    bounds = reader_parallel.chunk_bounds(db, rows=rows, min_rows=0)
    assert bounds is not None
    return bounds


def _parallel(path: Path, rows: int, *, worker_path: Path | None = None,
              kill_worker_after: int | None = None, worker_expected: bool = True
              ) -> tuple[list[Message | Reaction], list[object], int]:
    """Read the messages then the reactions in two processes.

    This process waits, before its first chunk, until the worker has one read, so the
    worker does take part even in a small database; it checks that every chunk it read,
    it read once, and that the worker read some. `kill_worker_after` kills the worker
    once this process has read that many chunks. A machine where no worker can start
    skips the test unless `worker_expected` is False: comparing a read in one process
    with another would test nothing."""
    workers: list[reader_parallel.Worker] = []
    original = reader_parallel.Worker

    class Recorded(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            workers.append(self)

    reader_parallel.Worker = Recorded  # type: ignore[misc]
    try:
        with SmsDatabase.open(path) as db:
            bounds = _bounds(db, rows)
            if worker_path is not None:
                db.path = worker_path
            read_here: list[int] = []
            could_start: list[bool] = []  # no shared memory: no worker at all
            read_chunk = db.messages_in_chunk

            def recording(bounds: Sequence[Any] | None, index: int) -> Iterator[Message]:
                if not read_here:  # let the worker start and read a chunk first
                    could_start.append(not workers[0].lost)
                    if worker_expected and workers[0].lost:
                        pytest.skip("no worker process can start on this machine")
                    deadline = time.monotonic() + 30
                    while not (workers[0].lost or workers[0].ready()):
                        assert time.monotonic() < deadline, "the worker never started"
                        time.sleep(0.01)
                read_here.append(index)
                if len(read_here) == kill_worker_after:
                    process = workers[0]._process
                    assert process is not None
                    process.kill()
                    process.join()
                return read_chunk(bounds, index)

            db.messages_in_chunk = recording  # type: ignore[method-assign]
            read: list[Message | Reaction] = list(
                reader_parallel.messages(db, bounds, keep=db._keep_for_reactions))
            assert len(set(read_here)) == len(read_here)
            if worker_path is not None:  # the worker could not open it: all read here
                assert sorted(read_here) == list(range(len(bounds)))
            elif could_start[0]:  # the worker read some
                assert len(read_here) < len(bounds)
            if kill_worker_after is not None:
                assert workers[0].lost
            read += db.reactions()
            assert not multiprocessing.active_children()  # reactions() ended the worker
            return read, list(db.problems), len(bounds)
    finally:
        reader_parallel.Worker = original  # type: ignore[misc]


class ScriptedWorker:
    """A worker in this process, for merged(): it takes the chunks in `takes` as they
    come up, is never ready until this process has read ahead all it may, and can be
    made to die at a chunk."""

    def __init__(self, path: Path, bounds: Sequence[Any], takes: set[int],
                 dies_at: int | None = None) -> None:
        self.db = SmsDatabase.open(path)
        self.bounds, self.takes, self.dies_at = bounds, takes, dies_at
        self.taken = 0
        self.lost = False
        self.received: list[int] = []

    def _worker_takes(self) -> None:
        while self.taken in self.takes:
            self.taken += 1

    def claim(self, index: int) -> bool:
        self._worker_takes()
        if index < self.taken:
            return False
        assert index == self.taken
        self.taken += 1
        return True

    def claim_next(self, stop: int) -> int | None:
        self._worker_takes()
        if self.taken >= stop:
            return None
        self.taken += 1
        return self.taken - 1

    def ready(self) -> bool:
        return False

    def receive(self, index: int) -> tuple[list[Message], list[ReadProblem]] | None:
        assert index in self.takes and index not in self.received
        if index == self.dies_at:
            self.lost = True
        if self.lost:
            return None
        self.received.append(index)
        mark = len(self.db.problems)
        messages = list(self.db.messages_in_chunk(self.bounds, index))
        return messages, self.db.problems[mark:]


@pytest.mark.parametrize("dies_at", [None, 7])
def test_chunks_read_ahead_or_received_come_out_in_order(tmp_path: Path,
                                                         dies_at: int | None) -> None:
    path = tmp_path / "sms.db"
    build_showcase(path, "ios18")
    messages, problems = _sequential(path, reactions=False)
    with SmsDatabase.open(path) as db:
        bounds = _bounds(db, 2)
        assert len(bounds) > 12
        worker = ScriptedWorker(path, bounds, set(range(1, len(bounds), 3)), dies_at)
        merged = list(reader_parallel.merged(db, bounds, worker))
        assert merged == messages
        assert db.problems == problems
        assert problems  # the showcase has some, so their order is checked too
        assert worker.received[:2] == [1, 4]
        if dies_at is not None:
            assert worker.lost and all(i < dies_at for i in worker.received)
        worker.db.close()


@pytest.mark.parametrize("stop_after", [None, 3])
def test_chunks_kept_for_later_are_frozen_and_given_back_to_the_collector(
        tmp_path: Path, stop_after: int | None, request: pytest.FixtureRequest) -> None:
    """A chunk read ahead is kept out of the collector's passes while it waits (frozen),
    and the read leaves nothing frozen and the collector on, however it ends."""
    request.addfinalizer(gc.unfreeze)  # a failure here must not leave later tests frozen
    path = tmp_path / "sms.db"
    build_showcase(path, "ios18")
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    with SmsDatabase.open(path) as db:
        bounds = _bounds(db, 2)
        worker = ScriptedWorker(path, bounds, set(range(1, len(bounds), 3)))
        stream = reader_parallel.merged(db, bounds, worker)
        frozen_while_reading = []
        for count, _ in enumerate(stream, 1):
            frozen_while_reading.append(gc.get_freeze_count())
            if count == stop_after:
                stream.close()  # type: ignore[attr-defined]
                break
        worker.db.close()
    assert max(frozen_while_reading) > 0  # the chunks read ahead of the worker's
    assert gc.get_freeze_count() == 0 and gc.isenabled()


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


@pytest.mark.parametrize("schema", ["ios12", "ios18"])
def test_the_worker_alone_reads_what_one_process_reads(tmp_path: Path, schema: str) -> None:
    path = tmp_path / "sms.db"
    build_showcase(path, schema)
    messages, problems = _sequential(path)
    with SmsDatabase.open(path) as db:
        bounds = _bounds(db, 2)
        worker = reader_parallel.Worker(db.path, bounds)  # this process takes none
        try:  # the messages' chunks, then the reactions'
            chunks = [worker.receive(index) for index in range(2 * len(bounds))]
        finally:
            worker.close()
    assert all(chunk is not None for chunk in chunks)
    assert [m for chunk in chunks if chunk for m in chunk[0]] == messages
    assert [p for chunk in chunks if chunk for p in chunk[1]] == problems
    assert any(isinstance(m, Reaction) for m in messages)


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
    """Add `copies` copies of each plain showcase message, later in time: chunks big
    enough for a worker killed midway to hold one unsent, of the showcase's own rows
    (the workload fixtures build whole databases, not more of an existing one)."""
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


def test_without_shared_memory_everything_is_read_here(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def no_shared_memory(*args: object, **kwargs: object) -> None:
        raise OSError("no /dev/shm")

    monkeypatch.setattr(multiprocessing.context.BaseContext, "Value", no_shared_memory)
    path = tmp_path / "sms.db"
    build_showcase(path, "ios16")
    messages, problems = _sequential(path)
    with SmsDatabase.open(path) as db:
        bounds = _bounds(db, 2)
        worker = reader_parallel.Worker(db.path, bounds)
        assert worker.lost and worker.receive(1) is None
        worker.close()
    parallel, parallel_problems, _ = _parallel(path, 2, worker_expected=False)
    assert parallel == messages and parallel_problems == problems


def test_a_worker_killed_midway_is_read_around(tmp_path: Path) -> None:
    path = tmp_path / "sms.db"
    build_showcase(path, "ios18")
    _grow(path, 100)
    with SmsDatabase.open(path) as db:
        bounds = _bounds(db, 300)
        assert len(bounds) > 5
        worker = reader_parallel.Worker(db.path, bounds)  # it takes every chunk
        try:
            first = worker.receive(0)
            assert first is not None and first[0]
            assert first[0] == list(db.messages_in_chunk(bounds, 0))
            worker._process.kill()  # type: ignore[union-attr]
            worker._process.join()  # type: ignore[union-attr]
            assert worker.receive(1) is None and worker.lost
            assert worker.receive(2) is None
        finally:
            worker.close()
    messages, problems = _sequential(path)
    # Killed while both processes are reading: its chunks are read here instead.
    parallel, parallel_problems, _ = _parallel(path, 300, kill_worker_after=2)
    assert parallel == messages and parallel_problems == problems


def test_stopping_early_ends_the_worker(tmp_path: Path) -> None:
    path = tmp_path / "sms.db"
    build_showcase(path, "ios18")
    with SmsDatabase.open(path) as db:
        bounds = _bounds(db, 2)
        stream = reader_parallel.messages(db, bounds)
        assert len(list(itertools.islice(stream, 5))) == 5
        stream.close()  # type: ignore[attr-defined]
    assert not multiprocessing.active_children()


def test_a_worker_kept_for_reactions_ends_with_the_database(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setattr(reader_parallel, "CHUNK_ROWS", 2)
    monkeypatch.setattr(reader_parallel, "MIN_ROWS", 0)
    path = tmp_path / "sms.db"
    build_showcase(path, "ios18")
    read, problems = _sequential(path)
    with SmsDatabase.open(path) as db:
        assert [*db.messages()] == [m for m in read if isinstance(m, Message)]
        assert multiprocessing.active_children()  # kept for reactions()
        again = list(db.messages())  # a second read starts afresh
        assert again == [m for m in read if isinstance(m, Message)]
        assert len(multiprocessing.active_children()) == 1
    assert not multiprocessing.active_children()  # closing the database ended it
    with SmsDatabase.open(path) as db:
        assert [*db.messages(), *db.reactions()] == read and db.problems == problems


def test_small_or_unindexed_databases_or_one_core_are_read_in_one_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sms.db"
    build_showcase(path, "ios18")
    with SmsDatabase.open(path) as db:
        assert reader_parallel.chunk_bounds(db) is None  # far below MIN_ROWS
        assert reader_parallel.chunk_bounds(db, rows=2, min_rows=0) is not None
        monkeypatch.setattr(reader_parallel.os, "cpu_count", lambda: 1)
        assert reader_parallel.chunk_bounds(db, rows=2, min_rows=0) is None
        monkeypatch.setattr(reader_parallel.os, "cpu_count", lambda: None)  # unknown: one
        assert reader_parallel.chunk_bounds(db, rows=2, min_rows=0) is None
        monkeypatch.setattr(reader_parallel.os, "cpu_count", lambda: 2)
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


def test_chunk_dates_name_each_chunks_range_and_bounds() -> None:
    bounds = [10, 20, 30]
    assert reader_parallel.chunk_dates(None, 0) == ("", ())
    assert reader_parallel.chunk_dates([10], 0) == ("", ())
    assert reader_parallel.chunk_dates(bounds, 0) == ("first", (20,))
    assert reader_parallel.chunk_dates(bounds, 1) == ("middle", (20, 30))
    assert reader_parallel.chunk_dates(bounds, 2) == ("last", (30,))


def test_a_corrupt_database_read_in_two_processes_is_a_typed_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader_parallel, "CHUNK_ROWS", 20)
    monkeypatch.setattr(reader_parallel, "MIN_ROWS", 0)
    path = tmp_path / "sms.db"
    build_showcase(path, "ios18")
    _grow(path, 30)
    damage_message_pages(path)
    read = 0
    with pytest.raises(MessagesDatabaseCorruptError), SmsDatabase.open(path) as db:
        for _ in db.messages():
            read += 1
    assert read > 100  # it failed midway, after the chunks before the damage
    assert not multiprocessing.active_children()
