"""The backup stage: reading what the writer writes (ours and two independent readers),
and every bad input of issue 2 with its message, exit code and nothing left behind."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import plistlib
from pathlib import Path
from typing import TextIO

import pytest
from click.testing import CliRunner

from backup_support import (
    PASSWORD,
    UDID,
    leftovers,
    make_backup,
    password_file,
    showcase_files,
    tree_hashes,
)
from coldtexts.backup.extract import (
    ExtractedFile,
    MissingFile,
    Unlocked,
    open_backup,
    staging,
    unlock,
)
from coldtexts.backup.locate import inspect_backup
from coldtexts.cli import cli
from coldtexts.fixtures.backup_writer import BackupFile, file_id
from coldtexts.options import SecretOptions

FAST = SecretOptions(interactive=False)


def export(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["export", *args], env=env)
    return result.exit_code, result.output


@pytest.fixture
def backup(tmp_path: Path) -> Path:
    return make_backup(tmp_path)


def test_reader_gets_back_exactly_what_was_written(tmp_path: Path, backup: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLDTEXTS_PASSWORD", PASSWORD)
    info = inspect_backup(backup)
    assert (info.udid, info.device_name, info.encrypted, info.state) == \
        (UDID, "Test iPhone", True, "complete")
    with staging(tmp_path / "dest") as folder, open_backup(info, FAST, folder) as opened:
        files = opened.extract_messages()
        assert files.sms_db.read_bytes() == (tmp_path / "work" / "sms.db").read_bytes()
        assert files.address_book is not None
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
        results = list(opened.extract_attachments(
            ["~/Library/SMS/Attachments/zz/00/NOPE/missing.jpg", "/etc/passwd"]))
        assert [type(r) for r in results] == [MissingFile, MissingFile]
    assert leftovers(tmp_path / "dest") == []


def test_independent_readers_decrypt_the_writer_identically(tmp_path: Path, backup: Path) -> None:
    from iOSbackup import iOSbackup
    from iphone_backup_decrypt import EncryptedBackup

    expected = (tmp_path / "work" / "sms.db").read_bytes()
    decrypt = EncryptedBackup(backup_directory=str(backup), passphrase=PASSWORD)
    decrypt.extract_file(relative_path="Library/SMS/sms.db",
                         output_filename=str(tmp_path / "ibd.db"))
    assert (tmp_path / "ibd.db").read_bytes() == expected
    (tmp_path / "ios").mkdir()
    other = iOSbackup(udid=UDID, cleartextpassword=PASSWORD, backuproot=str(backup.parent))
    info = other.getFileDecryptedCopy(relativePath="Library/SMS/sms.db",
                                      targetFolder=str(tmp_path / "ios"))
    assert Path(info["decryptedFilePath"]).read_bytes() == expected


def test_staging_leaves_an_existing_parent_folders_mode_alone(tmp_path: Path) -> None:
    parent = tmp_path / "Documents"  # e.g. the parent of --out in a dry run
    parent.mkdir(mode=0o755)
    os.chmod(parent, 0o755)
    with staging(parent) as folder:
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
        assert oct(parent.stat().st_mode & 0o777) == "0o755"
    assert oct(parent.stat().st_mode & 0o777) == "0o755" and list(parent.iterdir()) == []
    with staging(tmp_path / "new" / "dest") as folder:  # a missing parent is made private
        assert oct(folder.parent.stat().st_mode & 0o777) == "0o700"
    assert not (tmp_path / "new").exists()  # and removed with the staging folder


def test_a_dry_run_leaves_the_folders_around_out_as_they_were(tmp_path: Path,
                                                              backup: Path) -> None:
    documents = tmp_path / "Documents"
    documents.mkdir()
    os.chmod(documents, 0o755)
    code, output = export([str(backup), "--out", str(documents / "new" / "archive"),
                           "--dry-run", "--formats", "txt"], {"COLDTEXTS_PASSWORD": PASSWORD})
    assert code in (0, 3), output
    assert list(documents.iterdir()) == []
    assert oct(documents.stat().st_mode & 0o777) == "0o755"


def test_unencrypted_backups_read_directly(tmp_path: Path) -> None:
    backup = make_backup(tmp_path, password=None)
    assert not inspect_backup(backup).encrypted
    with staging(tmp_path / "dest") as folder, open_backup(inspect_backup(backup), FAST,
                                                           folder) as opened:
        assert opened.extract_messages().sms_db.read_bytes() == \
            (tmp_path / "work" / "sms.db").read_bytes()


def test_empty_and_block_sized_files_round_trip(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLDTEXTS_PASSWORD", PASSWORD)
    files = [BackupFile("MediaDomain", "Library/SMS/Attachments/aa/00/G/empty.txt", b""),
             BackupFile("MediaDomain", "Library/SMS/Attachments/aa/00/G/16.bin", b"x" * 16)]
    backup = make_backup(tmp_path, files=files)
    paths = ["~/Library/SMS/Attachments/aa/00/G/empty.txt",
             "~/Library/SMS/Attachments/aa/00/G/16.bin"]
    with staging(tmp_path / "d") as folder, open_backup(inspect_backup(backup), FAST,
                                                        folder) as opened:
        got = [r for r in opened.extract_attachments(paths) if isinstance(r, ExtractedFile)]
        assert [r.path.read_bytes() for r in got] == [b"", b"x" * 16]


def test_backups_command_lists_the_facts(tmp_path: Path, backup: Path) -> None:
    result = CliRunner().invoke(cli, ["backups", "--root", str(tmp_path / "backups"), "--json"])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.output)
    assert entry["udid"] == UDID and entry["encrypted"] is True
    assert entry["device_name"] == "Test iPhone" and entry["state"] == "complete"
    assert entry["ios_version"] == "18.5" and entry["model"] == "iPhone15,2"
    assert entry["size_bytes"] > 0 and entry["last_backup"].startswith("2026-11-01")


def test_sample_backup_is_listed_with_its_facts() -> None:
    from conftest import REPO_ROOT

    result = CliRunner().invoke(cli, ["backups", "--root", str(REPO_ROOT / "examples")])
    assert result.exit_code == 0
    assert "Sam's iPhone" in result.output and "iOS 18.5" in result.output
    assert "encrypted" in result.output and "complete" in result.output


# -- bad input: one sentence, its own exit code, nothing left behind ---------------------
def _fails(args: list[str], code: int, words: str, dest: Path,
           env: dict[str, str] | None = None) -> None:
    exit_code, output = export(args, env)
    assert exit_code == code, output
    assert words in output
    assert "Traceback" not in output
    assert not dest.exists() or leftovers(dest) == []


def test_not_a_backup_folder(tmp_path: Path, backup: Path) -> None:
    dest = tmp_path / "archive"
    _fails([str(tmp_path), "--out", str(dest)], 10, "is not an iPhone backup", dest)
    _fails([str(backup.parent), "--out", str(dest)], 10, f"pass {backup}", dest)
    assert not dest.exists()


def test_backup_still_in_progress(tmp_path: Path) -> None:
    backup = make_backup(tmp_path, status="uploading")
    _fails([str(backup), "--out", str(tmp_path / "a")], 11, "not finished", tmp_path / "a")


def test_damaged_backup_without_manifest_db(tmp_path: Path, backup: Path) -> None:
    (backup / "Manifest.db").unlink()
    _fails([str(backup), "--out", str(tmp_path / "a")], 11, "damaged", tmp_path / "a")


def test_wrong_password(tmp_path: Path, backup: Path) -> None:
    dest = tmp_path / "a"
    secret = password_file(tmp_path, "not the password")
    _fails([str(backup), "--out", str(dest), "--password-file", str(secret)], 20,
           "password is wrong", dest)
    assert not dest.exists()


def test_no_password_source_without_a_terminal(tmp_path: Path, backup: Path) -> None:
    _fails([str(backup), "--out", str(tmp_path / "a")], 21, "--password-file", tmp_path / "a")


def test_password_file_readable_by_others_is_refused(tmp_path: Path, backup: Path) -> None:
    secret = password_file(tmp_path, mode=0o644)
    _fails([str(backup), "--out", str(tmp_path / "a"), "--password-file", str(secret)], 22,
           f"chmod 600 {secret}", tmp_path / "a")


def test_corrupt_manifest_db(tmp_path: Path, backup: Path) -> None:
    manifest = backup / "Manifest.db"
    manifest.write_bytes(manifest.read_bytes()[:-4096])  # truncated: padding is gone
    _fails([str(backup), "--out", str(tmp_path / "a")], 12, "Manifest.db",
           tmp_path / "a", {"COLDTEXTS_PASSWORD": PASSWORD})


def test_truncated_sms_db_content_file(tmp_path: Path, backup: Path) -> None:
    fid = file_id("HomeDomain", "Library/SMS/sms.db")
    content = backup / fid[:2] / fid
    content.write_bytes(content.read_bytes()[:-16])
    _fails([str(backup), "--out", str(tmp_path / "a")], 12, "damaged or truncated",
           tmp_path / "a", {"COLDTEXTS_PASSWORD": PASSWORD})


def test_backup_without_sms_db_explains_why(tmp_path: Path) -> None:
    backup = make_backup(tmp_path, files=showcase_files(tmp_path / "work", with_sms=False))
    _fails([str(backup), "--out", str(tmp_path / "a")], 13, "Likely causes",
           tmp_path / "a", {"COLDTEXTS_PASSWORD": PASSWORD})


@pytest.mark.parametrize("relative", ["../../../etc/evil", "/etc/evil",
                                      "Library/SMS/Attachments/../../../../x"])
def test_manifest_paths_escaping_the_destination_are_refused(tmp_path: Path,
                                                             relative: str) -> None:
    import random

    from coldtexts.errors import UnsafeBackupError
    from coldtexts.fixtures.backup_writer import _mbfile

    blob = _mbfile(BackupFile("MediaDomain", relative, b""), 0, 0, random.Random(0), None)
    hostile = make_backup(tmp_path, password=None, raw_rows=[
        (file_id("MediaDomain", relative), "MediaDomain", relative, 1, blob)])
    device_path = "~/" + relative if not relative.startswith("/") else relative
    with staging(tmp_path / "d") as folder, open_backup(inspect_backup(hostile), FAST,
                                                        folder) as opened:
        with pytest.raises(UnsafeBackupError, match="outside its folder"):
            list(opened.manifest.files_under("MediaDomain", ""))
        if relative.startswith("Library/SMS/Attachments/"):
            with pytest.raises(UnsafeBackupError):
                list(opened.extract_attachments([device_path]))
    assert not (tmp_path / "x").exists() and not (tmp_path / "etc").exists()
    assert leftovers(tmp_path / "d") == []


def test_symlink_rows_are_never_followed(tmp_path: Path) -> None:
    files = showcase_files(tmp_path / "work")
    files = [f for f in files if f.relative_path != "Library/SMS/sms.db"]
    files.append(BackupFile("HomeDomain", "Library/SMS/sms.db", b"", 0, kind="symlink",
                            target="/etc/passwd"))
    backup = make_backup(tmp_path, files=files)
    _fails([str(backup), "--out", str(tmp_path / "a")], 15, "symbolic link", tmp_path / "a",
           {"COLDTEXTS_PASSWORD": PASSWORD})


@pytest.mark.parametrize("tag, value", [(b"DPIC", 2_000_000_000), (b"ITER", 50_000_000),
                                        (b"DPIC", 0)])
def test_absurd_iteration_counts_are_refused(tmp_path: Path, backup: Path, tag: bytes,
                                             value: int) -> None:
    manifest = backup / "Manifest.plist"
    plist = plistlib.loads(manifest.read_bytes())
    bag = plist["BackupKeyBag"]
    at = bag.index(tag)
    plist["BackupKeyBag"] = bag[:at + 8] + value.to_bytes(4, "big") + bag[at + 12:]
    manifest.write_bytes(plistlib.dumps(plist, fmt=plistlib.FMT_BINARY))
    _fails([str(backup), "--out", str(tmp_path / "a")], 15, "rounds of key derivation",
           tmp_path / "a", {"COLDTEXTS_PASSWORD": PASSWORD})


def test_disk_filling_up_fails_cleanly(tmp_path: Path, backup: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import coldtexts.backup.extract as extract

    def full(*_args: object, **_kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(extract, "decrypt_file", full)
    _fails([str(backup), "--out", str(tmp_path / "a")], 40, "is full", tmp_path / "a",
           {"COLDTEXTS_PASSWORD": PASSWORD})
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("encrypted", [True, False], ids=["encrypted", "unencrypted"])
def test_export_never_modifies_the_backup(tmp_path: Path, encrypted: bool) -> None:
    backup = make_backup(tmp_path, password=PASSWORD if encrypted else None)
    before = tree_hashes(backup)
    entries_before = sorted(p.name for p in backup.rglob("*"))
    code, output = export([str(backup), "--out", str(tmp_path / "a"), "--formats", "txt"],
                          {"COLDTEXTS_PASSWORD": PASSWORD})
    assert code in (0, 3), output
    assert tree_hashes(backup) == before
    assert sorted(p.name for p in backup.rglob("*")) == entries_before  # no -wal, no -shm
    assert leftovers(tmp_path / "a") == []


def test_sigterm_removes_the_staging_folder(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    big = tmp_path / "big.bin"
    with big.open("wb") as out:  # large enough that decrypting it takes a moment
        out.write(os.urandom(1 << 20) * 300)
    files = showcase_files(tmp_path / "work")
    files.append(BackupFile("HomeDomain", "Library/SMS/sms.db-wal", big, 4))
    backup = make_backup(tmp_path, files=files)
    dest = tmp_path / "a"
    env = {**os.environ, "COLDTEXTS_PASSWORD": PASSWORD}
    child = subprocess.Popen([sys.executable, "-m", "coldtexts", "export", str(backup),
                              "--out", str(dest), "--formats", "txt"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(dest.glob(".coldtexts-staging-*/HomeDomain")):
        time.sleep(0.02)
    assert list(dest.glob(".coldtexts-staging-*")), "the export never started decrypting"
    child.send_signal(signal.SIGTERM)
    _out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err.decode()
    assert b"interrupted" in err and b"Traceback" not in err
    assert list(dest.glob(".coldtexts-staging-*")) == [] if dest.exists() else True
    assert leftovers(tmp_path / "a") == []


def test_sample_export_with_the_real_key_derivation(tmp_path: Path) -> None:
    """The README's main job: the sample backup (10,000,000 PBKDF2 rounds) unlocks with the
    README's password; a wrong password fails with its own code."""
    from conftest import REPO_ROOT

    sample = REPO_ROOT / "examples" / "sample-backup"
    secret = password_file(tmp_path, "coldtexts-sample")
    code, output = export([str(sample), "--out", str(tmp_path / "a"), "--password-file",
                           str(secret), "--formats", "txt"])
    assert code == 0, output
    transcript = (tmp_path / "a" / "conversations" / "Mom" / "transcript.txt").read_text()
    assert "Good morning sweetheart!" in transcript
    code, output = export([str(sample), "--out", str(tmp_path / "b"), "--password-file",
                           str(password_file(tmp_path, "Coldtexts-sample"))])
    assert code == 20 and not (tmp_path / "b").exists()


