"""The reader looks up a block of messages' full rows and attachments together.

messages_in_chunk takes BLOCK_ROWS plain rows at a time and looks up the full rows and
attachments they need ROWIDS_AT_ONCE to a statement (one statement a message cost ~20 µs
inside a read). These tests check that it gives exactly what a lookup per message gives,
across blocks and statements, and when two reads of the same database interleave.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import apsw
import pytest

from coldtexts.errors import MessagesDatabaseCorruptError
from coldtexts.fixtures.smsdb_builder import AttachmentSpec, SmsDbBuilder
from coldtexts.messages import reader_parallel
from coldtexts.messages.models import Message
from coldtexts.messages.reader import SmsDatabase
from coldtexts.messages.reader_query import ROWIDS_AT_ONCE
from reader_support import damage_message_pages

T0 = datetime(2024, 3, 9, 18, 30, tzinfo=UTC)
MESSAGES = 3 * ROWIDS_AT_ONCE + 5  # attachment lookups span several statements


def _database(tmp_path: Path) -> Path:
    """Messages with none, one or three attachments (in a join order of their own), some
    edited (read in full), some both, in two chats."""
    b = SmsDbBuilder(schema="ios18")
    mom, alex = b.handle("+15555550101"), b.handle("+15555550102")
    chats = [b.chat([mom]), b.chat([mom, alex], display_name="Family")]
    for i in range(MESSAGES):
        count = (0, 1, 3)[i % 3]
        files = [AttachmentSpec(f"IMG_{i}_{k}.HEIC", "image/heic", "public.heic",
                                guid=f"AT-{i}-{k}") for k in range(count)]
        when = T0 + timedelta(minutes=i)
        edits = [(when + timedelta(seconds=30), f"edited {i}")] if i % 4 == 0 else []
        b.message(chats[i % 2], sender=mom, date=when, text=f"message {i}",
                  attachments=files, edits=edits)
    return b.write(tmp_path / "sms.db")


def _read(path: Path) -> tuple[list[Message], list[object]]:
    with SmsDatabase.open(path) as db:
        return list(db.messages(parallel=False)), list(db.problems)


def _one_lookup_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader as it was: no look-ahead, a statement per full row and attachment list."""
    monkeypatch.setattr(SmsDatabase, "_look_ahead", lambda self, block, full: None)


