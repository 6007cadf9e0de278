"""The workload's sms.db: deterministic, the requested shape, and readable by the reader."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from coldtexts.fixtures.workload import MediaFactory, address_book_contacts
from coldtexts.fixtures.workload_media import DEFAULT_MIX, PhotoPool
from coldtexts.fixtures.workload_messages import iter_messages
from coldtexts.fixtures.workload_shape import plan_workload
from coldtexts.fixtures.workload_smsdb import SmsDbStats, write_sms_db
from coldtexts.messages.reader import SmsDatabase

MESSAGES = 900


def _build(path: Path, cache: Path, seed: int = 5, chunk: int = 250) -> SmsDbStats:
    plan = plan_workload(MESSAGES, seed=seed)
    media = MediaFactory(PhotoPool(0.02, cache, seed), 0.05, seed)
    rows = iter_messages(plan, attachment_ratio=0.08, media_mix=DEFAULT_MIX)
    return write_sms_db(path, plan, rows, media.size, chunk=chunk)


@pytest.fixture(scope="module")
def sms_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("smsdb")
    _build(folder / "sms.db", folder / "cache")
    return folder / "sms.db"


def test_same_seed_same_bytes_whatever_the_chunk_size(sms_db: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.db"
    _build(again, sms_db.parent / "cache", chunk=10_000)
    with sqlite3.connect(sms_db) as a, sqlite3.connect(again) as b:
        for table in ("message", "attachment", "chat_message_join", "message_attachment_join",
                      "handle", "chat"):
            query = f"SELECT * FROM {table} ORDER BY ROWID"
            assert a.execute(query).fetchall() == b.execute(query).fetchall(), table
    other = tmp_path / "other.db"
    _build(other, sms_db.parent / "cache", seed=6)
    assert hashlib.sha256(other.read_bytes()).digest() != hashlib.sha256(
        sms_db.read_bytes()).digest()


def test_rows_have_the_workload_shape(sms_db: Path) -> None:
    with sqlite3.connect(sms_db) as db:
        total = db.execute("SELECT COUNT(*) FROM message").fetchone()[0]
        largest = db.execute("SELECT COUNT(*) FROM chat_message_join GROUP BY chat_id "
                             "ORDER BY 1 DESC LIMIT 1").fetchone()[0]
        with_files = db.execute("SELECT COUNT(DISTINCT message_id) FROM "
                                "message_attachment_join").fetchone()[0]
        orphans = db.execute("SELECT COUNT(*) FROM message_attachment_join j LEFT JOIN "
                             "attachment a ON a.ROWID = j.attachment_id WHERE a.ROWID IS NULL"
                             ).fetchone()[0]
        groups = db.execute("SELECT COUNT(*) FROM chat WHERE style = 43").fetchone()[0]
        bodies = db.execute("SELECT COUNT(*) FROM message WHERE attributedBody IS NOT NULL"
                            ).fetchone()[0]
        kinds = db.execute("SELECT SUM(associated_message_type BETWEEN 2000 AND 2006), "
                           "SUM(thread_originator_guid IS NOT NULL), "
                           "SUM(balloon_bundle_id IS NOT NULL) FROM message").fetchone()
    assert total == MESSAGES
    assert abs(largest / total - 1 / 3) < 0.01
    assert 0.05 < with_files / total < 0.11
    assert orphans == 0  # attachment ROWIDs stay right across chunks
    assert groups >= 1
    assert bodies > 0.85 * total
    assert all(count > 0 for count in kinds)


def test_the_project_reader_reads_every_message_and_script(sms_db: Path) -> None:
    with SmsDatabase.open(sms_db) as db:
        conversations = list(db.conversations())
        messages = list(db.messages())
        reactions = list(db.reactions())
        assert not [p for p in db.problems if getattr(p, "kind", "") != "missing_attachment"]
    assert len(conversations) == len(plan_workload(MESSAGES, seed=5).conversations)
    assert len(messages) + len(reactions) == MESSAGES
    text = "".join(part.text for m in messages for part in m.parts)
    for low, high in ((0x4E00, 0x9FFF), (0x0600, 0x06FF), (0x0400, 0x04FF), (0x1F300, 0x1FAFF)):
        assert any(low <= ord(ch) <= high for ch in text), hex(low)


def test_most_people_are_in_the_address_book() -> None:
    plan = plan_workload(5_000, seed=1)
    contacts = address_book_contacts(plan)
    assert 0.75 * len(plan.people) < len(contacts) < len(plan.people)
    assert all(c.phones for c in contacts)
