"""Conversations in the store: matched by chat GUID, else by chat identifier.

One archived conversation may be known under several chat GUIDs (the SMS and iMessage
threads with one person, or the same chat on two phones); `chat_guids` maps each of them
to the conversation. Names and participants from a newer backup win; nothing is removed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from coldtexts.messages.models import Conversation

from .slugs import unique_slug

ORPHAN_GUID = "coldtexts;orphans"  # messages that belong to no chat in their backup


@dataclass(frozen=True, slots=True)
class ConversationMatch:
    conversation_id: int
    created: bool


def conversation_title(conn: sqlite3.Connection, conversation_id: int) -> str:
    """Group name, else participants' names (or handles), else the chat identifier."""
    row = conn.execute(
        "SELECT display_name, identifier FROM conversations WHERE id = ?", (conversation_id,)
    ).fetchone()
    if row[0]:
        return str(row[0])
    names = [
        str(name or handle)
        for handle, name in conn.execute(
            "SELECT p.handle, h.name FROM participants p LEFT JOIN handles h "
            "ON h.handle = p.handle WHERE p.conversation_id = ? ORDER BY p.handle",
            (conversation_id,),
        )
    ]
    return ", ".join(names) if names else str(row[1])


class ConversationIndex:
    """Resolves chat GUIDs to archived conversations within one ingest transaction."""

    def __init__(self, conn: sqlite3.Connection, backup_date: int) -> None:
        self._conn = conn
        self._date = backup_date
        self._by_guid: dict[str, int] = dict(
            conn.execute("SELECT guid, conversation_id FROM chat_guids").fetchall()
        )

    def lookup(self, chat_guids: tuple[str, ...]) -> int | None:
        for guid in chat_guids:
            found = self._by_guid.get(guid)
            if found is not None:
                return found
        return None

    def resolve(self, chat_guids: tuple[str, ...]) -> ConversationMatch:
        """The conversation for a message's chats, creating a bare one when the backup
        listed no such chat (or an "orphans" conversation for chat-less messages)."""
        found = self.lookup(chat_guids)
        if found is not None:
            return ConversationMatch(found, False)
        if chat_guids:
            guid = chat_guids[0]
            identifier = guid.rsplit(";", 1)[-1]
            service = guid.split(";", 1)[0] if ";" in guid else "Unknown"
            bare = Conversation(guid, identifier, service, None, guid.count(";+;") > 0)
            return self.upsert(bare)
        bare = Conversation(ORPHAN_GUID, "Messages in no conversation", "Unknown",
                            "Messages in no conversation", False)
        return self.upsert(bare)

    def upsert(self, conv: Conversation) -> ConversationMatch:
        existing = self._by_guid.get(conv.guid)
        if existing is None:
            row = self._conn.execute(
                "SELECT id FROM conversations WHERE identifier = ? ORDER BY id LIMIT 1",
                (conv.identifier,),
            ).fetchone()
            existing = row[0] if row else None
        created = existing is None
        conversation_id = self._insert(conv) if existing is None else existing
        if not created:
            self._update(conversation_id, conv)
        if conv.guid not in self._by_guid:
            self._conn.execute(
                "INSERT INTO chat_guids (guid, conversation_id) VALUES (?, ?)",
                (conv.guid, conversation_id),
            )
            self._by_guid[conv.guid] = conversation_id
        self._add_participants(conversation_id, conv)
        return ConversationMatch(conversation_id, created)

    def _insert(self, conv: Conversation) -> int:
        taken = {row[0].lower() for row in self._conn.execute("SELECT slug FROM conversations")}
        names = [p.name or p.handle for p in conv.participants]
        title = conv.display_name or ", ".join(names) or conv.identifier
        cursor = self._conn.execute(
            "INSERT INTO conversations (guid, identifier, service, display_name, is_group, "
            "slug, version_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (conv.guid, conv.identifier, conv.service, conv.display_name, conv.is_group,
             unique_slug(title, taken), self._date),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _update(self, conversation_id: int, conv: Conversation) -> None:
        # Only a backup at least as new as the one the metadata came from may change it,
        # and a real name is never replaced by "no name" from an older or partial read.
        self._conn.execute(
            "UPDATE conversations SET display_name = coalesce(?, display_name), "
            "version_date = ? WHERE id = ? AND version_date <= ? "
            "AND (display_name IS NOT ? OR version_date < ?)",
            (conv.display_name, self._date, conversation_id, self._date, conv.display_name,
             self._date),
        )

    def _add_participants(self, conversation_id: int, conv: Conversation) -> None:
        self._conn.executemany(
            "INSERT OR IGNORE INTO participants (conversation_id, handle) VALUES (?, ?)",
            [(conversation_id, p.handle) for p in conv.participants],
        )
        self._conn.executemany(
            "INSERT INTO handles (handle, name, version_date) VALUES (?, ?, ?) "
            "ON CONFLICT (handle) DO UPDATE SET name = excluded.name, "
            "version_date = excluded.version_date "
            "WHERE excluded.name IS NOT NULL AND excluded.name IS NOT handles.name "
            "AND (handles.name IS NULL OR excluded.version_date >= handles.version_date)",
            [(p.handle, p.name, self._date) for p in conv.participants],
        )
