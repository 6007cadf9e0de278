"""The sms.db reader: a read-only, streaming view of a Messages database.

    with SmsDatabase.open(path, contacts) as db:
        for conversation in db.conversations(): ...
        for message in db.messages(): ...      # ordered by date; tapbacks excluded
        for reaction in db.reactions(): ...
        db.problems                            # what could not be read faithfully

The file is opened with SQLite's read-only mode, its WAL applied (reader_sqlite). The
query is built from the columns that exist (reader_query), never from the iOS version.
Rows are streamed from a cursor, so memory stays flat however many messages there are;
only handles, chats and the set of message ids that have attachments are held in memory.
"""

from __future__ import annotations

import errno
import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any

import apsw

from ..errors import DiskFullError, MessagesDatabaseCorruptError
from . import classify, reader_parallel
from .contacts import ContactBook
from .dates import apple_time
from .models import (
    Attachment,
    Conversation,
    Message,
    Participant,
    Reaction,
    ReadProblem,
    new_attachment,
    new_reaction,
)
from .reader_query import ATTACHMENT_FIELDS, ROWIDS_AT_ONCE, P, R, Schema
from .reader_rows import RowConverter, handle_text, sticker_source_from_plist
from .reader_sqlite import ReadOnlyDatabase, has_index_on, looks_like_sqlite

_REQUIRED_TABLES = ("message", "handle", "chat", "chat_message_join")
_A = {name: index for index, name in enumerate(ATTACHMENT_FIELDS)}
BLOCK_ROWS = 256  # messages whose full rows and attachments are looked up together
# What a damaged database raises on the bulk (apsw) connection: apsw's own errors, and
# UnicodeDecodeError for text that is not UTF-8 (the sqlite3 module raised its own error).
_BULK_ERRORS = (apsw.Error, UnicodeDecodeError)


