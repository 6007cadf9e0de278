"""Building small backups for tests: the showcase sms.db and its attachments, written by
the project's backup writer with cheap key-derivation counts."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from coldtexts.fixtures.addressbook_builder import write_address_book
from coldtexts.fixtures.backup_writer import BackupFile, write_backup
from coldtexts.fixtures.smsdb_builder_showcase import SHOWCASE_CONTACTS, build_showcase_database

PASSWORD = "correct horse battery staple"
UDID = "00008101-000C08303498001E"


def showcase_files(work: Path, *, with_sms: bool = True) -> list[BackupFile]:
    work.mkdir(parents=True, exist_ok=True)
    device_paths = build_showcase_database(work / "sms.db", "ios18")
    write_address_book(work / "AddressBook.sqlitedb", SHOWCASE_CONTACTS)
    files = [BackupFile("HomeDomain", "Library/AddressBook/AddressBook.sqlitedb",
                        work / "AddressBook.sqlitedb", 4)]
    if with_sms:
        files.append(BackupFile("HomeDomain", "Library/SMS/sms.db", work / "sms.db", 4))
    for index, device_path in enumerate(device_paths):
        data = hashlib.sha256(device_path.encode()).digest() * (40 + index)
        files.append(BackupFile("MediaDomain", device_path.removeprefix("~/"), data, 3))
    return files


def make_backup(root: Path, *, password: str | None = PASSWORD, files: Iterable[BackupFile]
                | None = None, **options: object) -> Path:
    files = list(files) if files is not None else showcase_files(root / "work")
    return write_backup(root / "backups" / UDID, files, password=password, udid=UDID,
                        device_name="Test iPhone", **options)  # type: ignore[arg-type]


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """Anything coldtexts may have left in `folder` (plaintext staging above all)."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if ".coldtexts-staging" in str(p) or p.suffix == ".part")


def password_file(folder: Path, text: str = PASSWORD, mode: int = 0o600) -> Path:
    path = folder / "password.txt"
    path.write_text(text + "\n")
    os.chmod(path, mode)
    return path
