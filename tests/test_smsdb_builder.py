"""The sms.db builder: schema generations, determinism, refusals, and the showcase."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from coldtexts.fixtures.addressbook_builder import write_address_book
from coldtexts.fixtures.smsdb_builder import SmsDbBuilder, build_showcase
from coldtexts.fixtures.smsdb_builder_showcase import SHOWCASE_CONTACTS, SHOWCASE_OWNER
from coldtexts.messages.contacts import ContactBook
from coldtexts.messages.models import EventKind, MessageKind, ReactionKind
from coldtexts.messages.reader import SmsDatabase

T0 = datetime(2024, 3, 9, 18, 30, tzinfo=UTC)
_PATH = re.compile(r"^~/Library/SMS/Attachments/[0-9a-f]{2}/\d{2}/[0-9A-F-]{36}/[^/]+\.\w+$")


def _columns(path: Path, table: str) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
    finally:
        connection.close()


def _tables(path: Path) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        return {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    finally:
        connection.close()


@pytest.mark.parametrize(("schema", "present", "absent"), [
    ("ios12", {"associated_message_type", "balloon_bundle_id"},
     {"thread_originator_guid", "date_edited", "associated_message_emoji"}),
    ("ios16", {"thread_originator_guid", "date_edited", "date_retracted"},
     {"associated_message_emoji", "date_recovered"}),
    ("ios18", {"associated_message_emoji", "is_stewie", "date_recovered", "thread_originator_guid"},
     set()),
])
def test_schema_generations_differ(schema: str, present: set[str], absent: set[str],
                                   tmp_path: Path) -> None:
    path = SmsDbBuilder(schema=schema).write(tmp_path / "sms.db")
    columns = _columns(path, "message")
    assert present <= columns and not absent & columns
    assert ("chat_recoverable_message_join" in _tables(path)) == (schema != "ios12")
    assert ("emoji_image_short_description" in _columns(path, "attachment")) == (
        schema == "ios18")


def test_unknown_schema_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown sms\.db schema"):
        SmsDbBuilder(schema="ios9")


def test_features_the_schema_lacks_are_refused() -> None:
    b = SmsDbBuilder(schema="ios12")
    mom = b.handle("+15555550101")
    chat = b.chat([mom])
    with pytest.raises(ValueError, match="thread_originator_guid"):
        b.message(chat, sender=mom, date=T0, text="x", reply_to=("A" * 36, 0))
    with pytest.raises(ValueError, match="Recently Deleted"):
        b.message(chat, sender=mom, date=T0, text="x", recoverable=True)


@pytest.mark.parametrize("schema", ["ios12", "ios16", "ios18"])
def test_showcase_is_deterministic(schema: str, tmp_path: Path) -> None:
    first = build_showcase(tmp_path / "a.db", schema)
    second = build_showcase(tmp_path / "b.db", schema)
    assert first == second
    assert (tmp_path / "a.db").read_bytes() == (tmp_path / "b.db").read_bytes()
    assert first and all(_PATH.match(p) for p in first), first


@pytest.mark.parametrize("schema", ["ios12", "ios16", "ios18"])
def test_showcase_reads_cleanly_with_every_kind(schema: str, tmp_path: Path) -> None:
    path = tmp_path / "sms.db"
    paths = build_showcase(path, schema)
    book_path = tmp_path / "AddressBook.sqlitedb"
    write_address_book(book_path, SHOWCASE_CONTACTS)
    with SmsDatabase.open(path, ContactBook.open(book_path)) as db:
        conversations = list(db.conversations())
        messages = list(db.messages())
        reactions = list(db.reactions())
        problems = [(p.kind, p.detail) for p in db.problems]
        assert db.owner_handles() == frozenset({SHOWCASE_OWNER})
    assert problems == [("orphan", "message is in no chat")]
    names = {p.name for c in conversations for p in c.participants}
    assert names == {"Mom", "Alex Rivera", "Dad"}
    assert any(c.is_group and c.display_name == "Family" for c in conversations)
    kinds = {m.kind for m in messages}
    assert kinds == {MessageKind.MESSAGE, MessageKind.APP, MessageKind.EVENT}
    events = {m.event.kind for m in messages if m.event}
    assert {EventKind.RENAMED, EventKind.MEMBER_ADDED, EventKind.LOCATION_STARTED,
            EventKind.AUDIO_KEPT, EventKind.PHOTO_CHANGED, EventKind.MEMBER_LEFT} <= events
    assert {r.kind for r in reactions} >= {ReactionKind.LOVE, ReactionKind.LAUGH}
    assert any(m.link_preview for m in messages) and any(m.failed for m in messages)
    assert any(m.effect == "Slam" for m in messages)
    assert any(a.is_sticker for m in messages for a in m.attachments)
    assert any(m.is_audio_message and m.audio_expired for m in messages)
    in_messages = {a.filename for m in messages for a in m.attachments if a.filename}
    in_reactions = {a.filename for r in reactions for a in r.attachments if a.filename}
    assert in_messages | in_reactions == set(paths)
    if schema != "ios12":
        assert any(m.edits for m in messages) and any(m.deleted_on_device for m in messages)
        assert any(m.reply_to for m in messages if m.kind is MessageKind.MESSAGE)
    if schema == "ios18":
        assert {"RCS", "Satellite", "MMS", "SMS", "iMessage"} <= {m.service for m in messages}
        assert {ReactionKind.EMOJI, ReactionKind.STICKER} <= {r.kind for r in reactions}