def _lock(monkeypatch: pytest.MonkeyPatch, locked: Path) -> None:
    """Make `locked` unreadable the way macOS does without Full Disk Access (EPERM on
    listing it and on anything inside it); chmod cannot, as tests may run as root."""
    real_stat, real_scandir, real_listdir = os.stat, os.scandir, os.listdir

    def guard(path: object) -> None:
        if str(path) == str(locked) or str(path).startswith(str(locked) + os.sep):
            raise PermissionError(errno.EPERM, "Operation not permitted", str(path))

    def stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        if str(path) != str(locked):  # the folder itself can be stat'ed, not its contents
            guard(path)
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    def scandir(path: object = ".") -> object:
        guard(path)
        return real_scandir(path)  # type: ignore[call-overload]

    def listdir(path: object = ".") -> list[str]:
        guard(path)
        return real_listdir(path)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "listdir", listdir)


def test_a_folder_without_read_access_is_explained(tmp_path: Path, backup: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from coldtexts.errors import NotABackupError

    locked = backup.parent
    _lock(monkeypatch, locked)
    result = CliRunner().invoke(cli, ["backups", "--root", str(locked)])
    assert result.exit_code == 0 and result.exception is None, result.output
    assert f"Cannot read {locked}" in result.output and "Full Disk Access" in result.output
    with pytest.raises(NotABackupError, match="Full Disk Access"):
        inspect_backup(backup)
    _fails([str(backup), "--out", str(tmp_path / "a")], 10, "Full Disk Access", tmp_path / "a")


def _rewrite_first_class_record(bag: bytes, tag: bytes, value: bytes | None) -> bytes:
    """The keybag with `tag` of its first class record replaced by `value` (None: dropped)."""
    records, at = [], 0
    while at + 8 <= len(bag):
        length = int.from_bytes(bag[at + 4:at + 8], "big")
        records.append((bag[at:at + 4], bag[at + 8:at + 8 + length]))
        at += 8 + length
    first_class = [i for i, (t, _v) in enumerate(records) if t == b"UUID"][1]
    index = next(i for i in range(first_class, len(records)) if records[i][0] == tag)
    if value is None:
        del records[index]
    else:
        records[index] = (tag, value)
    return b"".join(t + len(v).to_bytes(4, "big") + v for t, v in records)


@pytest.mark.parametrize("tag, value", [(b"WRAP", None), (b"WRAP", b"\x00\x02"),
                                        (b"WPKY", b"\x00\x00\x00\x01"), (b"WPKY", bytes(39))],
                         ids=["no-wrap", "short-wrap", "int-wpky", "wpky-39-bytes"])
def test_malformed_class_keys_are_reported_as_damage(tmp_path: Path, backup: Path, tag: bytes,
                                                     value: bytes | None) -> None:
    manifest = backup / "Manifest.plist"
    plist = plistlib.loads(manifest.read_bytes())
    plist["BackupKeyBag"] = _rewrite_first_class_record(plist["BackupKeyBag"], tag, value)
    manifest.write_bytes(plistlib.dumps(plist, fmt=plistlib.FMT_BINARY))
    _fails([str(backup), "--out", str(tmp_path / "a")], 12, "keybag", tmp_path / "a",
           {"COLDTEXTS_PASSWORD": PASSWORD})


def test_damaged_plists_are_reported_not_crashed_on(tmp_path: Path, backup: Path) -> None:
    info_plist = backup / "Info.plist"
    info_plist.write_bytes(info_plist.read_bytes().replace(b"<dict>", b"<dict", 1))  # bad XML
    status = backup / "Status.plist"
    status.write_bytes(status.read_bytes()[:12] + b"\xff" * 40)  # a damaged binary plist
    result = CliRunner().invoke(cli, ["backups", "--root", str(backup), "--json"])
    assert result.exit_code == 0 and result.exception is None, result.output
    [entry] = json.loads(result.output)
    assert entry["device_name"] == "Test iPhone"  # from Manifest.plist's Lockdown
    assert entry["state"] == "in progress" and "unreadable" in entry["problem"]
    _fails([str(backup), "--out", str(tmp_path / "a")], 11, "not finished", tmp_path / "a")


def test_manifest_db_schema_damage_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    backup = make_backup(tmp_path, password=None)
    manifest = backup / "Manifest.db"
    data = bytearray(manifest.read_bytes())
    data[data.index(b"ON Files(domain)")] = 0x8A  # SQLite's error quotes this byte back
    manifest.write_bytes(bytes(data))
    _fails([str(backup), "--out", str(tmp_path / "a")], 12, "Manifest.db", tmp_path / "a")


def test_manifest_row_without_a_kind_is_damage(tmp_path: Path) -> None:
    import sqlite3

    backup = make_backup(tmp_path, password=None)
    with sqlite3.connect(backup / "Manifest.db") as db:
        db.execute("UPDATE Files SET flags = NULL WHERE relativePath = 'Library/SMS/sms.db'")
    db.close()
    _fails([str(backup), "--out", str(tmp_path / "a")], 12, "no valid kind", tmp_path / "a")


def test_encrypted_file_without_a_key_is_never_copied_as_plaintext(
        tmp_path: Path, backup: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from coldtexts.errors import BackupCorruptError

    monkeypatch.setenv("COLDTEXTS_PASSWORD", PASSWORD)
    with staging(tmp_path / "d") as folder, open_backup(inspect_backup(backup), FAST,
                                                        folder) as opened:
        record = opened.manifest.lookup("HomeDomain", "Library/SMS/sms.db")
        assert record is not None and record.wrapped_key is not None
        with pytest.raises(BackupCorruptError, match="no file key"):
            opened.extract_record(replace(record, wrapped_key=None), folder, "sms.db")
        assert not list(folder.rglob("sms.db*"))  # neither the file nor its .part


# -- secrets: order, no hang, the derived key saved and reused ------------------------------
def _unlock_with(backup: Path, opts: SecretOptions, stdin: TextIO | None = None) -> Unlocked:
    return unlock(inspect_backup(backup, with_size=False), opts, stdin=stdin)


def test_password_sources_in_order(tmp_path: Path, backup: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from coldtexts.errors import WrongPasswordError

    monkeypatch.setenv("COLDTEXTS_PASSWORD", "wrong one")
    good_file = SecretOptions(password_file=password_file(tmp_path), interactive=False)
    assert _unlock_with(backup, good_file).keybag is not None
    with pytest.raises(WrongPasswordError):  # the environment beats --password-stdin
        _unlock_with(backup, SecretOptions(password_stdin=True, interactive=False),
                     io.StringIO(PASSWORD + "\n"))
    monkeypatch.delenv("COLDTEXTS_PASSWORD")
    assert _unlock_with(backup, SecretOptions(password_stdin=True, interactive=False),
                        io.StringIO(PASSWORD + "\n")).keybag is not None


def test_no_terminal_and_no_stdin_never_prompt(backup: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    from coldtexts.errors import NoPasswordError

    monkeypatch.delenv("COLDTEXTS_PASSWORD", raising=False)
    monkeypatch.setattr("getpass.getpass", lambda *_a: pytest.fail("prompted"))
    with pytest.raises(NoPasswordError, match="--password-file"):
        _unlock_with(backup, SecretOptions(interactive=True), io.StringIO(PASSWORD))
    monkeypatch.setattr(sys, "stdin", None)  # pythonw and some services have no stdin
    with pytest.raises(NoPasswordError, match="--password-file"):
        _unlock_with(backup, SecretOptions(interactive=True))
    with pytest.raises(NoPasswordError, match="standard input was empty"):
        _unlock_with(backup, SecretOptions(password_stdin=True))


def test_derived_key_file_is_saved_private_and_reused(tmp_path: Path, backup: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import coldtexts.backup.keybag as keybag_module
    from coldtexts.errors import InsecurePasswordFileError, NoPasswordError

    key_file = tmp_path / "backup.key"
    with_password = SecretOptions(password_file=password_file(tmp_path), key_file=key_file,
                                  remember_key="file", interactive=False)
    assert "key file" in str(_unlock_with(backup, with_password).remembered)
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert len(bytes.fromhex(key_file.read_text())) == 32

    def no_derivation(*_args: object) -> bytes:
        raise AssertionError("the saved key should have spared the derivation")

    real_derive = keybag_module.derive_key
    monkeypatch.setattr(keybag_module, "derive_key", no_derivation)
    monkeypatch.delenv("COLDTEXTS_PASSWORD", raising=False)
    key_only = SecretOptions(key_file=key_file, interactive=False)
    assert _unlock_with(backup, key_only).keybag is not None
    os.chmod(key_file, 0o644)
    with pytest.raises(InsecurePasswordFileError, match=f"chmod 600 {key_file}"):
        _unlock_with(backup, key_only)
    os.chmod(key_file, 0o600)
    monkeypatch.setattr(keybag_module, "derive_key", real_derive)
    key_file.write_text("00" * 32 + "\n")  # stale (a changed password): falls back
    with pytest.raises(NoPasswordError):
        _unlock_with(backup, SecretOptions(key_file=key_file, interactive=False))
    _unlock_with(backup, with_password)
    assert key_file.read_text() != "00" * 32 + "\n"  # rewritten with the good key


def test_keyring_saved_key_is_tied_to_the_keybag(tmp_path: Path, backup: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.items.pop((service, username), None)

    memory = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(memory)
    try:
        opts = SecretOptions(password_file=password_file(tmp_path), use_keyring=True,
                             remember_key="keyring", interactive=False)
        assert _unlock_with(backup, opts).remembered == "the OS keyring"
        [(service, username)] = memory.items
        assert service == "coldtexts" and UDID in username
        assert PASSWORD not in repr(memory.items)
        # Same device, new backup password (new salts): the old key is not even looked up.
        renewed = make_backup(tmp_path / "renewed", password="a new password", seed=7)
        key_only = SecretOptions(use_keyring=True, interactive=False)
        from coldtexts.errors import NoPasswordError

        with pytest.raises(NoPasswordError):
            _unlock_with(renewed, key_only)
        assert _unlock_with(backup, key_only).keybag is not None
    finally:
        keyring.set_keyring(previous)


def test_writer_stores_every_plist_date_in_utc(tmp_path: Path) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    when = datetime(2026, 7, 4, 21, 15, tzinfo=ZoneInfo("America/New_York"))
    backup = make_backup(tmp_path, files=[], backup_date=when)
    for name in ("Manifest.plist", "Info.plist", "Status.plist"):
        data = plistlib.loads((backup / name).read_bytes())
        stored = data.get("Date") or data["Last Backup Date"]
        assert stored.replace(tzinfo=UTC) == when, name
    assert inspect_backup(backup).last_backup == when


def test_odd_values_in_the_plists_still_list_the_backup(tmp_path: Path, backup: Path) -> None:
    manifest = backup / "Manifest.plist"
    plist = plistlib.loads(manifest.read_bytes())
    plist["Lockdown"] = "not a dictionary"
    manifest.write_bytes(plistlib.dumps(plist, fmt=plistlib.FMT_BINARY))
    info_plist = backup / "Info.plist"
    info = plistlib.loads(info_plist.read_bytes())
    info["Device Name"] = b"\x00bytes"
    info_plist.write_bytes(plistlib.dumps(info))
    result = CliRunner().invoke(cli, ["backups", "--root", str(backup), "--json"])
    assert result.exit_code == 0 and result.exception is None, result.output
    [entry] = json.loads(result.output)
    assert entry["device_name"] is None and entry["udid"] == UDID  # from Info.plist
    assert entry["model"] == "iPhone15,2" and entry["state"] == "complete"


def test_a_backup_from_ios_9_or_earlier_is_named_as_such(tmp_path: Path, backup: Path) -> None:
    (backup / "Manifest.db").rename(backup / "Manifest.mbdb")
    _fails([str(backup), "--out", str(tmp_path / "a")], 11, "iOS 9 or earlier", tmp_path / "a")


def test_every_file_decrypts_identically_with_all_three_readers(tmp_path: Path) -> None:
    """Fidelity of the writer and of our reader: iphone-backup-decrypt's extract_files,
    iOSbackup and coldtexts agree on every regular file, byte for byte, including an empty
    file, a one-block file, sizes around the read chunk, and a non-ASCII name."""
    from iOSbackup import iOSbackup
    from iphone_backup_decrypt import EncryptedBackup

    from coldtexts.backup.crypto import CHUNK

    odd = [b"", b"x" * 16, os.urandom(CHUNK - 1), os.urandom(CHUNK), os.urandom(2 * CHUNK + 17)]
    files = showcase_files(tmp_path / "work") + [
        BackupFile("MediaDomain", f"Library/SMS/Attachments/ee/01/G/file-{i}.bin", data)
        for i, data in enumerate(odd)] + [
        BackupFile("MediaDomain", "Library/SMS/Attachments/ee/02/G/Café 📷.heic", b"photo")]
    backup = make_backup(tmp_path, files=files)
    expected = {(f.domain, f.relative_path): f.data if isinstance(f.data, bytes)
                else f.data.read_bytes() for f in files}

    ours: dict[tuple[str, str], bytes] = {}
    with staging(tmp_path / "ours") as folder, open_backup(
            inspect_backup(backup), SecretOptions(password_file=password_file(tmp_path),
                                                  interactive=False), folder) as opened:
        for domain in ("HomeDomain", "MediaDomain"):
            for record in opened.manifest.files_under(domain, ""):
                got = opened.extract_record(record, folder, record.relative_path)
                ours[(domain, record.relative_path)] = got.path.read_bytes()
    assert ours == expected

    EncryptedBackup(backup_directory=str(backup), passphrase=PASSWORD).extract_files(
        relative_paths_like="%", output_folder=str(tmp_path / "ibd"), preserve_folders=True,
        domain_subfolders=True)
    assert {(d, r): (tmp_path / "ibd" / d / r).read_bytes() for d, r in expected} == expected

    other = iOSbackup(udid=UDID, cleartextpassword=PASSWORD, backuproot=str(backup.parent))
    theirs = {}
    for index, entry in enumerate(other.getBackupFilesList()):
        if entry["flags"] == 1:
            (tmp_path / "ios").mkdir(exist_ok=True)
            found = other.getFileManifestDBEntry(fileNameHash=entry["fileID"])
            copy = other.getFileDecryptedCopy(manifestEntry=found, targetName=f"f{index}",
                                              targetFolder=str(tmp_path / "ios"))
            theirs[(entry["domain"], entry["relativePath"])] = Path(
                copy["decryptedFilePath"]).read_bytes()
    assert theirs == expected


def test_device_style_zero_byte_ciphertext_is_an_empty_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLDTEXTS_PASSWORD", PASSWORD)
    relative = "Library/SMS/Attachments/aa/00/G/empty.txt"
    backup = make_backup(tmp_path, files=[BackupFile("MediaDomain", relative, b"")])
    fid = file_id("MediaDomain", relative)
    (backup / fid[:2] / fid).write_bytes(b"")  # what devices write (the writer pads instead)
    with staging(tmp_path / "d") as folder, open_backup(inspect_backup(backup), FAST,
                                                        folder) as opened:
        [got] = opened.extract_attachments(["~/" + relative])
        assert isinstance(got, ExtractedFile) and got.size == 0
        assert got.path.read_bytes() == b"" and got.sha256 == hashlib.sha256(b"").hexdigest()


def test_key_derivation_matches_hashcats_itunes_backup_vector() -> None:
    """hashcat's self-test hash for mode 14800 (iTunes backup >= 10.0), an independent
    known answer for PBKDF2-SHA256 then PBKDF2-SHA1 and the RFC 3394 unwrap."""
    from coldtexts.backup import keybag as kb
    from coldtexts.errors import WrongPasswordError

    def tlv(tag: bytes, value: bytes) -> bytes:
        return tag + len(value).to_bytes(4, "big") + value

    def u32(tag: bytes, value: int) -> bytes:
        return tlv(tag, value.to_bytes(4, "big"))

    wpky = bytes.fromhex("17a3b858e79bc273be43a9f113b71efe7ec8e7e401396b350180b4592ef45db6"
                         "7ffef7b2d64329a5")
    bag = (u32(b"VERS", 5) + u32(b"TYPE", 1) + tlv(b"UUID", bytes(16)) + u32(b"WRAP", 0)
           + tlv(b"SALT", bytes.fromhex("2721336781705041205314422175267631184867"))
           + u32(b"ITER", 10000) + u32(b"DPWT", 1) + u32(b"DPIC", 1000)
           + tlv(b"DPSL", bytes.fromhex("99fafc983e732998adb9fadc162a2e382143f115"))
           + tlv(b"UUID", bytes(range(16))) + u32(b"CLAS", 1) + u32(b"WRAP", 2)
           + u32(b"KTYP", 0) + tlv(b"WPKY", wpky))
    derivation = kb.derivation_of(kb.parse_keybag(bag))
    assert (derivation.dpic, derivation.iterations) == (1000, 10000)
    kb.unlock(kb.parse_keybag(bag), kb.derive_key("hashcat", derivation))
    with pytest.raises(WrongPasswordError):
        kb.unlock(kb.parse_keybag(bag), kb.derive_key("wrong", derivation))


@pytest.mark.parametrize("where", ["staging folder", "file's folder"])
def test_disk_full_while_making_folders_fails_cleanly(tmp_path: Path, backup: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      where: str) -> None:
    import tempfile

    import coldtexts.backup.extract as extract

    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*args: object, **kwargs: object) -> str:
        if kwargs.get("prefix") == extract.STAGING_PREFIX:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_mkdtemp(*args, **kwargs)  # type: ignore[call-overload,no-any-return]

    def make_private_dir(path: Path) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "staging folder":
        monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    else:
        monkeypatch.setattr(extract, "make_private_dir", make_private_dir)
    _fails([str(backup), "--out", str(tmp_path / "a")], 40, "is full", tmp_path / "a",
           {"COLDTEXTS_PASSWORD": PASSWORD})
    assert not (tmp_path / "a").exists()


def test_disk_space_is_checked_before_decrypting_attachments(
        tmp_path: Path, backup: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-flight check: the attachments' size from the manifest against free space."""
    from collections import namedtuple

    import coldtexts.pipeline as pipeline

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(pipeline.shutil, "disk_usage",
                        lambda _path: usage(10**12, 10**12 - 1000, 1000))
    code, output = export([str(backup), "--out", str(tmp_path / "a"), "--formats", "txt"],
                          {"COLDTEXTS_PASSWORD": PASSWORD})
    assert code == 40, output
    assert "GB free but this run needs about" in output
    assert not (tmp_path / "a").exists()  # a first run that failed leaves nothing


def test_photo_previews_are_made_only_for_formats_that_show_them(tmp_path: Path,
                                                                 backup: Path) -> None:
    archive = tmp_path / "a"
    env = {"COLDTEXTS_PASSWORD": PASSWORD}
    code, output = export([str(backup), "--out", str(archive), "--formats", "txt,jsonl"], env)
    assert code in (0, 3), output
    assert list((archive / "attachments").rglob("*.heic"))  # originals are kept anyway
    assert not [p for p in (archive / "previews").rglob("*") if p.is_file()]
    code, output = export([str(backup), "--out", str(archive), "--formats", "html"], env)
    assert code in (0, 3), output
    # The showcase's photos are not real images: each attempt leaves a `.failed` mark.
    assert len([p for p in (archive / "previews").rglob("*") if p.is_file()]) >= 4
