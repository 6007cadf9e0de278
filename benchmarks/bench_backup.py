"""Backup-stage benchmark: unlock cost, decryption throughput, memory for a huge file.

    .venv/bin/python benchmarks/bench_backup.py [--gigabytes 1.0] [--big-gigabytes 2.0]
        [--baseline /path/to/other/checkout/src] [--skip-unlock]

1. Unlock: coldtexts' full unlock of a keybag with the real 10,000,000 PBKDF2-SHA256 rounds
   (derivation + 11 class-key unwraps) against the bare PBKDF2 in hashlib and in
   cryptography, each in its own process.
2. Decryption: the same ~1 GB attachment set (a backup written by the project's writer)
   decrypted by coldtexts and by iphone-backup-decrypt's `extract_files`, alternately,
   three times each, from the page cache; MB/s and the ratio. With --baseline, another
   checkout's coldtexts (e.g. the commit before a change) takes its turn in the same
   alternation, and the single big file is extracted by both.
3. Memory: peak RSS of one process extracting a single 2 GB file.
Results print as a markdown table; the backups are made in a temporary folder and removed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine_info, run_isolated

PASSWORD = "bench-password"
FILE_MB = 4
REAL_DPIC = 10_000_000


# -- stages (run in fresh processes through run_isolated) -----------------------------------
def _cpu_seconds() -> float:
    """User + system time of this process, all threads: what a stage cost the machine,
    which the shared machine's load does not change the way it changes the wall clock."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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


def decrypt_coldtexts(backup: str, out: str, key_file: str,
                      src: str | None = None) -> dict[str, Any]:
    """Decryption only: unlocked with the saved derived key, as a monthly job can be.
    `src` runs another checkout's coldtexts (--baseline: old and new in one run)."""
    if src:
        sys.path.insert(0, src)
    from coldtexts.backup.extract import MEDIA, ExtractedFile, open_backup, staging
    from coldtexts.backup.locate import inspect_backup
    from coldtexts.options import SecretOptions

    started = _cpu_seconds()
    info = inspect_backup(Path(backup), with_size=False)
    total = 0
    secrets = SecretOptions(key_file=Path(key_file), interactive=False)
    with staging(Path(out)) as folder, open_backup(info, secrets, folder) as opened:
        paths = ["~/" + r.relative_path
                 for r in opened.manifest.files_under(MEDIA, "Library/SMS/Attachments/")]
        for item in opened.extract_attachments(paths, folder):
            assert isinstance(item, ExtractedFile)
            total += item.size
    return {"bytes": total, "cpu": _cpu_seconds() - started}


def decrypt_peer(backup: str, out: str, key_file: str) -> dict[str, Any]:
    """iphone-backup-decrypt given the same derived key: decryption only."""
    started = _cpu_seconds()
    from iphone_backup_decrypt import EncryptedBackup

    key = bytes.fromhex(Path(key_file).read_text().strip())
    peer = EncryptedBackup(backup_directory=backup, passphrase_key=key)
    peer.test_decryption()
    target = Path(out) / "peer"
    count = peer.extract_files(relative_paths_like="Library/SMS/Attachments/%",
                               output_folder=str(target))
    total = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    shutil.rmtree(target)
    return {"bytes": total, "files": count, "cpu": _cpu_seconds() - started}


