"""Stage functions for benchmarks/run.py, each run in its own process by _common.run_isolated.

Each returns a dict; "seconds", when present, is the timed part only (setup such as
imports or opening a backup with an already-derived key is excluded, and said so).
The alternatives users would pick instead (iphone-backup-decrypt, iOSbackup, hashlib,
pycryptodome, cryptography, pytypedstream, plain WeasyPrint) are measured here on the
same backup as coldtexts, in the same run.
"""

from __future__ import annotations

import hashlib
import json
import plistlib
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

# --- key derivation -------------------------------------------------------------------


def keybag_parameters(backup_dir: str) -> dict[str, Any]:
    """DPSL/DPIC/SALT/ITER from Manifest.plist's keybag (benchmark-side TLV walk)."""
    manifest = plistlib.loads((Path(backup_dir) / "Manifest.plist").read_bytes())
    blob: bytes = manifest["BackupKeyBag"]
    found: dict[str, bytes] = {}
    i = 0
    while i + 8 <= len(blob):
        tag = blob[i:i + 4].decode("latin-1")
        length = int.from_bytes(blob[i + 4:i + 8], "big")
        if tag in ("DPSL", "DPIC", "SALT", "ITER") and tag not in found:
            found[tag] = blob[i + 8:i + 8 + length]
        i += 8 + length
    return {"dpsl": found["DPSL"].hex(), "dpic": int.from_bytes(found["DPIC"], "big"),
            "salt": found["SALT"].hex(), "iterations": int.from_bytes(found["ITER"], "big")}


def kdf_hashlib(password: str, dpsl: str, dpic: int, salt: str,
                iterations: int) -> dict[str, Any]:
    start = time.perf_counter()
    first = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(dpsl), dpic, 32)
    key = hashlib.pbkdf2_hmac("sha1", first, bytes.fromhex(salt), iterations, 32)
    return {"seconds": time.perf_counter() - start, "key": key.hex()}


def kdf_pycryptodome(password: str, dpsl: str, dpic: int, salt: str,
                     iterations: int) -> dict[str, Any]:
    from Crypto.Hash import SHA1, SHA256
    from Crypto.Protocol.KDF import PBKDF2

    start = time.perf_counter()
    first = PBKDF2(password.encode(), bytes.fromhex(dpsl), 32, count=dpic, hmac_hash_module=SHA256)
    key = PBKDF2(first, bytes.fromhex(salt), 32, count=iterations, hmac_hash_module=SHA1)
    return {"seconds": time.perf_counter() - start, "key": key.hex()}


def kdf_cryptography(password: str, dpsl: str, dpic: int, salt: str,
                     iterations: int) -> dict[str, Any]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    start = time.perf_counter()
    first = PBKDF2HMAC(hashes.SHA256(), 32, bytes.fromhex(dpsl), dpic).derive(password.encode())
    key = PBKDF2HMAC(hashes.SHA1(), 32, bytes.fromhex(salt), iterations).derive(first)
    return {"seconds": time.perf_counter() - start, "key": key.hex()}


# --- decryption: the alternatives -----------------------------------------------------


