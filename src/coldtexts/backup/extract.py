"""Opening a backup and extracting what Messages needs into a private staging folder.

Staging is a 0700 folder on the destination's disk; it is removed on success, on error,
on Ctrl-C and on SIGTERM (a killed run's folder is removed by the next run). Every file
is decrypted (or copied) to a temp name and renamed into place, with its SHA-256 computed
on the way. The backup folder itself is only ever read.

Attachments are decrypted two at a time on worker threads (SHA-256, reads and writes
release the GIL, so a second file keeps the second core busy), yielded in the order asked
for. The main thread alone touches the manifest and creates folders; closing the Backup
stops and waits for every worker, so no plaintext is written after staging is removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import BinaryIO, TextIO

from iphone_backup_decrypt.utils import BackupKeyBag

from coldtexts.errors import BackupCorruptError, MessagesDatabaseMissingError, UnsafeBackupError
from coldtexts.fsutil import PRIVATE_DIR_MODE, is_inside, make_private_dir, raise_for_os_error
from coldtexts.options import SecretOptions

from . import keybag as kb
from .crypto import Decrypted, PaddingError, Writable, copy_plain, decrypt_file, decrypt_stream
from .locate import BackupInfo
from .manifest import FileRecord, Manifest, safe_relative_path
from .secrets import read_password, remember_key, saved_key

STAGING_PREFIX = ".coldtexts-staging-"
HOME, MEDIA = "HomeDomain", "MediaDomain"
SMS_DB = "Library/SMS/sms.db"
ADDRESS_BOOK = "Library/AddressBook/AddressBook.sqlitedb"
ADDRESS_BOOK_IMAGES = "Library/AddressBook/AddressBookImages.sqlitedb"
SIDECARS = ("-wal", "-shm")
DEVICE_PREFIXES = ("~/", "/private/var/mobile/", "/var/mobile/")
MEDIA_FOLDERS = ("Library/SMS/Attachments/", "Library/SMS/StickerCache/")
# Two files at once: the GIL-free part of a file (SHA-256, read, write) is most of it, so
# a second thread fills the second core; more threads only queue for the same two.
EXTRACT_THREADS = 2
LOOKAHEAD = 2 * EXTRACT_THREADS  # files planned ahead: workers never wait for the main thread
RESULT_POLL_SECONDS = 0.2  # Windows delivers Ctrl-C to a waiting thread only between waits


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: unwind exactly like Ctrl-C, so every cleanup runs and the CLI
    reports an interruption (exit 130) rather than a traceback."""


@dataclass(frozen=True, slots=True)
class ExtractedFile:
    device_path: str  # as the caller named it (attachment.filename), or domain/path
    path: Path
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class MissingFile:
    device_path: str
    reason: str


@dataclass(frozen=True, slots=True)
class _Job:
    """One file to extract, its source found and its staging folder made and checked (by
    the main thread): what is left is decrypting it, which a worker thread may do."""

    record: FileRecord
    source: Path
    target: Path
    label: str


class Cancelled(Exception):
    """An extraction was stopped half-way because its caller is gone (Ctrl-C, an error,
    the backup closed); its temp file is removed."""


class _StopWhenCancelled:
    """The temp file, refusing further writes once `cancelled` is set: a worker busy with
    a 2 GB file stops within one chunk instead of finishing it."""

    def __init__(self, out: BinaryIO, cancelled: threading.Event) -> None:
        self._out = out
        self._cancelled = cancelled

    def write(self, data: bytes | memoryview, /) -> int:
        if self._cancelled.is_set():
            raise Cancelled()
        return self._out.write(data)


@dataclass(frozen=True, slots=True)
class MessagesFiles:
    sms_db: Path
    address_book: Path | None
    address_book_images: Path | None


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(_signum: int, _frame: FrameType | None) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def staging(parent: Path) -> Iterator[Path]:
    """A private folder for plaintext inside `parent`, removed on every way out.

    An existing `parent` keeps its mode (it may be the user's own folder, e.g. the parent
    of --out in a dry run); the staging folder itself is 0700, which is what matters.
    Folders made for it are removed with it when they are left empty."""
    made = _missing_folders(parent)
    try:
        if made:
            make_private_dir(parent)
        folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
    except OSError as exc:  # a full disk can refuse even a folder
        _remove_empty(made)
        raise_for_os_error(exc, parent / STAGING_PREFIX)
        raise
    os.chmod(folder, PRIVATE_DIR_MODE)
    try:
        with _sigterm_raises():
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        _remove_empty(made)


def _missing_folders(path: Path) -> list[Path]:
    """`path` and those of its ancestors that do not exist yet, deepest first."""
    missing = []
    while not path.exists() and path.parent != path:
        missing.append(path)
        path = path.parent
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first; stops at the first one something else used
        try:
            folder.rmdir()
        except OSError:
            return


