"""Backup-stage benchmark: unlock cost, decryption throughput, memory for a huge file.

    .venv/bin/python benchmarks/bench_backup.py [--gigabytes 1.0] [--big-gigabytes 2.0]

1. Unlock: coldtexts' full unlock of a keybag with the real 10,000,000 PBKDF2-SHA256 rounds
   (derivation + 11 class-key unwraps) against the bare PBKDF2 in hashlib and in
   cryptography, each in its own process.
2. Decryption: the same ~1 GB attachment set (a backup written by the project's writer)
   decrypted by coldtexts and by iphone-backup-decrypt's `extract_files`, alternately,
   three times each, from the page cache; MB/s and the ratio.
3. Memory: peak RSS of one process extracting a single 2 GB file.
Results print as a markdown table; the backups are made in a temporary folder and removed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from _common import machine_info, run_isolated

PASSWORD = "bench-password"
FILE_MB = 4
REAL_DPIC = 10_000_000


# -- stages (run in fresh processes through run_isolated) -----------------------------------
def unlock_coldtexts(backup: str) -> dict[str, Any]:
    from coldtexts.backup.extract import unlock
    from coldtexts.backup.locate import inspect_backup
    from coldtexts.options import SecretOptions

    os.environ["COLDTEXTS_PASSWORD"] = PASSWORD
    unlocked = unlock(inspect_backup(Path(backup), with_size=False),
                      SecretOptions(interactive=False))
    return {"classes": len(unlocked.keybag.classes_keys) if unlocked.keybag else 0}


def pbkdf2_hashlib() -> dict[str, Any]:
    hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), b"s" * 20, REAL_DPIC, 32)
    return {}


def pbkdf2_cryptography() -> dict[str, Any]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    PBKDF2HMAC(hashes.SHA256(), 32, b"s" * 20, REAL_DPIC).derive(PASSWORD.encode())
    return {}


def pbkdf2_pycryptodome() -> dict[str, Any]:
    from Crypto.Hash import SHA256
    from Crypto.Protocol.KDF import PBKDF2

    PBKDF2(PASSWORD.encode(), b"s" * 20, 32, REAL_DPIC, hmac_hash_module=SHA256)
    return {}


def decrypt_coldtexts(backup: str, out: str, key_file: str) -> dict[str, Any]:
    """Decryption only: unlocked with the saved derived key, as a monthly job can be."""
    from coldtexts.backup.extract import MEDIA, ExtractedFile, open_backup, staging
    from coldtexts.backup.locate import inspect_backup
    from coldtexts.options import SecretOptions

    info = inspect_backup(Path(backup), with_size=False)
    total = 0
    secrets = SecretOptions(key_file=Path(key_file), interactive=False)
    with staging(Path(out)) as folder, open_backup(info, secrets, folder) as opened:
        paths = ["~/" + r.relative_path
                 for r in opened.manifest.files_under(MEDIA, "Library/SMS/Attachments/")]
        for item in opened.extract_attachments(paths, folder):
            assert isinstance(item, ExtractedFile)
            total += item.size
    return {"bytes": total}


def decrypt_peer(backup: str, out: str, key_file: str) -> dict[str, Any]:
    """iphone-backup-decrypt given the same derived key: decryption only."""
    from iphone_backup_decrypt import EncryptedBackup

    key = bytes.fromhex(Path(key_file).read_text().strip())
    peer = EncryptedBackup(backup_directory=backup, passphrase_key=key)
    peer.test_decryption()
    target = Path(out) / "peer"
    count = peer.extract_files(relative_paths_like="Library/SMS/Attachments/%",
                               output_folder=str(target))
    total = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    shutil.rmtree(target)
    return {"bytes": total, "files": count}


def extract_one(backup: str, out: str, relative: str) -> dict[str, Any]:
    from coldtexts.backup.extract import open_backup, staging
    from coldtexts.backup.locate import inspect_backup
    from coldtexts.options import SecretOptions

    os.environ["COLDTEXTS_PASSWORD"] = PASSWORD
    info = inspect_backup(Path(backup), with_size=False)
    with staging(Path(out)) as folder, open_backup(info, SecretOptions(interactive=False),
                                                   folder) as opened:
        [item] = list(opened.extract_attachments(["~/" + relative], folder))
        return {"bytes": getattr(item, "size", 0)}


# -- building the backups ----------------------------------------------------------------
def _attachment_backup(root: Path, gigabytes: float, *, dpic: int) -> Path:
    from coldtexts.fixtures.backup_writer import BackupFile, write_backup

    chunk = os.urandom(FILE_MB * 1024 * 1024)
    count = max(1, int(gigabytes * 1024 / FILE_MB))
    # A generator: the files never sit in this process's memory together. Linux keeps a
    # process's peak RSS across fork and exec, so a big parent would inflate every
    # stage's figure.
    files = (BackupFile("MediaDomain", f"Library/SMS/Attachments/{i % 256:02x}/00/G{i}/IMG_{i}.JPG",
                        hashlib.sha256(str(i).encode()).digest() + chunk, 3)
             for i in range(count))
    return write_backup(root / "attachments", files, password=PASSWORD, dpic=dpic)


def _big_file_backup(root: Path, gigabytes: float) -> tuple[Path, str]:
    from coldtexts.fixtures.backup_writer import BackupFile, write_backup

    big = root / "big.mov"
    block = os.urandom(8 * 1024 * 1024)
    with big.open("wb") as out:
        for _ in range(int(gigabytes * 1024 / 8)):
            out.write(block)
    relative = "Library/SMS/Attachments/aa/00/BIG/IMG_0001.MOV"
    backup = write_backup(root / "big", [BackupFile("MediaDomain", relative, big, 3)],
                          password=PASSWORD, dpic=1000)
    big.unlink()
    return backup, relative


def _derived_key(backup: Path) -> bytes:
    import plistlib

    from coldtexts.backup import keybag

    plist = plistlib.loads((backup / "Manifest.plist").read_bytes())
    bag = keybag.parse_keybag(plist["BackupKeyBag"])
    return keybag.derive_key(PASSWORD, keybag.derivation_of(bag))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--big-gigabytes", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    facts = machine_info()
    print(f"Machine: {facts.get('cpu')}, {facts.get('cores')} cores, "
          f"Python {facts.get('python')}, {facts.get('openssl')}")
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent / "work"
                                     if (Path(__file__).parent / "work").is_dir() else None) as t:
        root = Path(t)
        rows: list[str] = []
        backup = _attachment_backup(root, args.gigabytes, dpic=REAL_DPIC)
        ours = run_isolated("bench_backup:unlock_coldtexts", {"backup": str(backup)})
        bare = run_isolated("bench_backup:pbkdf2_hashlib", {})
        crypto = run_isolated("bench_backup:pbkdf2_cryptography", {})
        dome = run_isolated("bench_backup:pbkdf2_pycryptodome", {})
        rows.append(f"| unlock (10,000,000 rounds + unwraps) | {ours.seconds:.2f} s | "
                    f"hashlib PBKDF2 alone {bare.seconds:.2f} s, "
                    f"cryptography {crypto.seconds:.2f} s, pycryptodome {dome.seconds:.2f} s"
                    f" | {ours.seconds / min(bare.seconds, crypto.seconds, dome.seconds):.2f}x"
                    " of the fastest |")
        key_file = root / "derived.key"
        key_file.write_text(_derived_key(backup).hex())
        key_file.chmod(0o600)
        stage_args = {"backup": str(backup), "out": str(root), "key_file": str(key_file)}
        ratios, ours_rates, peer_rates = [], [], []
        for _ in range(args.rounds):
            a = run_isolated("bench_backup:decrypt_coldtexts", stage_args)
            b = run_isolated("bench_backup:decrypt_peer", stage_args)
            mb = a.result["bytes"] / 1e6
            ours_rates.append(mb / a.seconds)
            peer_rates.append(b.result["bytes"] / 1e6 / b.seconds)
            ratios.append(b.seconds / a.seconds)
        rows.append(f"| decrypt {a.result['bytes'] / 1e9:.2f} GB of attachments | "
                    f"{statistics.median(ours_rates):.0f} MB/s (peak RSS {a.peak_rss_mb:.0f} MB) | "
                    f"iphone-backup-decrypt extract_files {statistics.median(peer_rates):.0f} MB/s "
                    f"(peak RSS {b.peak_rss_mb:.0f} MB) | "
                    f"{statistics.median(ratios):.2f}x faster (median of {args.rounds}) |")
        shutil.rmtree(backup)
        big, relative = _big_file_backup(root, args.big_gigabytes)
        one = run_isolated("bench_backup:extract_one", {"backup": str(big), "out": str(root),
                                                        "relative": relative})
        rows.append(f"| one {one.result['bytes'] / 1e9:.1f} GB file | "
                    f"{one.result['bytes'] / 1e6 / one.seconds:.0f} MB/s | peak RSS "
                    f"{one.peak_rss_mb:.0f} MB | target < 200 MB |")
    print("| stage | coldtexts | alternative | ratio |\n|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