def _tree_bytes(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def decrypt_iphone_backup_decrypt(backup_dir: str, key: str, out_dir: str) -> dict[str, Any]:
    """extract_files of everything Messages needs, after unlocking with the derived key."""
    from iphone_backup_decrypt import EncryptedBackup

    out = Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    backup = EncryptedBackup(backup_directory=backup_dir, passphrase_key=bytes.fromhex(key))
    backup.test_decryption()  # unlock + Manifest.db decryption: not timed (no PBKDF2 here)
    start = time.perf_counter()
    backup.extract_files(relative_paths_like="Library/SMS/%", output_folder=str(out),
                         preserve_folders=True, domain_subfolders=True)
    backup.extract_files(relative_paths_like="Library/AddressBook/%", output_folder=str(out),
                         preserve_folders=True, domain_subfolders=True)
    seconds = time.perf_counter() - start
    files, size = _tree_bytes(out)
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": seconds, "files": files, "bytes": size}


def decrypt_iosbackup(backup_dir: str, key: str, out_dir: str) -> dict[str, Any]:
    """iOSbackup.getFolderDecryptedCopy of the same folders, after unlocking with the key."""
    from iOSbackup import iOSbackup

    out = Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    folder = Path(backup_dir)
    backup = iOSbackup(udid=folder.name, derivedkey=key, backuproot=str(folder.parent))
    start = time.perf_counter()
    backup.getFolderDecryptedCopy(relativePath="Library/SMS", targetFolder=str(out),
                                  includeDomains=["HomeDomain", "MediaDomain"])
    backup.getFolderDecryptedCopy(relativePath="Library/AddressBook", targetFolder=str(out),
                                  includeDomains=["HomeDomain"])
    seconds = time.perf_counter() - start
    files, size = _tree_bytes(out)
    backup.close()
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": seconds, "files": files, "bytes": size}


# --- attributedBody decoding ----------------------------------------------------------


def _attributed_bodies(sms_db: str, limit: int) -> list[bytes]:
    uri = Path(sms_db).resolve().as_uri() + "?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        rows = db.execute("SELECT attributedBody FROM message WHERE attributedBody IS NOT NULL "
                          "ORDER BY ROWID LIMIT ?", (limit,)).fetchall()
    return [bytes(r[0]) for r in rows]


def typedstream_pytypedstream(sms_db: str, limit: int) -> dict[str, Any]:
    import typedstream

    blobs = _attributed_bodies(sms_db, limit)
    start = time.perf_counter()
    for blob in blobs:
        typedstream.unarchive_from_data(blob)
    return {"seconds": time.perf_counter() - start, "items": len(blobs)}


def typedstream_coldtexts(sms_db: str, limit: int, use_cache: bool = True) -> dict[str, Any]:
    """coldtexts' decoder on the same blobs from an empty cache; use_cache=False turns its
    run cache off (every body fully parsed), as bench_typedstream.py's "cold" line."""
    from coldtexts.messages import typedstream as ours

    blobs = _attributed_bodies(sms_db, limit)
    ours.cache_enabled = use_cache
    ours.clear_cache()
    start = time.perf_counter()
    for blob in blobs:
        ours.decode_attributed_body(blob)
    return {"seconds": time.perf_counter() - start, "items": len(blobs)}


# --- workload generation --------------------------------------------------------------


def generate(out_dir: str, messages: int, seed: int, dpic: int, photo_megapixels: float,
             cache_dir: str, attachment_ratio: float,
             extra_in_largest: int = 0) -> dict[str, Any]:
    from coldtexts.fixtures.workload import generate_workload

    info = generate_workload(Path(out_dir), messages=messages, seed=seed, dpic=dpic,
                             photo_megapixels=photo_megapixels, cache_dir=Path(cache_dir),
                             attachment_ratio=attachment_ratio, keep_plain=True,
                             extra_in_largest=extra_in_largest)
    return info.as_json()


# --- the coldtexts pipeline, through its command line -----------------------------------


def export_cli(backup_dir: str, password_file: str, archive: str,
               extra_args: list[str] | None = None, timeout: float = 3600) -> dict[str, Any]:
    """`coldtexts export` as a user runs it; returns its exit code and newest run report.

    It runs in its own process group so that, past `timeout`, it is stopped together with
    its worker processes instead of hanging the whole benchmark."""
    import os
    import signal
    import subprocess
    import sys

    command = [sys.executable, "-m", "coldtexts", "export", backup_dir, "--out", archive,
               "--password-file", password_file, "--no-input", "--quiet", *(extra_args or [])]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate()
        raise RuntimeError(f"coldtexts export did not finish within {timeout:.0f} s") from None
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"coldtexts export exited {process.returncode}: "
                           f"{stderr.strip()[-500:]}")
    reports = sorted((Path(archive) / "reports").glob("*.json"),
                     key=lambda p: p.stat().st_mtime)
    report = json.loads(reports[-1].read_text()) if reports else {}
    return {"seconds": seconds, "report": report}