@pytest.mark.parametrize("block_rows", [1, 7, 256])
def test_looked_up_ahead_equals_looked_up_one_by_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_rows: int) -> None:
    path = _database(tmp_path)
    with monkeypatch.context() as alone:
        _one_lookup_a_message(alone)
        expected, expected_problems = _read(path)
    monkeypatch.setattr("coldtexts.messages.reader.BLOCK_ROWS", block_rows)
    messages, problems = _read(path)
    assert messages == expected and problems == expected_problems
    assert sum(len(m.attachments) for m in messages) == (MESSAGES // 3) * 4 + 1
    assert [a.guid for a in messages[2].attachments] == ["AT-2-0", "AT-2-1", "AT-2-2"]
    assert sum(1 for m in messages if m.edits) == (MESSAGES + 3) // 4


def test_a_block_is_looked_up_in_few_statements(tmp_path: Path) -> None:
    path = _database(tmp_path)
    statements: list[str] = []
    with SmsDatabase.open(path) as db:
        def traced(cursor: Any, sql: str, bindings: Any) -> bool:
            statements.append(sql)
            return True  # go on and run it

        db._database.rows.exec_trace = traced
        db.connection.set_trace_callback(statements.append)  # where lookups one by one run
        messages = list(db.messages(parallel=False))
    with_attachments = sum(1 for m in messages if m.attachments)
    edited = sum(1 for m in messages if m.edits)
    per_message = [s for s in statements if "WHERE j.message_id = " in s
                   or "WHERE m.ROWID = " in s]
    together = [s for s in statements if "m.ROWID IN (" in s or "j.message_id IN (" in s]
    assert with_attachments > ROWIDS_AT_ONCE and not per_message
    assert len(together) == -(-with_attachments // ROWIDS_AT_ONCE) + -(-edited //
                                                                      ROWIDS_AT_ONCE)


def test_two_interleaved_reads_of_one_database_give_what_each_gives_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each read's look-ahead replaces the other's; the rows it lacks are looked up alone
    (the parallel reader reads a chunk ahead while its own waits)."""
    monkeypatch.setattr("coldtexts.messages.reader.BLOCK_ROWS", 5)
    path = _database(tmp_path)
    with SmsDatabase.open(path) as db:
        bounds = reader_parallel.chunk_bounds(db, rows=MESSAGES // 2, min_rows=0)
        assert bounds is not None and len(bounds) == 3
        alone = [list(db.messages_in_chunk(bounds, i)) for i in range(3)]
        readers = {i: db.messages_in_chunk(bounds, i) for i in range(3)}
        interleaved: list[list[Message]] = [[], [], []]
        while readers:
            for i, reader in list(readers.items()):
                if (message := next(reader, None)) is None:
                    del readers[i]
                else:
                    interleaved[i].append(message)
    assert interleaved == alone
    assert sum(len(chunk) for chunk in alone) == MESSAGES


@pytest.mark.parametrize("block_rows", [1, 7, 256])
def test_tapback_targets_are_found_or_reported_across_blocks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_rows: int) -> None:
    """Whether a tapback's target exists is asked for a block of tapbacks together; every
    tapback to a missing message is reported, once, in order, and none to a present one."""
    b = SmsDbBuilder(schema="ios18")
    mom = b.handle("+15555550101")
    chat = b.chat([mom])
    targets = [b.message(chat, sender=mom, date=T0 + timedelta(minutes=i), text=f"m {i}")
               for i in range(ROWIDS_AT_ONCE + 3)]
    targets += [f"MISSING-{i}" for i in range(5)]
    taps = [b.message(chat, from_me=True, date=T0 + timedelta(hours=1, minutes=i),
                      tapback=(2000 + i % 6, target, 0))
            for i, target in enumerate(targets + targets[:3])]
    monkeypatch.setattr("coldtexts.messages.reader.BLOCK_ROWS", block_rows)
    with SmsDatabase.open(b.write(tmp_path / "sms.db")) as db:
        reactions = list(db.reactions())
        problems = [(p.kind, p.guid) for p in db.problems]
    assert [r.guid for r in reactions] == taps
    assert [r.target_guid for r in reactions] == targets + targets[:3]
    missing = [tap for tap, target in zip(taps, targets, strict=False)
               if target.startswith("MISSING")]
    assert problems == [("dangling_tapback", tap) for tap in missing]


def test_damage_met_midway_by_the_bulk_connection_is_a_typed_error(tmp_path: Path) -> None:
    """The rows are streamed through apsw (reader_sqlite): a damaged page found there is
    the same one-sentence MessagesDatabaseCorruptError as anywhere else."""
    b = SmsDbBuilder(schema="ios18")
    mom = b.handle("+15555550101")
    chat = b.chat([mom])
    for i in range(2000):
        b.message(chat, sender=mom, date=T0 + timedelta(minutes=i), text=f"message {i} " * 20)
    path = b.write(tmp_path / "sms.db")
    damage_message_pages(path)
    read = 0
    with pytest.raises(MessagesDatabaseCorruptError) as caught, SmsDatabase.open(path) as db:
        for _ in db.messages(parallel=False):
            read += 1
    assert read > 100  # it failed midway, after the rows before the damage
    assert "corrupt or truncated" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("column", ["text", "guid"])
def test_text_that_is_not_utf8_is_a_typed_error(tmp_path: Path, column: str) -> None:
    """apsw raises UnicodeDecodeError for such text; the reader says the database is
    damaged, as it does for any other damage (and as it did through sqlite3)."""
    b = SmsDbBuilder(schema="ios18")
    mom = b.handle("+15555550101")
    guid = b.message(b.chat([mom]), sender=mom, date=T0, text="fine")
    path = b.write(tmp_path / "sms.db")
    with sqlite3.connect(path) as connection:
        connection.execute(f"UPDATE message SET {column} = CAST(X'ff41' AS TEXT) "
                           "WHERE guid = ?", (guid,))
    connection.close()
    with pytest.raises(MessagesDatabaseCorruptError), SmsDatabase.open(path) as db:
        list(db.messages(parallel=False))


def test_damage_met_by_a_block_lookup_is_a_typed_error(tmp_path: Path) -> None:
    """A lookup made for a block (here the attachments') that meets damage fails the read
    with the typed error, like the row stream itself."""
    path = _database(tmp_path)

    class Damaged:  # the bulk connection, with every block lookup meeting a bad page
        def __init__(self, rows: Any) -> None:
            self._rows = rows

        def execute(self, sql: str, bindings: Any = None) -> Any:
            if "IN (?, ?" in sql:  # a ROWIDS_AT_ONCE statement
                raise apsw.CorruptError("database disk image is malformed")
            return self._rows.execute(sql, bindings)

        def close(self) -> None:
            self._rows.close()

    with pytest.raises(MessagesDatabaseCorruptError, match="corrupt or truncated"), \
            SmsDatabase.open(path) as db:
        db._database._rows = Damaged(db._database.rows)  # type: ignore[assignment]
        list(db.messages(parallel=False))
