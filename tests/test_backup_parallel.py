"""Decrypting attachments two at a time must give exactly what the plain loop gave, in the
same order, with every error at its own file and nothing written after the caller is
gone."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from backup_support import PASSWORD, leftovers, make_backup
from coldtexts.backup.crypto import CHUNK
from coldtexts.backup.extract import ExtractedFile, MissingFile, open_backup, staging
from coldtexts.backup.locate import inspect_backup
from coldtexts.errors import BackupCorruptError
from coldtexts.fixtures.backup_writer import BackupFile, file_id
from coldtexts.options import SecretOptions

FAST = SecretOptions(interactive=False)


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


def _attachments(count: int) -> list[BackupFile]:
    sizes = [0, 16, 1000, CHUNK - 1, CHUNK + 17, 3 * CHUNK]
    return [BackupFile("MediaDomain", f"Library/SMS/Attachments/{i:02x}/00/G/f{i}.bin",
                       os.urandom(sizes[i % len(sizes)]), 3) for i in range(count)]


def test_attachments_come_back_in_the_order_asked_with_misses_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLDTEXTS_PASSWORD", PASSWORD)
    files = _attachments(14)
    backup = make_backup(tmp_path, files=files)
    asked = []
    for index, f in enumerate(files):
        asked.append("~/" + f.relative_path)
        if index % 4 == 1:
            asked.append(f"~/Library/SMS/Attachments/ff/00/NOPE/{index}.jpg")
    with staging(tmp_path / "d") as folder, open_backup(inspect_backup(backup), FAST,
                                                        folder) as opened:
        results = list(opened.extract_attachments(asked))
        assert [r.device_path for r in results] == asked
        extracted = [r for r in results if isinstance(r, ExtractedFile)]
        assert [r.path.read_bytes() for r in extracted] == [f.data for f in files]
        assert [r.sha256 for r in extracted] == [hashlib.sha256(f.data).hexdigest()  # type: ignore[arg-type]
                                                 for f in files]
        assert sum(isinstance(r, MissingFile) for r in results) == len(asked) - len(files)
    assert leftovers(tmp_path / "d") == []


def test_a_damaged_file_fails_after_the_files_before_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLDTEXTS_PASSWORD", PASSWORD)
    files = _attachments(10)
    backup = make_backup(tmp_path, files=files)
    damaged = files[6]
    fid = file_id(damaged.domain, damaged.relative_path)
    content = backup / fid[:2] / fid
    content.write_bytes(content.read_bytes()[:-16] + bytes(16))  # bad padding
    seen: list[str] = []
    with staging(tmp_path / "d") as folder, open_backup(inspect_backup(backup), FAST,
                                                        folder) as opened:
        with pytest.raises(BackupCorruptError, match="damaged or truncated"):
            for item in opened.extract_attachments(["~/" + f.relative_path for f in files]):
                seen.append(item.device_path)
        assert seen == ["~/" + f.relative_path for f in files[:6]]
        assert not list(folder.rglob("*.part"))
    assert leftovers(tmp_path / "d") == []


def test_closing_the_backup_stops_an_abandoned_extraction(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A consumer that stops iterating (an error in its own loop body) leaves the
    generator open; closing the Backup must still stop and wait for the workers, so that
    removing staging afterwards leaves nothing behind."""
    monkeypatch.setenv("COLDTEXTS_PASSWORD", PASSWORD)
    big = [BackupFile("MediaDomain", f"Library/SMS/Attachments/aa/00/G/big{i}.mov",
                      os.urandom(9 * CHUNK), 3) for i in range(6)]
    backup = make_backup(tmp_path, files=big)
    with staging(tmp_path / "d") as folder:
        opened = open_backup(inspect_backup(backup), FAST, folder)
        generator = opened.extract_attachments(["~/" + f.relative_path for f in big])
        first = next(generator)
        assert isinstance(first, ExtractedFile)
        opened.close()
        assert not any(name.startswith("coldtexts-extract") for name in _threads())
        assert not list(folder.rglob("*.part"))
    assert leftovers(tmp_path / "d") == []
    generator.close()