def weasyprint_plain(html_files: list[str]) -> dict[str, Any]:
    """A plain single-process WeasyPrint render of the given HTML pages, as a user of
    WeasyPrint alone would run it (default URL fetcher, no image pre-scaling)."""
    import weasyprint

    start = time.perf_counter()
    pages = 0
    for html in html_files:
        document = weasyprint.HTML(filename=html).render()
        pages += len(document.pages)
        document.write_pdf()
    return {"seconds": time.perf_counter() - start, "pages": pages}


def read_and_ingest(sms_db: str, archive_dir: str, parallel: bool = True) -> dict[str, Any]:
    """sms.db read by the reader and streamed into a new archive store (no attachment
    files, no rendering): the library's read + ingest path, without the CLI.
    `parallel=False` reads in one process (as before reader_parallel)."""
    from datetime import UTC, datetime

    from coldtexts.archive import Archive, SourceInfo
    from coldtexts.messages.reader import SmsDatabase

    root = Path(archive_dir)
    shutil.rmtree(root, ignore_errors=True)
    start = time.perf_counter()
    with SmsDatabase.open(Path(sms_db)) as db, Archive.open(root) as archive:
        info = SourceInfo("BENCH-WORKLOAD", "Bench iPhone", "iPhone15,2", "18.5",
                          datetime(2026, 6, 30, 21, tzinfo=UTC))
        stats = archive.ingest(archive.begin_source(info), list(db.conversations()),
                               db.messages(parallel=parallel), db.reactions())
        archive.finish_run("success", {"new": stats.messages_new})
    seconds = time.perf_counter() - start
    shutil.rmtree(root, ignore_errors=True)
    return {"seconds": seconds, "messages": stats.messages_new}


def unlock_coldtexts(backup_dir: str, password: str) -> dict[str, Any]:
    """coldtexts' unlock: keybag parsed, key derived, class keys unwrapped."""
    from coldtexts.backup.keybag import derivation_of, derive_key, parse_keybag, unlock

    start = time.perf_counter()
    manifest = plistlib.loads((Path(backup_dir) / "Manifest.plist").read_bytes())
    keybag = parse_keybag(manifest["BackupKeyBag"])
    key = derive_key(password, derivation_of(keybag))
    unlock(keybag, key)
    return {"seconds": time.perf_counter() - start, "key": key.hex()}


def decrypt_coldtexts(backup_dir: str, password_file: str, sms_db: str,
                      out_dir: str) -> dict[str, Any]:
    """coldtexts' extraction of sms.db, AddressBook and every attachment the database
    names, after opening the backup (the open, with its key derivation, is not timed)."""
    from coldtexts.backup.extract import ExtractedFile, open_backup, staging
    from coldtexts.backup.locate import inspect_backup
    from coldtexts.options import SecretOptions

    uri = Path(sms_db).resolve().as_uri() + "?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        device_paths = [r[0] for r in db.execute(
            "SELECT filename FROM attachment WHERE filename IS NOT NULL ORDER BY ROWID")]
    info = inspect_backup(Path(backup_dir), with_size=False)
    secrets = SecretOptions(password_file=Path(password_file), interactive=False)
    shutil.rmtree(out_dir, ignore_errors=True)
    files = size = 0
    with staging(Path(out_dir)) as folder, open_backup(info, secrets, folder) as backup:
        start = time.perf_counter()
        extracted = backup.extract_messages()
        for path in (extracted.sms_db, extracted.address_book):
            if path is not None:
                files, size = files + 1, size + path.stat().st_size
        for item in backup.extract_attachments(device_paths):
            if isinstance(item, ExtractedFile):
                files, size = files + 1, size + item.size
        seconds = time.perf_counter() - start
    shutil.rmtree(out_dir, ignore_errors=True)
    return {"seconds": seconds, "files": files, "bytes": size}
