"""Ingest: upsert one backup's conversations, messages and reactions, keyed by GUID.

Runs in one transaction (a crash leaves the store as it was) and streams in batches
(memory stays flat). Each message is stored as its model JSON (with the source's ROWID
zeroed: it differs between backups and is kept in its own column) plus a 16-byte
BLAKE2b of that JSON, so an unchanged message costs one hash comparison.

Versions: the copy from the newest backup is current; an older backup never overwrites
it, and any text one version has that the other lacks is kept as a revision.
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import NamedTuple, TypeVar

from coldtexts.messages.models import (
    Attachment,
    Conversation,
    Message,
    Reaction,
    decode_message,
    encode,
)

from .conversations import ConversationIndex, conversation_title
from .presence import mark_source_complete, refresh_presence
from .revisions import RevisionRow, revisions_between
from .store import to_us, transaction
from .types import ConversationIngest, IngestStats

BATCH = 2000
T = TypeVar("T")


def _batches(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def content_hash(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


_ROWID = b',"rowid":'


def without_rowid(data: bytes) -> bytes:
    """The message JSON with its ROWID set to 0 (ROWIDs differ between backups).

    Byte surgery rather than dataclasses.replace (ten times slower): the first
    `,"rowid":` is the field, since a quote inside a JSON string is always escaped."""
    start = data.index(_ROWID) + len(_ROWID)
    stop = data.index(b",", start)
    return data[:start] + b"0" + data[stop:]


def mentioned_handles(message: Message) -> str:
    """Every handle whose name the rendered message shows (sender, event people, mentions)."""
    handles: set[str] = set()
    if message.sender:
        handles.add(message.sender)
    if message.event is not None:
        handles.update(h for h in (message.event.actor, message.event.target) if h)
    for part in message.parts:
        handles.update(run.mention for run in part.runs if run.mention)
    return "\n".join(sorted(handles))


class _Existing(NamedTuple):
    id: int
    hash: bytes
    version_date: int


class Ingester:
    def __init__(self, conn: sqlite3.Connection, source_id: int) -> None:
        self._conn = conn
        self._source_id = source_id
        udid, date = conn.execute(
            "SELECT udid, backup_date FROM sources WHERE id = ?", (source_id,)
        ).fetchone()
        self._udid: str = udid
        self._date: int = date
        self.stats = IngestStats()
        self._names: dict[str, str] = {}
        self._titles: dict[int, str] = {}
        self._sightings_changed = False
        # conversation id -> [new, changed, newly no longer on device]
        self._per_conversation: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0, 0])

    def run(self, conversations: Iterable[Conversation], messages: Iterable[Message],
            reactions: Iterable[Reaction], *, complete: bool) -> IngestStats:
        with transaction(self._conn):
            index = ConversationIndex(self._conn, self._date)
            for conv in conversations:
                if index.upsert(conv).created:
                    self.stats.conversations_new += 1
            self._names = {
                h: n for h, n in self._conn.execute("SELECT handle, name FROM handles") if n
            }
            for batch in _batches(messages):
                self._message_batch(index, batch)
            for reaction_batch in _batches(reactions):
                self._reaction_batch(index, reaction_batch)
            self._attach_dangling_reactions()
            self._refresh_presence(complete)
            self._conversation_stats()
        return self.stats

    # -- messages ---------------------------------------------------------------------------
    def _message_batch(self, index: ConversationIndex, batch: list[Message]) -> None:
        existing = self._existing_messages([m.guid for m in batch])
        next_id = int(self._conn.execute("SELECT coalesce(max(id), 0) + 1 FROM messages")
                      .fetchone()[0])
        inserts: list[tuple[object, ...]] = []
        seen: list[tuple[int, str, int]] = []
        fresh: set[str] = set()
        for message in batch:
            if message.guid in fresh:
                continue  # the reader yielded one GUID twice: the first copy stands
            data = without_rowid(encode(message))
            digest = content_hash(data)
            old = existing.get(message.guid)
            if old is None:
                match = index.resolve(message.chat_guids)
                conversation_id = match.conversation_id
                self.stats.conversations_new += match.created
                inserts.append(self._row(next_id, conversation_id, message, data, digest))
                self._index_text(next_id, conversation_id, message)
                fresh.add(message.guid)
                seen.append((next_id, self._udid, self._date))
                next_id += 1
                self.stats.messages_new += 1
                self._per_conversation[conversation_id][0] += 1
                continue
            seen.append((old.id, self._udid, self._date))
            if old.hash == digest:
                self.stats.messages_unchanged += 1
            else:
                self._new_version(old, message, data, digest)
        self._conn.executemany(
            "INSERT INTO messages (id, guid, conversation_id, date, sender, handles, "
            "reply_guid, json, hash, version_date, first_source, source_rowid) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            inserts,
        )
        before = self._conn.total_changes
        self._conn.executemany(
            "INSERT INTO sightings (message_id, udid, last_date) VALUES (?, ?, ?) "
            "ON CONFLICT (message_id, udid) DO UPDATE SET last_date = excluded.last_date "
            "WHERE excluded.last_date > sightings.last_date",
            seen,
        )
        self._sightings_changed |= self._conn.total_changes != before
        self._add_attachments(
            [(m.guid, a) for m in batch for a in m.attachments]
        )

    def _row(self, new_id: int, conversation_id: int, message: Message, data: bytes,
             digest: bytes) -> tuple[object, ...]:
        reply = message.reply_to.guid if message.reply_to else None
        return (new_id, message.guid, conversation_id, to_us(message.date), message.sender,
                mentioned_handles(message), reply, data.decode("utf-8"), digest, self._date,
                self._source_id, message.rowid)

    def _existing_messages(self, guids: list[str]) -> dict[str, _Existing]:
        marks = ",".join("?" * len(guids))
        rows = self._conn.execute(
            "SELECT guid, id, hash, version_date FROM messages "
            f"WHERE guid IN ({marks})",
            guids,
        )
        return {row[0]: _Existing(*row[1:]) for row in rows}

    def _new_version(self, old: _Existing, message: Message, data: bytes,
                     digest: bytes) -> None:
        stored = decode_message(self._conn.execute(
            "SELECT json FROM messages WHERE id = ?", (old.id,)).fetchone()[0])
        if self._date >= old.version_date:
            revisions = revisions_between(stored, message)
            self._conn.execute(
                "UPDATE messages SET date = ?, sender = ?, handles = ?, reply_guid = ?, "
                "json = ?, hash = ?, version_date = ?, source_rowid = ? WHERE id = ?",
                (to_us(message.date), message.sender, mentioned_handles(message),
                 message.reply_to.guid if message.reply_to else None, data.decode("utf-8"),
                 digest, self._date, message.rowid, old.id),
            )
            self._conn.execute("DELETE FROM message_fts WHERE rowid = ?", (old.id,))
            conversation_id = self._conn.execute(
                "SELECT conversation_id FROM messages WHERE id = ?", (old.id,)
            ).fetchone()[0]
            self._index_text(old.id, conversation_id, message)
            self.stats.messages_changed += 1
            self._per_conversation[conversation_id][1] += 1
        else:
            revisions = revisions_between(message, stored)
            self.stats.messages_older_version += 1
        self._add_revisions(message.guid, revisions)

    def _add_revisions(self, guid: str, revisions: list[RevisionRow]) -> None:
        before = self._conn.total_changes
        self._conn.executemany(
            "INSERT OR IGNORE INTO revisions (message_guid, part, date, text, origin, "
            "source_id) VALUES (?, ?, ?, ?, ?, ?)",
            [(guid, r.part, r.date, r.text, r.origin, self._source_id) for r in revisions],
        )
        self.stats.revisions_added += self._conn.total_changes - before

    def _index_text(self, row_id: int, conversation_id: int, message: Message) -> None:
        title = self._titles.get(conversation_id)
        if title is None:
            title = self._titles[conversation_id] = conversation_title(
                self._conn, conversation_id
            )
        sender = "Me" if message.is_from_me else self._names.get(
            message.sender or "", message.sender or ""
        )
        self._conn.execute(
            "INSERT INTO message_fts (rowid, text, sender_name, conversation) VALUES (?, ?, ?, ?)",
            (row_id, message.text, sender, title),
        )

    # -- attachments ------------------------------------------------------------------------
    def _add_attachments(self, owned: list[tuple[str, Attachment]]) -> None:
        if not owned:
            return
        rows = [(a.guid, owner, a.filename, a.display_name, a.mime_type) for owner, a in owned]
        before = self._conn.total_changes
        self._conn.executemany(
            "INSERT OR IGNORE INTO attachments (guid, owner_guid, device_path, name, mime) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        self.stats.attachments_new += self._conn.total_changes - before
        # A later backup may know the device path an earlier one lacked: fill it in.
        self._conn.executemany(
            "UPDATE attachments SET device_path = ? WHERE guid = ? AND device_path IS NULL "
            "AND ? IS NOT NULL",
            [(row[2], row[0], row[2]) for row in rows if row[2]],
        )

    # -- reactions --------------------------------------------------------------------------
    def _reaction_batch(self, index: ConversationIndex, batch: list[Reaction]) -> None:
        marks = ",".join("?" * len(batch))
        existing = {
            guid: (digest, version)
            for guid, digest, version in self._conn.execute(
                f"SELECT guid, hash, version_date FROM reactions WHERE guid IN ({marks})",
                [r.guid for r in batch],
            )
        }
        rows: list[tuple[object, ...]] = []
        for reaction in batch:
            data = encode(reaction)
            digest = content_hash(data)
            old = existing.get(reaction.guid)
            if old is not None and (old[0] == digest or self._date < old[1]):
                continue
            if old is None:
                self.stats.reactions_new += 1
            else:
                self.stats.reactions_changed += 1
            conversation_id = index.lookup(reaction.chat_guids) or self._target_conversation(
                reaction.target_guid
            )
            rows.append((reaction.guid, reaction.target_guid, conversation_id,
                         to_us(reaction.date), reaction.sender, data.decode("utf-8"), digest,
                         self._date))
        self._conn.executemany(
            "INSERT OR REPLACE INTO reactions (guid, target_guid, conversation_id, date, "
            "sender, json, hash, version_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self._add_attachments([(r.guid, a) for r in batch for a in r.attachments])

    def _attach_dangling_reactions(self) -> None:
        # A tapback stored before its message arrived (from an older backup) joins the
        # message's conversation now.
        self._conn.execute(
            "UPDATE reactions SET conversation_id = (SELECT conversation_id FROM messages "
            "WHERE messages.guid = reactions.target_guid) WHERE conversation_id IS NULL"
        )

    def _target_conversation(self, target_guid: str) -> int | None:
        row = self._conn.execute(
            "SELECT conversation_id FROM messages WHERE guid = ?", (target_guid,)
        ).fetchone()
        return int(row[0]) if row else None

    # -- messages the device no longer has --------------------------------------------------
    def _refresh_presence(self, complete: bool) -> None:
        newly_complete = False
        if complete:
            before = self._conn.total_changes
            mark_source_complete(self._conn, self._source_id)
            newly_complete = self._conn.total_changes != before
        if not (newly_complete or self._sightings_changed):
            return  # the same backup again: nothing can have changed
        changes = refresh_presence(self._conn, self._udid)
        self.stats.marked_no_longer_on_device += sum(changes.flagged_by_conversation.values())
        self.stats.back_on_device += changes.cleared
        for conversation_id, count in changes.flagged_by_conversation.items():
            self._per_conversation[conversation_id][2] += count

    def _conversation_stats(self) -> None:
        slugs = dict(self._conn.execute("SELECT id, slug FROM conversations").fetchall())
        for conversation_id, (new, changed, gone) in sorted(self._per_conversation.items()):
            if new or changed or gone:
                self.stats.by_conversation[slugs[conversation_id]] = ConversationIngest(
                    new, changed, gone)
