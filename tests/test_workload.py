"""The synthetic workload end to end: deterministic, the requested shape, a readable backup."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

pytest.importorskip("coldtexts.fixtures.backup_writer")

from coldtexts.fixtures.workload import WorkloadInfo, generate_workload

MESSAGES = 600


def _generate(root: Path, cache: Path, **overrides: object) -> WorkloadInfo:
    options: dict[str, object] = {"messages": MESSAGES, "seed": 7, "photo_megapixels": 0.02,
                                  "video_megabytes": 0.05, "cache_dir": cache,
                                  "keep_plain": True}
    options.update(overrides)
    return generate_workload(root, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> WorkloadInfo:
    base = tmp_path_factory.mktemp("workload")
    return _generate(base / "a", base / "cache")


def _tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _rows(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT * FROM message ORDER BY ROWID").fetchall()


def test_same_seed_gives_identical_rows_and_backup_files(workload: WorkloadInfo,
                                                         tmp_path: Path) -> None:
    again = _generate(tmp_path / "b", workload.root.parent / "cache")
    assert _rows(again.root / "plain" / "sms.db") == _rows(workload.root / "plain" / "sms.db")
    assert _tree_hashes(again.backup_dir) == _tree_hashes(workload.backup_dir)
    other = _generate(tmp_path / "c", workload.root.parent / "cache", seed=8)
    assert _rows(other.root / "plain" / "sms.db") != _rows(workload.root / "plain" / "sms.db")


def test_the_database_has_the_requested_shape(workload: WorkloadInfo) -> None:
    with sqlite3.connect(workload.root / "plain" / "sms.db") as db:
        total = db.execute("SELECT COUNT(*) FROM message").fetchone()[0]
        largest = db.execute("SELECT COUNT(*) FROM chat_message_join GROUP BY chat_id "
                             "ORDER BY 1 DESC LIMIT 1").fetchone()[0]
        with_files = db.execute("SELECT COUNT(DISTINCT message_id) FROM "
                                "message_attachment_join").fetchone()[0]
        groups = db.execute("SELECT COUNT(*) FROM chat WHERE style = 43").fetchone()[0]
        bodies = db.execute("SELECT COUNT(*) FROM message WHERE attributedBody IS NOT NULL"
                            ).fetchone()[0]
        tapbacks = db.execute("SELECT COUNT(*) FROM message WHERE associated_message_type "
                              "BETWEEN 2000 AND 2006").fetchone()[0]
        mimes = {r[0] for r in db.execute("SELECT DISTINCT mime_type FROM attachment")}
    assert total == MESSAGES == workload.messages
    assert abs(largest / total - 1 / 3) < 0.01
    assert 0.05 < with_files / total < 0.11
    assert groups >= 1 and groups == workload.group_chats
    assert bodies > 0.85 * total
    assert tapbacks > 0.03 * total
    assert {"image/heic", "image/jpeg"} <= mimes
    assert workload.contacts > 0.7 * workload.people


def test_the_backup_decrypts_to_the_same_database_and_attachments(workload: WorkloadInfo,
                                                                  tmp_path: Path) -> None:
    from iphone_backup_decrypt import EncryptedBackup

    backup = EncryptedBackup(backup_directory=str(workload.backup_dir), passphrase="bench")
    sms = backup.extract_file_as_bytes("Library/SMS/sms.db")
    assert sms == (workload.root / "plain" / "sms.db").read_bytes()
    out = tmp_path / "out"
    backup.extract_files(relative_paths_like="Library/SMS/Attachments/%",
                         output_folder=str(out), preserve_folders=True)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) == workload.attachments
    assert sum(p.stat().st_size for p in files) == workload.attachment_bytes
    assert len({hashlib.sha256(p.read_bytes()).digest() for p in files}) == len(files)


def test_extra_messages_extend_the_largest_conversation(workload: WorkloadInfo,
                                                        tmp_path: Path) -> None:
    later = _generate(tmp_path / "later", workload.root.parent / "cache", extra_in_largest=50)
    before = _rows(workload.root / "plain" / "sms.db")
    after = _rows(later.root / "plain" / "sms.db")
    assert after[:len(before)] == before
    assert len(after) == len(before) + 50
    with sqlite3.connect(later.root / "plain" / "sms.db") as db:
        chats = {r[0] for r in db.execute("SELECT chat_id FROM chat_message_join "
                                          "WHERE message_id > ?", (len(before),))}
    assert chats == {1}


def test_the_project_backup_reader_extracts_the_same_bytes(workload: WorkloadInfo,
                                                           tmp_path: Path) -> None:
    from coldtexts.backup.extract import ExtractedFile, open_backup, staging
    from coldtexts.backup.locate import COMPLETE, inspect_backup
    from coldtexts.options import SecretOptions

    assert workload.password_file is not None
    plain = workload.root / "plain"
    with sqlite3.connect(plain / "sms.db") as db:
        device_paths = [r[0] for r in db.execute("SELECT filename FROM attachment")]
    info = inspect_backup(workload.backup_dir)
    assert info.encrypted and info.state == COMPLETE
    secrets = SecretOptions(password_file=workload.password_file, interactive=False)
    with staging(tmp_path) as folder, open_backup(info, secrets, folder) as backup:
        files = backup.extract_messages()
        assert files.sms_db.read_bytes() == (plain / "sms.db").read_bytes()
        assert files.address_book is not None
        assert files.address_book.read_bytes() == (plain / "AddressBook.sqlitedb").read_bytes()
        extracted = list(backup.extract_attachments(device_paths))
    assert all(isinstance(item, ExtractedFile) for item in extracted)
    assert len(extracted) == workload.attachments
    assert sum(item.size for item in extracted if isinstance(item, ExtractedFile)) \
        == workload.attachment_bytes