def remove_stale_staging(parent: Path) -> int:
    """Remove staging folders (decrypted plaintext) that a killed run left behind."""
    removed = 0
    if parent.is_dir():
        for entry in parent.iterdir():
            if entry.name.startswith(STAGING_PREFIX) and entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    return removed


def media_relative_path(device_path: str) -> str | None:
    """`~/Library/SMS/Attachments/...` (or the /var/mobile forms) → MediaDomain path."""
    path = device_path.replace("\\", "/")
    for prefix in DEVICE_PREFIXES:
        if path.startswith(prefix):
            relative = path[len(prefix):]
            return relative if relative.startswith(MEDIA_FOLDERS) else None
    return None


class Backup:
    """An opened (and, when encrypted, unlocked) backup."""

    def __init__(self, info: BackupInfo, manifest: Manifest, keybag: BackupKeyBag | None,
                 staging_dir: Path) -> None:
        self.info = info
        self.manifest = manifest
        self.keybag = keybag
        self.staging_dir = staging_dir
        self.remembered: str | None = None  # where a derived key was saved, in words
        self._checked_dirs: set[Path] = set()  # made private and checked to be inside
        self._workers: ThreadPoolExecutor | None = None
        self._running: set[threading.Event] = set()  # one per extract_attachments in use

    def close(self) -> None:
        """Stop every worker and wait for it: after this no file appears in staging (an
        abandoned extract_attachments generator is not closed before its Backup is)."""
        for cancelled in list(self._running):
            cancelled.set()
        if self._workers is not None:
            self._workers.shutdown(wait=True, cancel_futures=True)
            self._workers = None
        self.manifest.close()

    def __enter__(self) -> Backup:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- single files ------------------------------------------------------------------
    def _target(self, record: FileRecord, folder: Path, flat: bool) -> Path:
        """Where a record goes in staging: its own path (databases, whose -wal must sit
        beside them), or, for attachments, `<domain>/<file ID>` in one folder: no folder
        to create per file. safe_relative_path rules out `..` and absolute paths; each
        folder is then checked once, after it exists, against links."""
        relative = safe_relative_path(record.relative_path)
        if flat:
            target = folder / record.domain / record.file_id  # the ID is checked hex
        else:
            target = folder / record.domain / Path(*relative.parts)
        if target.parent in self._checked_dirs:
            return target
        try:
            make_private_dir(target.parent)
        except OSError as exc:
            raise_for_os_error(exc, target)
            raise
        if not is_inside(target.parent, folder):
            raise UnsafeBackupError(
                f"The backup's file {record.domain}/{record.relative_path} escapes the "
                "staging folder through a link; refusing."
            )
        self._checked_dirs.add(target.parent)
        return target

    def extract_record(self, record: FileRecord, folder: Path, label: str, *,
                       flat: bool = False) -> ExtractedFile:
        return self._run(self._job(record, folder, label, flat))

    def _job(self, record: FileRecord, folder: Path, label: str, flat: bool) -> _Job:
        source = self.info.path / record.file_id[:2] / record.file_id
        if not source.is_file():
            raise FileNotFoundError(source)
        return _Job(record, source, self._target(record, folder, flat), label)

    def _run(self, job: _Job, cancelled: threading.Event | None = None) -> ExtractedFile:
        """Decrypt to `<target>.part` (owner-only), then rename: a file under its real name
        is always complete. Safe on a worker thread: it touches only its own two paths."""
        target = job.target
        temp = target.with_name(target.name + ".part")
        try:
            with temp.open("wb") as out:
                sink = out if cancelled is None else _StopWhenCancelled(out, cancelled)
                result = self._decrypt_into(job.record, job.source, sink)
            os.chmod(temp, 0o600)
            os.replace(temp, target)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise_for_os_error(exc, target)
            raise
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return ExtractedFile(job.label, target, result.size, result.sha256)

    def _decrypt_into(self, record: FileRecord, source: Path, out: Writable) -> Decrypted:
        if self.keybag is None:
            return copy_plain(source, out)
        if record.wrapped_key is None:
            # An encrypted backup's file without a key cannot be read; copying its bytes
            # would archive ciphertext as if it were the photo. Empty is empty either way.
            if source.stat().st_size == 0:
                return copy_plain(source, out)
            raise BackupCorruptError(
                f"The manifest entry for {record.domain}/{record.relative_path} has no file "
                "key in this encrypted backup; the backup is damaged: make a new backup."
            )
        key = kb.unwrap_file_key(self.keybag, record.protection_class, record.wrapped_key)
        return decrypt_file(source, out, key)

    def extract_file(self, domain: str, relative_path: str, folder: Path) -> ExtractedFile | None:
        record = self.manifest.lookup(domain, relative_path)
        if record is None:
            return None
        try:
            return self.extract_record(record, folder, f"{domain}/{relative_path}")
        except FileNotFoundError:
            return None

    # -- what Messages needs ---------------------------------------------------------------
    def _with_sidecars(self, relative_path: str, folder: Path) -> Path | None:
        main = self.extract_file(HOME, relative_path, folder)
        if main is None:
            return None
        for suffix in SIDECARS:
            self.extract_file(HOME, relative_path + suffix, folder)
        return main.path

    def extract_messages(self, folder: Path | None = None) -> MessagesFiles:
        folder = folder or self.staging_dir
        sms = self._with_sidecars(SMS_DB, folder)
        if sms is None:
            raise MessagesDatabaseMissingError(
                f"The backup of {self.info.device_name or self.info.udid} holds no Messages "
                "database (Library/SMS/sms.db). Likely causes: the backup is of another device, "
                "it was made while Messages in iCloud kept messages off the phone, or it is an "
                "iCloud (not local) backup; make a new local encrypted backup and try again."
            )
        return MessagesFiles(
            sms_db=sms,
            address_book=self._with_sidecars(ADDRESS_BOOK, folder),
            address_book_images=self._with_sidecars(ADDRESS_BOOK_IMAGES, folder),
        )

    def attachment_bytes(self, device_paths: Iterable[str]) -> int:
        """The manifest's idea of how many bytes those attachments take (for a space check)."""
        total = 0
        for device_path in device_paths:
            relative = media_relative_path(device_path)
            record = self.manifest.lookup(MEDIA, relative) if relative else None
            total += record.size if record else 0
        return total

    def extract_attachments(self, device_paths: Iterable[str],
                            folder: Path | None = None) -> Iterator[ExtractedFile | MissingFile]:
        """Each path's file or the reason it is missing, in order; up to LOOKAHEAD files are
        decrypted ahead on the worker threads. An error (a tampered manifest, a full disk)
        surfaces at its own file, after the ones before it; files after it are stopped
        (their .part removed) and never yielded."""
        folder = folder or self.staging_dir
        cancelled = threading.Event()
        self._running.add(cancelled)
        pending: deque[Future[ExtractedFile | MissingFile]] = deque()
        try:
            for device_path in device_paths:
                planned = self._plan_attachment(device_path, folder, cancelled)
                pending.append(planned)
                if planned.done() and planned.exception() is not None:
                    break  # a failed plan ends the run: yield what came before, then raise
                if len(pending) >= LOOKAHEAD:
                    yield _outcome(pending.popleft())
            while pending:
                yield _outcome(pending.popleft())
        finally:
            _stop(pending, cancelled)
            self._running.discard(cancelled)

    def _plan_attachment(self, device_path: str, folder: Path,
                         cancelled: threading.Event) -> Future[ExtractedFile | MissingFile]:
        """The main thread's part (manifest, folders); the decryption goes to a worker."""
        try:
            relative = media_relative_path(device_path)
            if relative is None:
                return _done(MissingFile(device_path,
                                         "its device path is not in the Messages folders"))
            record = self.manifest.lookup(MEDIA, relative)
            if record is None:
                return _done(MissingFile(device_path, "not in this backup (offloaded to iCloud "
                                                      "by Optimize Storage, or expired)"))
            job = self._job(record, folder, device_path, flat=True)
        except FileNotFoundError:
            return _done(_missing_file(device_path))
        except Exception as exc:  # raised when its turn comes, after the files before it
            failed: Future[ExtractedFile | MissingFile] = Future()
            failed.set_exception(exc)
            return failed
        if self._workers is None:
            self._workers = ThreadPoolExecutor(EXTRACT_THREADS,
                                               thread_name_prefix="coldtexts-extract")
        return self._workers.submit(self._run_attachment, job, cancelled)

    def _run_attachment(self, job: _Job, cancelled: threading.Event) -> ExtractedFile | MissingFile:
        try:
            return self._run(job, cancelled)
        except FileNotFoundError:
            return _missing_file(job.label)


