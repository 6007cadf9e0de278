"""Bad input: corrupt databases fail with one sentence; bad rows are reported, never fatal."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coldtexts.errors import MessagesDatabaseCorruptError
from coldtexts.fixtures.addressbook_builder import ContactSpec, write_address_book
from coldtexts.fixtures.smsdb_builder import SmsDbBuilder
from coldtexts.fixtures.smsdb_builder_plist import app_payload
from coldtexts.messages.contacts import ContactBook
from coldtexts.messages.models import MessageKind
from coldtexts.messages.reader import SmsDatabase

T0 = datetime(2024, 3, 9, 18, 30, tzinfo=UTC)
MOM = "+15555550101"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def builder(schema: str = "ios16") -> tuple[SmsDbBuilder, int, int]:
    b = SmsDbBuilder(schema=schema)
    mom = b.handle(MOM)
    return b, mom, b.chat([mom])


def test_random_bytes_are_a_corrupt_database(tmp_path: Path) -> None:
    path = tmp_path / "sms.db"
    path.write_bytes(b"\x00garbage" * 500)
    with pytest.raises(MessagesDatabaseCorruptError) as caught:
        SmsDatabase.open(path)
    assert str(caught.value).count(".") >= 1 and "\n" not in str(caught.value)


def test_truncated_database_is_a_typed_error(tmp_path: Path) -> None:
    b, mom, chat = builder()
    for i in range(400):
        b.message(chat, sender=mom, date=at(i), text=f"message {i} " + "x" * 200)
    path = b.write(tmp_path / "sms.db")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    with pytest.raises(MessagesDatabaseCorruptError), SmsDatabase.open(path) as db:
        list(db.messages())


def test_sqlite_without_messages_tables(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (x)")
    connection.close()
    with pytest.raises(MessagesDatabaseCorruptError, match="not a Messages database"):
        SmsDatabase.open(path)


def test_undecodable_body_keeps_text_column_and_neighbours(tmp_path: Path) -> None:
    b, mom, chat = builder()
    before = b.message(chat, sender=mom, date=at(0), text="before")
    bad = b.message(chat, sender=mom, date=at(1), text="text column survives",
                    attributed_body=b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84")
    after = b.message(chat, sender=mom, date=at(2), text="after")
    with SmsDatabase.open(b.write(tmp_path / "sms.db")) as db:
        messages = {m.guid: m for m in db.messages()}
        problems = list(db.problems)
    assert messages[bad].body_undecodable and messages[bad].text == "text column survives"
    assert messages[before].text == "before" and messages[after].text == "after"
    assert [(p.kind, p.guid) for p in problems] == [("undecodable_body", bad)]


def test_unknown_balloon_is_kept_and_reported(tmp_path: Path) -> None:
    b, mom, chat = builder()
    guid = b.message(chat, sender=mom, date=at(0), balloon_bundle_id=(
        "com.apple.messages.MSMessageExtensionBalloonPlugin:ABCDE12345:com.example.chess"),
        payload_data=app_payload("Chess", "Your move"))
    with SmsDatabase.open(b.write(tmp_path / "sms.db")) as db:
        (message,) = list(db.messages())
        problems = list(db.problems)
    assert message.kind is MessageKind.APP and message.app is not None
    assert message.app.bundle_id == "com.example.chess"
    assert [(p.kind, p.guid) for p in problems] == [("unknown_balloon", guid)]


def test_unknown_associated_type_is_kept_and_reported(tmp_path: Path) -> None:
    b, mom, chat = builder()
    target = b.message(chat, sender=mom, date=at(0), text="hi")
    odd = b.message(chat, sender=mom, date=at(1), tapback=(1500, target, 0), text="something")
    with SmsDatabase.open(b.write(tmp_path / "sms.db")) as db:
        messages = {m.guid: m for m in db.messages()}
        problems = list(db.problems)
    assert messages[odd].extra == {"associated_message_type": "1500"}
    assert [(p.kind, p.guid) for p in problems] == [("unknown_type", odd)]


def test_dangling_tapback_and_missing_reply_target(tmp_path: Path) -> None:
    b, mom, chat = builder()
    ghost = "00000000-0000-0000-0000-000000000000"
    tap = b.message(chat, sender=mom, date=at(0), tapback=(2000, ghost, 0))
    reply = b.message(chat, from_me=True, date=at(1), reply_to=(ghost, 0), text="to nothing")
    with SmsDatabase.open(b.write(tmp_path / "sms.db")) as db:
        reactions = list(db.reactions())
        messages = list(db.messages())
        problems = {(p.kind, p.guid) for p in db.problems}
    assert [r.guid for r in reactions] == [tap]
    assert [m.guid for m in messages] == [reply]
    assert problems == {("dangling_tapback", tap), ("reply_target_missing", reply)}


def test_duplicate_chats_kept_apart_and_reported(tmp_path: Path) -> None:
    b, mom, chat = builder()
    twin = b.chat([mom], guid="SMS;-;" + MOM, service="SMS")
    b.message(chat, sender=mom, date=at(0), text="over iMessage")
    b.message(twin, sender=mom, date=at(1), text="over SMS", service="SMS")
    with SmsDatabase.open(b.write(tmp_path / "sms.db")) as db:
        conversations = list(db.conversations())
        problems = list(db.problems)
    assert [c.guid for c in conversations] == ["iMessage;-;" + MOM, "SMS;-;" + MOM]
    assert sorted(p.guid or "" for p in problems if p.kind == "duplicate_chat") == sorted(
        c.guid for c in conversations)


def test_wal_only_message_read_and_source_untouched(tmp_path: Path) -> None:
    b, mom, chat = builder()
    b.message(chat, sender=mom, date=at(0), text="in the main file")
    source = tmp_path / "backup"
    path = b.write(source / "sms.db")
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("INSERT INTO message (guid, text, handle_id, service, date, is_from_me) "
                   "VALUES ('WAL-ONLY', 'only in the WAL', 1, 'iMessage', 1, 0)")
    writer.execute("INSERT INTO chat_message_join VALUES (1, 2, 1)")
    writer.commit()
    main, wal = path.read_bytes(), path.with_name("sms.db-wal").read_bytes()
    writer.close()  # checkpoints; put the device-like state back
    path.write_bytes(main)
    path.with_name("sms.db-wal").write_bytes(wal)
    path.with_name("sms.db-shm").unlink(missing_ok=True)
    listing = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in source.iterdir())
    with SmsDatabase.open(path) as db:
        texts = [m.text for m in db.messages()]
    assert texts == ["only in the WAL", "in the main file"]
    assert sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                  for p in source.iterdir()) == listing


def test_read_only_folder_without_wal(tmp_path: Path) -> None:
    b, mom, chat = builder()
    b.message(chat, sender=mom, date=at(0), text="read only")
    source = tmp_path / "ro"
    path = b.write(source / "sms.db")
    path.chmod(0o400)
    source.chmod(0o500)
    try:
        with SmsDatabase.open(path) as db:
            assert [m.text for m in db.messages()] == ["read only"]
        assert sorted(p.name for p in source.iterdir()) == ["sms.db"]
    finally:
        source.chmod(0o700)


def test_participants_named_from_contacts(tmp_path: Path) -> None:
    b, mom, chat = builder()
    b.message(chat, sender=mom, date=at(0), text="hi")
    book_path = tmp_path / "AddressBook.sqlitedb"
    write_address_book(book_path, [ContactSpec(first="Mom", phones=["(555) 555-0101"])])
    with SmsDatabase.open(b.write(tmp_path / "sms.db"), ContactBook.open(book_path)) as db:
        (conversation,) = list(db.conversations())
    assert [(p.handle, p.name) for p in conversation.participants] == [(MOM, "Mom")]


def test_count_matches_stream(tmp_path: Path) -> None:
    b, mom, chat = builder()
    target = b.message(chat, sender=mom, date=at(0), text="a")
    b.message(chat, from_me=True, date=at(1), tapback=(2001, target, 0))
    b.message(chat, from_me=True, date=at(2), text="b")
    with SmsDatabase.open(b.write(tmp_path / "sms.db")) as db:
        assert db.count_messages() == 2 == len(list(db.messages()))


def test_no_space_to_stage_the_wal_copy_is_disk_full(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import shutil

    from coldtexts.errors import DiskFullError

    b, mom, chat = builder()
    b.message(chat, sender=mom, date=at(0), text="hi")
    path = b.write(tmp_path / "sms.db")
    path.with_name("sms.db-wal").write_bytes(b"")

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", full)
    with pytest.raises(DiskFullError, match="free some disk space"):
        SmsDatabase.open(path)


def test_private_wal_copy_removed_on_close(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    staging = tmp_path / "staging"
    staging.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(staging))
    b, mom, chat = builder()
    b.message(chat, sender=mom, date=at(0), text="hi")
    path = b.write(tmp_path / "sms.db")
    path.with_name("sms.db-wal").write_bytes(b"")
    with SmsDatabase.open(path) as db:
        assert next(p.name for p in staging.iterdir()).startswith("coldtexts-sqlite-")
        assert [m.text for m in db.messages()] == ["hi"]
    assert list(staging.iterdir()) == []
