"""Parts deleted from a message on the phone (iOS 16+ recoverable_message_part) are read
and attached to their message, which stays in its chat."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from msgspec import UNSET

from coldtexts.fixtures.smsdb_builder import DeletedPartSpec, SmsDbBuilder
from coldtexts.messages.models import (
    DeletedPart,
    Message,
    Part,
    PartKind,
    ReadProblem,
    TextRun,
    decode_message,
    encode,
)
from coldtexts.messages.reader import SmsDatabase

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
MOM, ALEX = "+15555550101", "+15555550102"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def read(path: Path) -> tuple[dict[str, Message], list[ReadProblem]]:
    with SmsDatabase.open(path) as db:
        messages = {m.guid: m for m in db.messages()}
        return messages, list(db.problems)


@pytest.mark.parametrize("schema", ["ios16", "ios18"])
def test_deleted_part_is_attached_to_its_message(schema: str, tmp_path: Path) -> None:
    b = SmsDbBuilder(schema=schema)
    mom, alex = b.handle(MOM), b.handle(ALEX)
    chat, group = b.chat([mom]), b.chat([mom, alex], display_name="Family")
    kept = b.message(chat, sender=mom, date=at(0), text="Photos from the trip",
                     deleted_parts=[DeletedPartSpec(1, "Call me later \U0001f4de", at(30))])
    in_group = b.message(group, from_me=True, date=at(1), text="Dinner at 7",
                         deleted_parts=[DeletedPartSpec(2, "second", at(40)),
                                        DeletedPartSpec(1, "first", at(41))])
    plain = b.message(chat, sender=mom, date=at(2), text="Nothing deleted here")
    messages, problems = read(b.write(tmp_path / "sms.db"))

    message = messages[kept]
    assert message.text == "Photos from the trip" and not message.deleted_on_device
    assert message.chat_guids == (b.chat_guid(chat),)
    assert message.deleted_parts == (DeletedPart(
        1, b.chat_guid(chat), at(30), "Call me later \U0001f4de",
        (Part(1, PartKind.TEXT, (TextRun("Call me later \U0001f4de"),)),)),)
    assert [(p.index, p.text, p.deleted, p.chat_guid) for p in
            messages[in_group].deleted_parts or ()] == [
        (1, "first", at(41), b.chat_guid(group)), (2, "second", at(40), b.chat_guid(group))]
    assert messages[plain].deleted_parts is UNSET
    assert problems == []


def test_messages_without_deleted_parts_encode_as_before(tmp_path: Path) -> None:
    b = SmsDbBuilder(schema="ios18")
    chat = b.chat([b.handle(MOM)])
    plain = b.message(chat, from_me=True, date=at(0), text="hi")
    kept = b.message(chat, from_me=True, date=at(1), text="photo",
                     deleted_parts=[DeletedPartSpec(0, "caption", at(2))])
    messages, _ = read(b.write(tmp_path / "sms.db"))
    # No key at all: archive content hashes and JSONL of such messages are unchanged.
    assert b"deleted_parts" not in encode(messages[plain])
    assert decode_message(encode(messages[plain])) == messages[plain]
    assert b'"deleted_parts":[{"index":0' in encode(messages[kept])
    assert decode_message(encode(messages[kept])) == messages[kept]


def test_undecodable_and_text_part_text(tmp_path: Path) -> None:
    b = SmsDbBuilder(schema="ios16")
    chat = b.chat([b.handle(MOM)])
    broken = b.message(chat, sender=1, date=at(0), text="one",
                       deleted_parts=[DeletedPartSpec(1, "to be damaged", at(5))])
    as_text = b.message(chat, sender=1, date=at(1), text="two",
                        deleted_parts=[DeletedPartSpec(1, "to be text", at(6))])
    path = b.write(tmp_path / "sms.db")
    with sqlite3.connect(path) as connection:
        ids = dict(connection.execute("SELECT guid, ROWID FROM message"))
        connection.execute("UPDATE recoverable_message_part SET part_text = ? "
                           "WHERE message_id = ?", (b"\x04\x0bstreamtyped\x00junk", ids[broken]))
        connection.execute("UPDATE recoverable_message_part SET part_text = ? "
                           "WHERE message_id = ?", ("Stored as text", ids[as_text]))
    connection.close()
    messages, problems = read(path)
    damaged = messages[broken].deleted_parts or ()
    assert len(damaged) == 1 and damaged[0].undecodable and damaged[0].text == ""
    assert damaged[0].raw == b"\x04\x0bstreamtyped\x00junk" and damaged[0].deleted == at(5)
    assert [(p.kind, p.guid) for p in problems] == [("undecodable_body", broken)]
    assert "deleted part 1" in problems[0].detail
    texty = messages[as_text].deleted_parts or ()
    assert [(p.index, p.text, p.undecodable) for p in texty] == [(1, "Stored as text", False)]
    assert messages[broken].text == "one"  # the message itself reads as ever


def test_old_schema_has_no_recently_deleted(tmp_path: Path) -> None:
    b = SmsDbBuilder(schema="ios12")
    chat = b.chat([b.handle(MOM)])
    with pytest.raises(ValueError, match="Recently Deleted"):
        b.message(chat, sender=1, date=at(0), text="x",
                  deleted_parts=[DeletedPartSpec(1, "y", at(1))])
    guid = b.message(chat, sender=1, date=at(0), text="x")
    messages, problems = read(b.write(tmp_path / "sms.db"))
    assert messages[guid].deleted_parts is UNSET and problems == []


def test_part_of_a_wholly_deleted_message(tmp_path: Path) -> None:
    b = SmsDbBuilder(schema="ios18")
    chat = b.chat([b.handle(MOM)])
    guid = b.message(chat, sender=1, date=at(0), text="rest", recoverable=True,
                     deleted_parts=[DeletedPartSpec(1, "part", at(1))])
    messages, _ = read(b.write(tmp_path / "sms.db"))
    message = messages[guid]
    assert message.deleted_on_device and message.chat_guids == (b.chat_guid(chat),)
    assert [p.text for p in message.deleted_parts or ()] == ["part"]
