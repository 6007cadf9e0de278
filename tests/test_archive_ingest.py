"""Ingest semantics: the upsert by GUID, revisions, 'no longer on device', merging."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coldtexts.archive import Archive
from coldtexts.archive.types import ConversationIngest
from coldtexts.messages.models import (
    Conversation,
    EventKind,
    GroupEvent,
    Message,
    MessageKind,
    Participant,
    ReactionKind,
    ReplyRef,
)
from test_archive_factory import (
    conversation,
    dataset,
    edited,
    message,
    page,
    photo,
    run_once,
    source,
    tapback,
)


def _rows(root: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(root / "coldtexts.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _output_stats(root: Path) -> dict[str, tuple[int, int]]:
    skip = {"coldtexts.db", "MANIFEST.sha256", ".coldtexts.lock"}
    return {
        str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and p.name not in skip and "reports" not in p.parts
    }


def test_same_backup_twice_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    convs, msgs = dataset(3, 20)
    run_once(root, convs, msgs)
    tables = ["messages", "revisions", "reactions", "sources", "conversations", "attachments"]
    before = {t: _rows(root, f"SELECT * FROM {t} ORDER BY 1") for t in tables}
    files_before = _output_stats(root)

    convs, msgs = dataset(3, 20)
    ingest, rendered = run_once(root, convs, msgs)

    assert ingest.messages_new == 0 and ingest.messages_changed == 0
    assert ingest.messages_unchanged == 60
    assert rendered.rendered == 0 and rendered.skipped == len(rendered.decisions) > 0
    assert {t: _rows(root, f"SELECT * FROM {t} ORDER BY 1") for t in tables} == before
    assert _output_stats(root) == files_before  # not one output rewritten


def test_newer_backup_adds_revises_and_flags(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    conv = conversation(1)
    keep = message("keep", conv, 0, "still here")
    to_edit = message("edit", conv, 1, "see you at 5")
    to_unsend = message("unsend", conv, 2, "oops wrong chat", from_me=True)
    to_change = message("change", conv, 3, "text as first read")
    deleted = message("deleted", conv, 4, "deleted on the phone")
    run_once(root, [conv], [keep, to_edit, to_unsend, to_change, deleted], src=source(0))

    unsent = message("unsend", conv, 2, "", from_me=True, unsent_parts=(0,),
                     date_retracted=to_unsend.date + timedelta(minutes=1))
    changed = message("change", conv, 3, "text as read later")
    new = message("new", conv, 10, "a new message")
    ingest, _ = run_once(root, [conv], [keep, edited(to_edit, "see you at 6"), unsent, changed,
                                        new], src=source(30))

    assert (ingest.messages_new, ingest.messages_changed, ingest.messages_unchanged) == (1, 3, 1)
    assert ingest.marked_no_longer_on_device == 1
    assert ingest.by_conversation == {"Person 1": ConversationIngest(1, 3, 1)}
    text = page(root, "Person 1", "2019")
    assert "m-deleted Person 1 'deleted on the phone' gone=2020-05-04" in text
    assert "m-edit Person 1 'see you at 6' rev[edited]='see you at 5'" in text
    assert "m-unsend Me '' rev[unsent]='oops wrong chat'" in text
    assert ("m-change Person 1 'text as read later' "
            "rev[changed between backups]='text as first read'") in text
    assert "m-keep Person 1 'still here'\n" in text
    assert "m-new Person 1 'a new message'" in text


def test_incomplete_or_other_device_backup_flags_nothing(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    conv = conversation(1)
    first = [message("a", conv, 0, "one"), message("b", conv, 1, "two")]
    run_once(root, [conv], first, src=source(0))
    partial, _ = run_once(root, [conv], first[:1], src=source(10), complete=False)
    other, _ = run_once(root, [conv], first[:1], src=source(20, udid="UDID-B"))
    assert partial.marked_no_longer_on_device == 0
    assert other.marked_no_longer_on_device == 0
    assert _rows(root, "SELECT count(*) FROM messages WHERE gone_as_of IS NOT NULL") == [(0,)]


def test_message_seen_again_later_is_back_on_device(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    conv = conversation(1)
    msgs = [message("a", conv, 0, "one"), message("b", conv, 1, "two")]
    run_once(root, [conv], msgs, src=source(0))
    run_once(root, [conv], msgs[:1], src=source(10))
    back, _ = run_once(root, [conv], msgs, src=source(20))
    assert back.back_on_device == 1
    assert "gone=" not in page(root, "Person 1", "2019")


def test_older_backup_never_overwrites_and_merges_history(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    conv = conversation(1)
    current = message("m", conv, 5, "final wording")
    run_once(root, [conv], [current], src=source(30))
    older = message("m", conv, 5, "first wording")
    history = message("old", conv, 0, "only the old phone has this")
    ingest, _ = run_once(root, [conv], [older, history], src=source(0))
    assert ingest.messages_older_version == 1 and ingest.messages_new == 1
    # The newer backup of the same phone lacks "old": it was deleted in between, exactly
    # as if the backups had come in date order.
    assert ingest.marked_no_longer_on_device == 1
    text = page(root, "Person 1", "2019")
    assert ("m-m Person 1 'final wording' rev[changed between backups]='first wording'"
            in text)
    assert "m-old Person 1 'only the old phone has this' gone=2020-05-04" in text


def test_conversations_match_by_guid_then_identifier(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    imessage = conversation(1)
    sms = Conversation("SMS;-;+15550000001", "+15550000001", "SMS", None, False,
                       (Participant("+15550000001", "Person 1"),))
    run_once(root, [imessage], [message("a", imessage, 0, "over iMessage")], src=source(0))
    sms_message = message("b", imessage, 1, "over SMS", chat_guids=(sms.guid,))
    ingest, _ = run_once(root, [sms], [sms_message], src=source(0, udid="UDID-B"))
    assert ingest.conversations_new == 0
    assert _rows(root, "SELECT count(*) FROM conversations") == [(1,)]
    assert _rows(root, "SELECT guid FROM chat_guids ORDER BY guid") == [
        ("SMS;-;+15550000001",), ("iMessage;-;+15550000001",)]
    assert "over SMS" in page(root, "Person 1", "2019")


def test_attachment_missing_then_filled_in(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    conv = conversation(1)
    msg = message("p", conv, 0, "", attachments=(photo("att-1"),))
    with Archive.open(root) as archive:
        archive.ingest(archive.begin_source(source(0)), [conv], [msg], [])
        needs = archive.attachments_needing_files()
        assert [(n.guid, n.device_path) for n in needs] == [
            ("att-1", "~/Library/SMS/Attachments/ab/IMG.HEIC")]
        archive.record_missing_attachment("att-1", "the backup lacks this file")
    extracted = tmp_path / "staging" / "IMG.HEIC"
    extracted.parent.mkdir()
    extracted.write_bytes(b"heic bytes")
    sha = hashlib.sha256(b"heic bytes").hexdigest()
    with Archive.open(root) as archive:
        assert archive.newest_backup_date() == source(0).backup_date
        assert archive.newest_backup_date("UDID-OTHER") is None
        archive.ingest(archive.begin_source(source(30)), [conv], [msg], [])
        assert archive.missing_attachments_by_conversation() == {"Person 1": 1}
        assert [n.guid for n in archive.attachments_needing_files()] == ["att-1"]
        archive.store_attachment_file("att-1", extracted, sha, 10)
        assert archive.attachments_needing_files() == []
        assert archive.missing_attachments_by_conversation() == {}
    stored = root / "attachments" / sha[:2] / f"{sha}.heic"
    assert stored.read_bytes() == b"heic bytes" and not extracted.exists()
    assert stored.stat().st_mode & 0o777 == 0o600


def test_same_content_is_stored_once(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    conv = conversation(1)
    msgs = [message("p1", conv, 0, "", attachments=(photo("a1"),)),
            message("p2", conv, 1, "", attachments=(photo("a2"),))]
    data = b"same picture"
    sha = hashlib.sha256(data).hexdigest()
    with Archive.open(root) as archive:
        archive.ingest(archive.begin_source(source()), [conv], msgs, [])
        for guid in ("a1", "a2"):
            extracted = tmp_path / f"{guid}.heic"
            extracted.write_bytes(data)
            archive.store_attachment_file(guid, extracted, sha, len(data))
            assert not extracted.exists()
    assert len(list((root / "attachments").rglob("*.*"))) == 1
    assert _rows(root, "SELECT count(DISTINCT sha256) FROM attachments") == [(1,)]


def test_reactions_net_state(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    conv = conversation(1)
    them = conv.participants[0].handle
    target = message("t", conv, 0, "big news")
    other = message("u", conv, 1, "and more")
    reactions = [
        tapback("r1", target, 2, sender=them),
        tapback("r2", target, 3, kind=ReactionKind.LIKE, sender=them),  # replaces r1
        tapback("r3", target, 4),  # me: love
        tapback("r4", other, 5),
        tapback("r5", other, 6, added=False),  # me: removed
    ]
    run_once(root, [conv], [target, other], reactions)
    text = page(root, "Person 1", "2019")
    assert "m-t Person 1 'big news' react=👍:Person 1 react=❤️:Me\n" in text
    assert "m-u Person 1 'and more'\n" in text
    assert _rows(root, "SELECT count(*) FROM reactions") == [(5,)]


def test_events_and_replies_in_words(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    conv = conversation(1)
    them = conv.participants[0].handle
    rename = message("e1", conv, 0, "", kind=MessageKind.EVENT,
                     event=GroupEvent(EventKind.RENAMED, actor=them, title="Family"))
    left = message("e2", conv, 1, "", from_me=True, kind=MessageKind.EVENT,
                   event=GroupEvent(EventKind.MEMBER_LEFT, actor_is_me=True))
    question = message("q", conv, 2, "Dinner on Sunday?")
    answer = message("a", conv, 60 * 24 * 400, "Yes!", from_me=True,
                     reply_to=ReplyRef("q", 0))
    snapshot = message("p", conv, 3, "", attachments=(photo("att-p"),))
    long_text = message("l", conv, 4, "word " * 40)
    to_photo = message("r1", conv, 5, "Lovely", from_me=True, reply_to=ReplyRef("p", 0))
    to_long = message("r2", conv, 6, "Agreed", from_me=True, reply_to=ReplyRef("l", 0))
    run_once(root, [conv], [rename, left, question, answer, snapshot, long_text, to_photo,
                            to_long])
    text_2019 = page(root, "Person 1", "2019")
    assert "event=Person 1 named the conversation “Family”" in text_2019
    assert "event=You left the conversation" in text_2019
    assert "reply=2019.html#m-q:'Dinner on Sunday?'" in page(root, "Person 1", "2020")
    # A message without text is quoted in words; a long one is cut at a word.
    assert "reply=2019.html#m-p:'Photo'" in text_2019
    assert f"reply=2019.html#m-l:'{('word ' * 16).strip()}…'" in text_2019


def test_a_tapback_that_arrived_before_its_message_is_shown_later(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    conv = conversation(1)
    old = message("old", conv, 0, "from the old phone")
    orphan_tapback = dataclasses.replace(tapback("r", old, 60), chat_guids=())
    run_once(root, [conv], [message("new", conv, 50, "hi")], [orphan_tapback],
             src=source(30))
    assert _rows(root, "SELECT conversation_id FROM reactions") == [(None,)]
    run_once(root, [conv], [old], src=source(0, udid="OLD"))
    assert "m-old Person 1 'from the old phone' react=❤️:Me" in page(root, "Person 1", "2019")


def _state(root: Path) -> dict[str, list[tuple[object, ...]]]:
    queries = {
        "messages": "SELECT guid, json, gone_as_of FROM messages ORDER BY guid",
        "revisions": "SELECT message_guid, part, date, text, origin FROM revisions "
                     "ORDER BY message_guid, text",
        "sightings": "SELECT m.guid, s.udid, s.last_date FROM sightings s JOIN messages m "
                     "ON m.id = s.message_id ORDER BY 1, 2",
    }
    return {name: _rows(root, sql) for name, sql in queries.items()}


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    present=st.lists(st.lists(st.booleans(), min_size=6, max_size=6), min_size=3, max_size=3),
    edit_at=st.lists(st.integers(0, 3), min_size=6, max_size=6),
    complete=st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_backups_in_any_order_make_the_same_archive(
        tmp_path: Path, present: list[list[bool]], edit_at: list[int],
        complete: list[bool]) -> None:
    conv = conversation(1)

    def backup(k: int) -> list[Message]:
        return [message(f"m{i}", conv, i, f"m{i} " + ("v1" if k >= edit_at[i] else "v0"))
                for i in range(6) if present[k][i]]

    states = []
    for number, order in enumerate(itertools.permutations(range(3))):
        root = tmp_path / f"{uuid.uuid4().hex}-{number}"
        for k in order:
            with Archive.open(root) as archive:
                archive.ingest(archive.begin_source(source(10 * k)), [conv], backup(k), [],
                               complete=complete[k])
        states.append(_state(root))
    assert all(state == states[0] for state in states[1:])