def _missing_file(device_path: str) -> MissingFile:
    return MissingFile(device_path, "listed in the backup's manifest but its file is missing "
                                    "(an incomplete backup)")


def _done(value: ExtractedFile | MissingFile) -> Future[ExtractedFile | MissingFile]:
    ready: Future[ExtractedFile | MissingFile] = Future()
    ready.set_result(value)
    return ready


def _outcome(future: Future[ExtractedFile | MissingFile]) -> ExtractedFile | MissingFile:
    """The job's result (or its exception), waiting in short slices so that Ctrl-C and
    SIGTERM interrupt the wait on every platform."""
    while not future.done():
        wait_for([future], timeout=RESULT_POLL_SECONDS)
    return future.result()


def _stop(pending: deque[Future[ExtractedFile | MissingFile]],
          cancelled: threading.Event) -> None:
    """Called on every way out: jobs not started are dropped, running ones stop at their
    next chunk (their temp files removed), and all have ended when this returns."""
    cancelled.set()
    # Only jobs that started need waiting for: one cancelled before it ran is not "done"
    # to wait() until a worker picks it up, which never happens once close() shut the
    # pool down (that wait hung).
    started = [future for future in pending if not future.cancel()]
    wait_for(started)


def _decrypt_manifest(info: BackupInfo, keybag: BackupKeyBag, manifest_key: bytes,
                      folder: Path) -> Path:
    if len(manifest_key) < 44:
        raise BackupCorruptError("The backup's ManifestKey is malformed; make a new backup.")
    protection_class = int.from_bytes(manifest_key[:4], "little")
    key = kb.unwrap_file_key(keybag, protection_class, manifest_key[4:])
    target = folder / "Manifest.db"
    source = info.path / "Manifest.db"
    try:
        with source.open("rb") as handle, target.open("wb") as out:
            decrypt_stream(handle, out, key, source.stat().st_size)
    except PaddingError as exc:
        raise BackupCorruptError(
            f"The backup's Manifest.db is damaged or truncated ({exc}); make a new backup."
        ) from exc
    except OSError as exc:
        raise_for_os_error(exc, target)
        raise
    return target