class SmsDatabase:
    def __init__(self, database: ReadOnlyDatabase, path: Path, contacts: ContactBook) -> None:
        self._database = database
        self._connection = database.connection
        self._name = path.name
        self.contacts = contacts
        self.problems: list[ReadProblem] = []
        self.schema = Schema.probe(self._connection)
        missing = [t for t in _REQUIRED_TABLES if t not in self.schema.tables]
        if missing:
            raise MessagesDatabaseCorruptError(
                f"{path.name} is not a Messages database (no {', '.join(missing)} table); "
                "check that the backup is complete.")
        self.handles = {int(r[0]): str(r[1]) for r in self._connection.execute(
            "SELECT ROWID, id FROM handle")}
        self._chat_guids = {int(r[0]): str(r[1]) for r in self._connection.execute(
            "SELECT ROWID, guid FROM chat")}
        self._with_attachments = self._attachment_message_ids()
        self._attachment_sql = self.schema.attachment_select()
        self._attachments_of_many_sql = self.schema.attachments_of_many()
        self._full_row_sql = self.schema.message_by_rowid()
        self._full_rows_sql = self.schema.messages_by_rowids()
        self._guids_present_sql = self.schema.guids_present()
        # What messages_in_chunk looked up for its current block of rows, by ROWID. Both
        # are consulted first: a row of another block (another chunk read meanwhile) is
        # only looked up alone, never given anything wrong.
        self._attachments_ahead: dict[int, list[Attachment]] = {}
        self._full_rows_ahead: dict[int, Any] = {}
        # Recently Deleted parts are few (kept ~30 days), so they are held by message.
        self._deleted_parts = self._recoverable_parts()
        self._converter = RowConverter(self.handles, self._chat_guids, self._attachments_of,
                                       self.problems, self._deleted_parts, self._payload_of)
        self.path = database.path  # the file open: a second reader can open it in place
        # The worker that read messages() with this process, kept for reactions().
        self._reactions_pending: reader_parallel.Worker | None = None
        self.has_date_index = "date" in self.schema.message and has_index_on(
            self._connection, "message", "date")

    @classmethod
    def open(cls, path: Path, contacts: ContactBook | None = None, *,
             private_copy: bool = True) -> SmsDatabase:
        """Open `path` read-only; MessagesDatabaseCorruptError when it cannot be read.

        `private_copy=False` is for a second reader of an open SmsDatabase's `path`."""
        if not looks_like_sqlite(path):
            raise MessagesDatabaseCorruptError(
                f"{path.name} is not an SQLite database (corrupt or truncated); "
                "make a fresh backup and try again.")
        try:
            database = ReadOnlyDatabase(path, private_copy=private_copy)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise DiskFullError(
                    f"No space left to stage a private copy of {path.name} with its WAL; "
                    "free some disk space and try again.") from exc
            raise _corrupt(path.name, exc) from exc
        except sqlite3.Error as exc:
            raise _corrupt(path.name, exc) from exc
        try:
            return cls(database, path, contacts or ContactBook())
        except sqlite3.Error as exc:
            database.close()
            raise _corrupt(path.name, exc) from exc
        except BaseException:
            database.close()
            raise

    @property
    def connection(self) -> sqlite3.Connection:
        return self._connection

    def close(self) -> None:
        self._end_pending_worker()  # messages() read in two processes, reactions() never
        self._database.close()

    def __enter__(self) -> SmsDatabase:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- public streams -------------------------------------------------------------------------
    def count_messages(self) -> int:
        """How many rows messages() will yield (tapbacks excluded)."""
        return int(self._guarded(lambda: self._connection.execute(
            self.schema.message_count()).fetchone()[0]))

    def owner_handles(self) -> frozenset[str]:
        """The owner's own addresses (destination_caller_id values)."""
        if "destination_caller_id" not in self.schema.message:
            return frozenset()
        rows = self._guarded(lambda: self._connection.execute(
            "SELECT DISTINCT destination_caller_id FROM message "
            "WHERE destination_caller_id IS NOT NULL AND destination_caller_id != ''"
        ).fetchall())
        return frozenset(str(r[0]) for r in rows)

    def conversations(self) -> Iterator[Conversation]:
        """Every chat with its participants; duplicates sharing an identifier are reported."""
        members: dict[int, list[int]] = {}
        for chat_id, handle_id in self._guarded(lambda: self._connection.execute(
                "SELECT chat_id, handle_id FROM chat_handle_join ORDER BY chat_id, ROWID"
        ).fetchall()):
            members.setdefault(int(chat_id), []).append(int(handle_id))
        rows = self._guarded(lambda: self._connection.execute(
            self.schema.chat_select()).fetchall())
        identifiers = Counter(str(r[2]) for r in rows if r[2])
        for rowid, guid, identifier, service, display_name, style in rows:
            if identifier and identifiers[str(identifier)] > 1:
                self.problems.append(ReadProblem(
                    "duplicate_chat", str(guid),
                    f"{identifiers[str(identifier)]} chats share this identifier; kept apart"))
            participants = tuple(
                Participant(h, self.contacts.name_for(h))
                for h in (handle_text(self.handles, hid) for hid in members.get(int(rowid), []))
                if h is not None)
            guid = str(guid)
            yield Conversation(
                guid=guid, identifier=str(identifier or guid),
                service=classify.service_name(service), display_name=display_name or None,
                is_group=style == 43 or ";+;" in guid, participants=participants)

    def messages(self, *, parallel: bool = True) -> Iterator[Message]:
        """Every non-tapback row, by date; one Message per row however many chats hold it.

        A large database is read in two processes (reader_parallel), which yields the same
        messages in the same order with the same problems; `parallel=False` reads it here
        alone."""
        self._end_pending_worker()  # messages() again before reactions(): start afresh
        bounds = self._guarded(lambda: reader_parallel.chunk_bounds(self)) if parallel else None
        if bounds is None:
            return self.messages_in_chunk(None, 0)
        return reader_parallel.messages(self, bounds, keep=self._keep_for_reactions)

    def _keep_for_reactions(self, worker: reader_parallel.Worker) -> None:
        self._reactions_pending = worker

    def _end_pending_worker(self) -> None:
        pending, self._reactions_pending = self._reactions_pending, None
        if pending is not None:
            pending.close()

    def messages_in_chunk(self, bounds: Sequence[Any] | None, index: int) -> Iterator[Message]:
        """The messages of chunk `index` of `bounds` (reader_parallel.chunk_bounds), or of
        every date when `bounds` is None.

        Most rows are read by a narrow query and built by the converter's plain path; a row
        with anything more (an app, an edit, a reply, an event, ...) is read again in full
        by its ROWID and built by the general path, which gives the same Message for a
        plain row too (tested), only slower. Rows come in blocks whose lookups are made
        together, so damage met by a lookup fails the read up to a block (BLOCK_ROWS)
        before the messages ahead of it are yielded."""
        converter = self._converter
        plain, full_row = converter.plain_message, self._full_row
        flag = P["needs_full_row"]
        with_deleted_parts = self._deleted_parts.keys()
        dates, parameters = reader_parallel.chunk_dates(bounds, index)
        rows = self._grouped_rows(self.schema.plain_message_select(dates), P["chat_id"],
                                  self._deleted_column(P), parameters)
        # A block of rows at a time, so that the full rows and the attachments it needs are
        # looked up a few statements for the block, not one a message (ROWIDS_AT_ONCE).
        for block in _in_blocks(rows):
            full = {row[0] for row, _, _ in block if row[flag] or row[0] in with_deleted_parts}
            self._look_ahead(block, full)
            for row, chats, deleted in block:
                if row[0] in full:
                    yield converter.message(full_row(row[0]), chats, deleted)
                else:
                    yield plain(row, chats, deleted)

    def reactions(self) -> Iterator[Reaction]:
        """Every tapback row (added and removed), by date, with its target and part.

        After messages() read in two processes, the worker goes on to the tapbacks (it
        starts while this process reads its last messages), chunk by chunk the same way."""
        pending, self._reactions_pending = self._reactions_pending, None
        if pending is None:
            yield from self.reactions_in_chunk(None, 0)
        else:
            yield from reader_parallel.reactions(self, pending)

    def reactions_in_chunk(self, bounds: Sequence[Any] | None, index: int
                           ) -> Iterator[Reaction]:
        """The reactions of chunk `index` of `bounds`, or of every date when None."""
        dates, parameters = reader_parallel.chunk_dates(bounds, index)
        rows = self._grouped_rows(self.schema.reaction_select(dates), R["chat_id"],
                                  self._deleted_column(R), parameters)
        target_i = R["associated_message_guid"]
        # A block at a time, so that whether each target exists is asked a few statements
        # for the block (as messages_in_chunk does for attachments).
        for block in _in_blocks(rows):
            targets = [classify.parse_associated_guid(row[target_i]) for row, _, _ in block]
            present = {row[0] for row in self._by_rowids(
                self._guids_present_sql, list({t.guid for t in targets if t is not None}))}
            for (row, chats, deleted), target in zip(block, targets, strict=True):
                reaction = self._reaction(row, chats + deleted, target, present)
                if reaction is not None:
                    yield reaction

    # -- internals ------------------------------------------------------------------------------
    def _deleted_column(self, layout: dict[str, int]) -> int | None:
        """Where the Recently Deleted chat is in a row of `layout` (P or R), if selected."""
        return layout["deleted_chat_id"] if self.schema.has_recoverable else None

    def _grouped_rows(self, sql: str, chat_i: int, deleted_i: int | None,
                      parameters: Sequence[Any] = ()
                      ) -> Iterator[tuple[Any, list[int], list[int]]]:
        """Rows of one message arrive adjacent (one per chat): fold them into one.
        `deleted_i` is the Recently Deleted chat's column, None when not selected."""
        current: Any = None
        current_id: Any = None
        chats: list[int] = []
        deleted: list[int] = []
        try:
            # Row by row: through apsw, taking rows in batches gained nothing (10 pairs,
            # 200,000 rows: 1.00x), where sqlite3's fetchmany() had taken 0.87x the CPU.
            for row in self._database.rows.execute(sql, parameters):
                chat = row[chat_i]
                gone = None if deleted_i is None else row[deleted_i]
                if row[0] == current_id:  # the same message in another chat
                    if chat is not None and chat not in chats:
                        chats.append(chat)
                    if gone is not None and gone not in deleted:
                        deleted.append(gone)
                    continue
                if current is not None:
                    yield current, chats, deleted
                current, current_id = row, row[0]
                chats = [] if chat is None else [chat]
                deleted = [] if gone is None else [gone]
        except _BULK_ERRORS as exc:
            raise _corrupt(self._name, exc) from exc
        if current is not None:
            yield current, chats, deleted

    def _reaction(self, row: Any, chat_ids: list[int], target: classify.AssociatedTarget | None,
                  present: set[str]) -> Reaction | None:
        """The Reaction of a tapback row whose target (parsed) is `target`; `present`
        holds the targets that are in sms.db."""
        guid = str(row[R["guid"]])
        code = classify.tapback_code(row[R["associated_message_type"]])
        if code is None or target is None:
            self.problems.append(ReadProblem("dangling_tapback", guid, "tapback has no target"))
            return None
        if target.guid not in present:
            self.problems.append(ReadProblem(
                "dangling_tapback", guid, f"targets {target.guid}, which is not in sms.db"))
        from_me = bool(row[R["is_from_me"]])
        emoji = row[R["associated_message_emoji"]] or classify.TAPBACK_EMOJI.get(code.kind)
        attachments = tuple(self._attachments_of(int(row[R["ROWID"]])))
        return new_reaction(
            guid, target.guid, target.part, code.kind, code.added, from_me,
            None if from_me else handle_text(self.handles, row[R["handle_id"]]),
            apple_time(row[R["date"]]) or apple_time(1), emoji, attachments,
            tuple(self._chat_guids[c] for c in chat_ids if c in self._chat_guids))

    def _look_ahead(self, block: list[tuple[Any, list[int], list[int]]],
                    full: set[int]) -> None:
        """Look up the full rows (`full`: ROWIDs) and the attachments a block of plain rows
        will need, so that _full_row and _attachments_of find them without a statement."""
        self._full_rows_ahead = {row[0]: row for row in self._by_rowids(self._full_rows_sql,
                                                                       list(full))}
        has_attachments, with_attachments = P["cache_has_attachments"], self._with_attachments
        wanted = [row[0] for row, _, _ in block
                  if (row[has_attachments] is None or row[has_attachments])
                  and row[0] in with_attachments]
        ahead: dict[int, list[Attachment]] = {rowid: [] for rowid in wanted}
        for row in self._by_rowids(self._attachments_of_many_sql, wanted):
            ahead[row[0]].append(_attachment(row[1:]))
        self._attachments_ahead = ahead

    def _by_rowids(self, sql: str, keys: Sequence[int | str]) -> Iterator[Any]:
        """The rows of `sql`, a statement of ROWIDS_AT_ONCE places, for all of `keys`
        (ROWIDs, or GUIDs for _guids_present_sql), through the bulk connection."""
        for start in range(0, len(keys), ROWIDS_AT_ONCE):
            chunk: list[int | str | None] = [*keys[start : start + ROWIDS_AT_ONCE]]
            chunk += [None] * (ROWIDS_AT_ONCE - len(chunk))
            try:
                found = self._database.rows.execute(sql, chunk).fetchall()
            except _BULK_ERRORS as exc:
                raise _corrupt(self._name, exc) from exc
            yield from found

    def _full_row(self, rowid: int) -> Any:
        """The message_select columns of one message (its chat columns NULL)."""
        ahead = self._full_rows_ahead.get(rowid)
        if ahead is not None:
            return ahead
        try:
            row = self._connection.execute(self._full_row_sql, (rowid,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise _corrupt(self._name, exc) from exc
        if row is None:  # the date index lists a row the table lacks
            raise _corrupt(self._name, sqlite3.DatabaseError(f"message {rowid} is missing"))
        return row

    def _payload_of(self, guid: str) -> bytes | None:
        """The payload_data of the message `guid` (a poll a vote names), if any."""
        if "payload_data" not in self.schema.message:
            return None
        row = self._guarded(lambda: self._connection.execute(
            "SELECT payload_data FROM message WHERE guid = ? LIMIT 1", (guid,)).fetchone())
        return bytes(row[0]) if row is not None and row[0] else None

    def _recoverable_parts(self) -> dict[int, list[tuple[Any, ...]]]:
        """recoverable_message_part rows by message ROWID, in part order."""
        sql = self.schema.recoverable_part_select()
        found: dict[int, list[tuple[Any, ...]]] = {}
        if sql is None:
            return found
        for message_id, *rest in self._connection.execute(sql):
            if isinstance(message_id, int):
                found.setdefault(message_id, []).append(tuple(rest))
        return found

    def _attachment_message_ids(self) -> frozenset[int]:
        if "message_attachment_join" not in self.schema.tables:
            return frozenset()
        return frozenset(int(r[0]) for r in self._connection.execute(
            "SELECT DISTINCT message_id FROM message_attachment_join"))

    def _attachments_of(self, message_rowid: int) -> list[Attachment]:
        if message_rowid not in self._with_attachments:
            return []
        ahead = self._attachments_ahead.get(message_rowid)
        if ahead is not None:
            return ahead
        rows = self._connection.execute(self._attachment_sql, (message_rowid,)).fetchall()
        return [_attachment(row) for row in rows]

    def _guarded(self, action: Any) -> Any:
        try:
            return action()
        except sqlite3.DatabaseError as exc:
            raise _corrupt(self._name, exc) from exc


def _in_blocks(rows: Iterator[Any]) -> Iterator[list[Any]]:
    """`rows` BLOCK_ROWS at a time (read at each call, so tests can change it)."""
    return iter(lambda: list(islice(rows, BLOCK_ROWS)), [])


def _attachment(row: Any) -> Attachment:
    total = row[_A["total_bytes"]]
    return new_attachment(
        str(row[_A["guid"]]), row[_A["filename"]] or None, row[_A["transfer_name"]] or None,
        row[_A["mime_type"]] or None, row[_A["uti"]] or None,
        int(total) if total is not None else None, bool(row[_A["is_sticker"]]),
        bool(row[_A["hide_attachment"]]), apple_time(row[_A["created_date"]]),
        sticker_source_from_plist(row[_A["sticker_user_info"]]),
        row[_A["emoji_image_short_description"]] or None)


def _corrupt(name: str, exc: BaseException) -> MessagesDatabaseCorruptError:
    return MessagesDatabaseCorruptError(
        f"{name} cannot be read ({exc}); it is corrupt or truncated: make a fresh backup "
        "and try again.")