def raw_parts(backup: str, out: str) -> dict[str, Any]:
    """The floor: each unavoidable piece of decrypting the attachment set, timed alone on
    one thread with no Python per file in between: read every content file (page cache),
    AES-256-CBC and SHA-256 over as many bytes, and write as many bytes as new files."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    sources = [p for p in Path(backup).glob("*/*") if p.stat().st_size > 64 * 1024]
    buffer = bytearray(1 << 20)
    plain = bytearray(len(buffer) + 16)
    parts: dict[str, float] = {}
    start = time.perf_counter()
    total = 0
    for path in sources:
        with path.open("rb", buffering=0) as handle:
            while got := handle.readinto(buffer):
                total += got
    parts["read"] = time.perf_counter() - start
    chunks = total // len(buffer)
    decryptor = Cipher(algorithms.AES(bytes(32)), modes.CBC(bytes(16))).decryptor()
    start = time.perf_counter()
    for _ in range(chunks):
        decryptor.update_into(buffer, plain)
    parts["aes"] = time.perf_counter() - start
    digest = hashlib.sha256()
    start = time.perf_counter()
    for _ in range(chunks):
        digest.update(buffer)
    parts["sha256"] = time.perf_counter() - start
    folder = Path(out) / "raw-writes"
    folder.mkdir()
    per_file = max(1, chunks // len(sources))
    start = time.perf_counter()
    for index in range(len(sources)):
        with (folder / str(index)).open("wb") as handle:
            for _ in range(per_file):
                handle.write(buffer)
    parts["write"] = time.perf_counter() - start
    shutil.rmtree(folder)
    return {"bytes": total, "seconds": sum(parts.values()), **parts}


def extract_one(backup: str, out: str, relative: str,
                src: str | None = None) -> dict[str, Any]:
    if src:
        sys.path.insert(0, src)
    from coldtexts.backup.extract import open_backup, staging
    from coldtexts.backup.locate import inspect_backup
    from coldtexts.options import SecretOptions

    started = _cpu_seconds()
    os.environ["COLDTEXTS_PASSWORD"] = PASSWORD
    info = inspect_backup(Path(backup), with_size=False)
    with staging(Path(out)) as folder, open_backup(info, SecretOptions(interactive=False),
                                                   folder) as opened:
        [item] = list(opened.extract_attachments(["~/" + relative], folder))
    return {"bytes": getattr(item, "size", 0), "cpu": _cpu_seconds() - started}


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


def _unlock_row(backup: Path) -> str:
    ours = run_isolated("bench_backup:unlock_coldtexts", {"backup": str(backup)})
    bare = run_isolated("bench_backup:pbkdf2_hashlib", {})
    crypto = run_isolated("bench_backup:pbkdf2_cryptography", {})
    dome = run_isolated("bench_backup:pbkdf2_pycryptodome", {})
    return (f"| unlock (10,000,000 rounds + unwraps) | {ours.seconds:.2f} s | "
            f"hashlib PBKDF2 alone {bare.seconds:.2f} s, "
            f"cryptography {crypto.seconds:.2f} s, pycryptodome {dome.seconds:.2f} s"
            f" | {ours.seconds / min(bare.seconds, crypto.seconds, dome.seconds):.2f}x"
            " of the fastest |")


def _decrypt_rows(stage_args: dict[str, Any], rounds: int, baseline: str | None) -> list[str]:
    """Every contender once per round, in turn (the machine's load drifts), medians."""
    contenders = [("coldtexts", "bench_backup:decrypt_coldtexts", stage_args)]
    if baseline:
        contenders.append(("coldtexts before", "bench_backup:decrypt_coldtexts",
                           {**stage_args, "src": baseline}))
    contenders.append(("iphone-backup-decrypt extract_files", "bench_backup:decrypt_peer",
                       stage_args))
    floors: list[dict[str, float]] = []
    seconds: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    peak: dict[str, float] = {}
    size = 0
    for _ in range(rounds):
        for name, target, kwargs in contenders:
            measured = run_isolated(target, kwargs)
            seconds[name].append(measured.seconds)
            cpu[name].append(measured.result["cpu"])
            peak[name] = max(peak.get(name, 0.0), measured.peak_rss_mb)
            size = measured.result["bytes"]
        floors.append(run_isolated("bench_backup:raw_parts", {
            "backup": stage_args["backup"], "out": stage_args["out"]}).result)
    ours = statistics.median(seconds["coldtexts"])
    rows = [_floor_row(floors, size)]
    for name, _, _ in contenders:
        median = statistics.median(seconds[name])
        ratios = [theirs / mine for theirs, mine in zip(seconds[name], seconds["coldtexts"],
                                                        strict=True)]
        rows.append(f"| decrypt {size / 1e9:.2f} GB of attachments, {name} | "
                    f"{size / 1e6 / median:.0f} MB/s ({statistics.median(cpu[name]):.1f} CPU-s,"
                    f" peak RSS {peak[name]:.0f} MB) | "
                    f"runs: {', '.join(f'{size / 1e6 / s:.0f}' for s in seconds[name])} MB/s | "
                    + ("" if median == ours else
                       f"coldtexts {statistics.median(ratios):.2f}x faster") + " |")
    return rows


def _floor_row(floors: list[dict[str, float]], size: int) -> str:
    """What the pieces alone cost (medians over the rounds), and the best two fully used
    cores could do with them: half their sum, or the largest piece if it is bigger."""
    names = ("read", "aes", "sha256", "write")
    median = {name: statistics.median(floor[name] for floor in floors) for name in names}
    best = max(sum(median.values()) / 2, max(median.values()))
    pieces = ", ".join(f"{name} {size / 1e6 / median[name]:.0f} MB/s" for name in names)
    return (f"| the pieces alone, one thread each | {pieces} | serial "
            f"{size / 1e6 / sum(median.values()):.0f} MB/s; 2 cores fully used at best "
            f"{size / 1e6 / best:.0f} MB/s | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--big-gigabytes", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", help="another checkout's src/ folder, measured alongside")
    parser.add_argument("--skip-unlock", action="store_true",
                        help="leave out the 10,000,000-round unlock comparison")
    args = parser.parse_args()
    facts = machine_info()
    print(f"Machine: {facts.get('cpu')}, {facts.get('cores')} cores, "
          f"Python {facts.get('python')}, {facts.get('openssl')}")
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent / "work"
                                     if (Path(__file__).parent / "work").is_dir() else None) as t:
        root = Path(t)
        rows: list[str] = []
        backup = _attachment_backup(root, args.gigabytes,
                                    dpic=1000 if args.skip_unlock else REAL_DPIC)
        if not args.skip_unlock:
            rows.append(_unlock_row(backup))
        key_file = root / "derived.key"
        key_file.write_text(_derived_key(backup).hex())
        key_file.chmod(0o600)
        stage_args = {"backup": str(backup), "out": str(root), "key_file": str(key_file)}
        rows.extend(_decrypt_rows(stage_args, args.rounds, args.baseline))
        shutil.rmtree(backup)
        big, relative = _big_file_backup(root, args.big_gigabytes)
        big_args = {"backup": str(big), "out": str(root), "relative": relative}
        ones = [("coldtexts", run_isolated("bench_backup:extract_one", big_args))]
        if args.baseline:
            ones.append(("coldtexts before", run_isolated(
                "bench_backup:extract_one", {**big_args, "src": args.baseline})))
        for name, one in ones:
            rows.append(f"| one {one.result['bytes'] / 1e9:.1f} GB file, {name} | "
                        f"{one.result['bytes'] / 1e6 / one.seconds:.0f} MB/s "
                        f"({one.result['cpu']:.1f} CPU-s) | peak RSS "
                        f"{one.peak_rss_mb:.0f} MB | target < 200 MB |")
    print("| stage | result | details | ratio |\n|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