def _read_manifest_plist(info: BackupInfo) -> dict[str, object]:
    import plistlib

    try:
        with (info.path / "Manifest.plist").open("rb") as handle:
            data = plistlib.load(handle)
    except (OSError, ValueError, plistlib.InvalidFileException) as exc:
        raise BackupCorruptError(
            f"The backup's Manifest.plist cannot be read ({exc}); make a new backup."
        ) from exc
    if not isinstance(data, dict):
        raise BackupCorruptError("The backup's Manifest.plist is malformed; make a new backup.")
    return data


def unlock_keybag(info: BackupInfo, plist: dict[str, object], secrets: SecretOptions,
                  *, stdin: TextIO | None = None) -> tuple[BackupKeyBag, str | None]:
    """Unlock with a saved derived key when there is a good one, else with the password."""
    blob = plist.get("BackupKeyBag")
    if not isinstance(blob, bytes):
        raise BackupCorruptError("The backup's keybag is missing; make a new backup.")
    keybag = kb.parse_keybag(blob)
    derivation = kb.derivation_of(keybag)
    key = saved_key(secrets, info, derivation)
    if key is not None and keybag.unlock_with_key(key):
        return keybag, None
    keybag = kb.parse_keybag(blob)  # a failed unlock leaves partial state behind
    password = read_password(secrets, info, stdin=stdin)
    derived = kb.derive_key(password, derivation)
    del password
    kb.unlock(keybag, derived)
    return keybag, remember_key(secrets, info, derivation, derived)


@dataclass(frozen=True, slots=True)
class Unlocked:
    """A backup's unlocked keybag (None for an unencrypted backup), before any file is
    touched: unlocking first means a wrong password leaves nothing behind anywhere."""

    plist: dict[str, object]
    keybag: BackupKeyBag | None
    remembered: str | None = None  # where a derived key was saved, in words


def unlock(info: BackupInfo, secrets: SecretOptions, *, stdin: TextIO | None = None) -> Unlocked:
    plist = _read_manifest_plist(info)
    if not plist.get("IsEncrypted"):
        return Unlocked(plist, None)
    keybag, remembered = unlock_keybag(info, plist, secrets, stdin=stdin)
    return Unlocked(plist, keybag, remembered)


def open_backup(info: BackupInfo, secrets: SecretOptions, staging_dir: Path, *,
                stdin: TextIO | None = None, unlocked: Unlocked | None = None) -> Backup:
    """Open the backup in `info`; encrypted ones are unlocked (unless `unlocked` is given)
    and their manifest decrypted into `staging_dir` (unencrypted ones have theirs copied
    there: never opened in place)."""
    unlocked = unlocked or unlock(info, secrets, stdin=stdin)
    plist = unlocked.plist
    remembered = unlocked.remembered
    if unlocked.keybag is not None:
        keybag = unlocked.keybag
        manifest_key = plist.get("ManifestKey")
        if isinstance(manifest_key, bytes):
            path = _decrypt_manifest(info, keybag, manifest_key, staging_dir)
        else:  # iOS 10.0-10.1: encrypted files, plaintext manifest
            path = staging_dir / "Manifest.db"
            shutil.copyfile(info.path / "Manifest.db", path)
        backup = Backup(info, Manifest(path), keybag, staging_dir)
    else:
        path = staging_dir / "Manifest.db"
        try:
            shutil.copyfile(info.path / "Manifest.db", path)
        except OSError as exc:
            raise_for_os_error(exc, path)
            raise
        backup = Backup(info, Manifest(path), None, staging_dir)
    backup.remembered = remembered
    return backup
