"""The store's schema as named migrations, applied in order and recorded in `_migrations`.

A migration is never edited once released: a change to the schema is a new migration.
Each runs in its own transaction, so a crash mid-migration leaves the store at the
previous version. A store that records a migration this code does not know was written
by a newer coldtexts and is refused (ArchiveTooNewError) rather than guessed at.

Conventions: dates are integers, microseconds since 1970-01-01 UTC; paths are
archive-relative POSIX strings; message and reaction bodies are the model's JSON.

Tables (what `sqlite3 coldtexts.db` shows a reader decades from now):
  sources        every ingested backup: device UDID, name, iOS version, backup date,
                 whether it was read completely (m003)
  conversations  one per archived conversation; `slug` is its folder, assigned once
  chat_guids     every chat GUID (SMS/iMessage threads, other phones) -> conversation
  handles        phone numbers / emails and the contact name last seen for them
  participants   conversation members (union over all backups)
  messages       one row per message GUID: the current version's JSON (coldtexts
                 messages model, ROWID zeroed), its BLAKE2b-128 `hash`, the backup date
                 of that version, `gone_as_of` = date of the first backup of the same
                 phone that no longer had it
  sightings      per message and phone: the newest backup date that still had it
  revisions      former texts: "edited", "unsent", "changed between backups"
  reactions      tapbacks by their own GUID (JSON); net state is computed when shown
  attachments    per attachment GUID: device path, the stored file's SHA-256 or why not
  blobs          SHA-256 -> attachments/ab/<sha256>.<ext>, each content stored once
  files          every file the archive wrote or hashed: SHA-256, size, mtime (manifest)
  renders        per output: exporter fingerprint, options and content digests, SHA-256
  runs           one row per run: start, end, outcome, the JSON report
  message_fts    FTS5 index of text, sender name and conversation (m002)
  _migrations    the migrations applied, by name
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from coldtexts.errors import ArchiveTooNewError

M001_INITIAL = """
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    udid TEXT NOT NULL,
    device_name TEXT,
    product_type TEXT,
    ios_version TEXT,
    backup_date INTEGER NOT NULL,
    backup_path TEXT,
    ingested_at INTEGER NOT NULL
);
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    identifier TEXT NOT NULL,
    service TEXT NOT NULL,
    display_name TEXT,
    is_group INTEGER NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    version_date INTEGER NOT NULL
);
CREATE INDEX conversations_identifier ON conversations(identifier);
CREATE TABLE chat_guids (
    guid TEXT PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id)
);
CREATE TABLE handles (
    handle TEXT PRIMARY KEY,
    name TEXT,
    version_date INTEGER NOT NULL
);
CREATE TABLE participants (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    handle TEXT NOT NULL,
    PRIMARY KEY (conversation_id, handle)
) WITHOUT ROWID;
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    date INTEGER NOT NULL,
    sender TEXT,
    handles TEXT NOT NULL DEFAULT '',
    reply_guid TEXT,
    json TEXT NOT NULL,
    hash BLOB NOT NULL,
    version_date INTEGER NOT NULL,
    first_source INTEGER NOT NULL REFERENCES sources(id),
    source_rowid INTEGER,
    gone_as_of INTEGER,
    gone_source INTEGER REFERENCES sources(id)
);
CREATE INDEX messages_conversation_date ON messages(conversation_id, date, guid);
CREATE TABLE sightings (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    udid TEXT NOT NULL,
    last_date INTEGER NOT NULL,
    PRIMARY KEY (message_id, udid)
) WITHOUT ROWID;
CREATE INDEX sightings_udid ON sightings(udid, last_date);
CREATE TABLE revisions (
    id INTEGER PRIMARY KEY,
    message_guid TEXT NOT NULL,
    part INTEGER,
    date INTEGER,
    text TEXT NOT NULL,
    origin TEXT NOT NULL,
    source_id INTEGER REFERENCES sources(id),
    UNIQUE (message_guid, origin, text)
);
CREATE TABLE reactions (
    guid TEXT PRIMARY KEY,
    target_guid TEXT NOT NULL,
    conversation_id INTEGER,
    date INTEGER NOT NULL,
    sender TEXT,
    json TEXT NOT NULL,
    hash BLOB NOT NULL,
    version_date INTEGER NOT NULL
);
CREATE INDEX reactions_conversation ON reactions(conversation_id);
CREATE INDEX reactions_target ON reactions(target_guid);
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL
);
CREATE TABLE attachments (
    guid TEXT PRIMARY KEY,
    owner_guid TEXT NOT NULL,
    device_path TEXT,
    name TEXT,
    mime TEXT,
    sha256 TEXT,
    missing_reason TEXT
);
CREATE INDEX attachments_owner ON attachments(owner_guid);
CREATE TABLE files (
    path TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL
);
CREATE TABLE renders (
    path TEXT PRIMARY KEY,
    conversation_id INTEGER,
    volume_key TEXT,
    exporter TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    options_digest TEXT NOT NULL,
    content_digest TEXT NOT NULL,
    sha256 TEXT,
    error TEXT,
    rendered_at INTEGER NOT NULL
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    outcome TEXT,
    report TEXT
);
"""

# Full-text search over message text, the sender's name and the conversation's title.
# rowid = messages.id; ingest keeps it in step with the current version of each message.
M002_MESSAGE_FTS = """
CREATE VIRTUAL TABLE message_fts USING fts5(text, sender_name, conversation);
INSERT INTO message_fts (rowid, text, sender_name, conversation)
SELECT m.id,
       coalesce(json_extract(m.json, '$.text'), ''),
       CASE WHEN m.sender IS NULL THEN 'Me' ELSE coalesce(h.name, m.sender) END,
       coalesce(c.display_name, c.identifier)
FROM messages m
JOIN conversations c ON c.id = m.conversation_id
LEFT JOIN handles h ON h.handle = m.sender;
"""


# Whether a source was a complete read of its backup: only a complete backup can say a
# message is no longer on the phone. Sources from before m003 are taken as incomplete.
M003_SOURCE_COMPLETE = """
ALTER TABLE sources ADD COLUMN complete INTEGER NOT NULL DEFAULT 0;
"""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration("m001_initial", M001_INITIAL),
    Migration("m002_message_fts", M002_MESSAGE_FTS),
    Migration("m003_source_complete", M003_SOURCE_COMPLETE),
)

SCHEMA_VERSION = len(MIGRATIONS)


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations "
        "(name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)"
    )
    return [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> list[str]:
    """Apply every migration not yet recorded; return the names applied now."""
    done = applied_migrations(conn)
    known = {m.name for m in migrations}
    unknown = [name for name in done if name not in known]
    if unknown:
        raise ArchiveTooNewError(
            f"This archive's store was written by a newer coldtexts (it has migration "
            f"{unknown[0]}); upgrade coldtexts to use it."
        )
    applied: list[str] = []
    for migration in migrations:
        if migration.name in done:
            continue
        _apply_one(conn, migration)
        applied.append(migration.name)
    return applied


def _apply_one(conn: sqlite3.Connection, migration: Migration) -> None:
    # executescript() commits first, so run the statements one by one inside our own
    # transaction: all of a migration lands, or none of it.
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _statements(migration.sql):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
            (migration.name, int(time.time() * 1_000_000)),
        )
        conn.execute(f"PRAGMA user_version = {len(applied_migrations(conn))}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(sql: str) -> list[str]:
    statements: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements
