"""Finding backups and reading their facts (Info, Status and Manifest plists).

A backup folder is `<root>/<UDID>/` holding Info.plist, Manifest.plist, Manifest.db and
Status.plist (idevicebackup2 on Linux writes the same layout). Nothing here decrypts.
"""

from __future__ import annotations

import os
import plistlib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coldtexts.errors import BackupIncompleteError, NotABackupError

COMPLETE, IN_PROGRESS, DAMAGED = "complete", "in progress", "damaged"


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    udid: str
    device_name: str | None
    product_type: str | None  # the model identifier, e.g. "iPhone15,2"
    ios_version: str | None
    last_backup: datetime | None
    encrypted: bool
    size_bytes: int
    state: str  # COMPLETE, IN_PROGRESS or DAMAGED
    problem: str | None = None  # in words, when state is not COMPLETE

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path), "udid": self.udid, "device_name": self.device_name,
            "model": self.product_type, "ios_version": self.ios_version,
            "last_backup": self.last_backup.isoformat() if self.last_backup else None,
            "encrypted": self.encrypted, "size_bytes": self.size_bytes, "state": self.state,
            "problem": self.problem,
        }


def default_roots() -> list[Path]:
    """Where Finder, iTunes and Apple Devices keep backups on this platform."""
    home = Path.home()
    if sys.platform == "darwin":
        return [home / "Library" / "Application Support" / "MobileSync" / "Backup"]
    if os.name == "nt":
        roots = [home / "Apple" / "MobileSync" / "Backup"]  # Microsoft Store iTunes, Apple Devices
        appdata = os.environ.get("APPDATA")
        if appdata:
            roots.insert(0, Path(appdata) / "Apple Computer" / "MobileSync" / "Backup")
        return roots
    return []  # Linux: idevicebackup2 writes wherever it is told; pass --root


def _load_plist(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as handle:
            data = plistlib.load(handle)
    except Exception:  # damaged plists raise ExpatError, LookupError, MemoryError...:
        return None  # all mean "unreadable", which _state reports
    return data if isinstance(data, dict) else None


def _text(*values: object) -> str | None:
    """The first non-empty string among `values` (a damaged plist can hold anything)."""
    for value in values:
        if isinstance(value, str) and value.strip():
            return value
    return None


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _folder_size(folder: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += (Path(dirpath) / name).stat().st_size
            except OSError:
                continue
    return total


def looks_like_backup(folder: Path) -> bool:
    try:
        return (folder / "Manifest.plist").is_file() or (folder / "Manifest.db").is_file()
    except OSError:  # unreadable (macOS without Full Disk Access): see unreadable_roots
        return False


def _cannot_read(folder: Path) -> str | None:
    """Why `folder` (which exists) cannot be listed, or None when it can."""
    try:
        with os.scandir(folder):
            return None
    except (FileNotFoundError, NotADirectoryError):
        return None  # said elsewhere: missing, or not a folder
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def _unreadable_hint(folder: Path, why: str) -> str:
    return (f"Cannot read {folder} ({why}); on macOS give your terminal (or coldtexts) Full "
            "Disk Access in System Settings > Privacy & Security, elsewhere check the "
            "folder's permissions.")


def unreadable_roots(roots: Sequence[Path] | None = None, *,
                     include_defaults: bool = True) -> list[str]:
    """A sentence for each search folder that exists but cannot be listed."""
    search = [*(default_roots() if include_defaults else []), *(roots or [])]
    hints = []
    for root in search:
        root = Path(root).expanduser()
        why = _cannot_read(root)
        if why is not None:
            hints.append(_unreadable_hint(root, why))
    return hints


def _state(folder: Path, status: dict[str, Any] | None,
           manifest: dict[str, Any] | None) -> tuple[str, str | None]:
    if manifest is None:
        return DAMAGED, "Manifest.plist is missing or unreadable"
    if not (folder / "Manifest.db").is_file():
        if (folder / "Manifest.mbdb").is_file():
            return DAMAGED, ("it was made by iOS 9 or earlier (Manifest.mbdb), a format "
                             "coldtexts cannot read; update the phone")
        return DAMAGED, "Manifest.db is missing"
    if status is None:
        return IN_PROGRESS, "Status.plist is missing or unreadable: the backup never finished"
    snapshot = status.get("SnapshotState")
    if snapshot is not None and snapshot != "finished":
        return IN_PROGRESS, f"Status.plist says the snapshot is {snapshot!r}, not finished"
    return COMPLETE, None


def inspect_backup(path: Path, *, with_size: bool = True) -> BackupInfo:
    """The facts of the backup in `path`; NotABackupError with a hint when it is not one."""
    folder = Path(path).expanduser().absolute()
    why = _cannot_read(folder)
    if why is not None:
        raise NotABackupError(_unreadable_hint(folder, why))
    if not folder.is_dir():
        raise NotABackupError(f"{folder} does not exist or is not a folder; pass the backup's "
                              "folder (the one named after the device's UDID).")
    if not looks_like_backup(folder):
        raise NotABackupError(_not_a_backup_hint(folder))
    info = _load_plist(folder / "Info.plist") or {}
    manifest = _load_plist(folder / "Manifest.plist")
    status = _load_plist(folder / "Status.plist")
    state, problem = _state(folder, status, manifest)
    lockdown = (manifest or {}).get("Lockdown")
    lockdown = lockdown if isinstance(lockdown, dict) else {}
    return BackupInfo(
        path=folder,
        udid=_text(lockdown.get("UniqueDeviceID"), info.get("Target Identifier")) or folder.name,
        device_name=_text(lockdown.get("DeviceName"), info.get("Device Name")),
        product_type=_text(lockdown.get("ProductType"), info.get("Product Type")),
        ios_version=_text(lockdown.get("ProductVersion"), info.get("Product Version")),
        last_backup=_as_datetime((status or {}).get("Date"))
        or _as_datetime(info.get("Last Backup Date"))
        or _as_datetime((manifest or {}).get("Date")),
        encrypted=bool((manifest or {}).get("IsEncrypted", False)),
        size_bytes=_folder_size(folder) if with_size else 0,
        state=state,
        problem=problem,
    )


def _not_a_backup_hint(folder: Path) -> str:
    children = [child for child in _subfolders(folder) if looks_like_backup(child)]
    if len(children) == 1:
        return (f"{folder} is not a backup but holds one: pass {children[0]} instead "
                "(or use --root with `coldtexts backups`).")
    if children:
        return (f"{folder} is not a backup but holds {len(children)}; run "
                f"`coldtexts backups --root {folder}` and pass one of them.")
    return (f"{folder} is not an iPhone backup (no Manifest.plist or Manifest.db); pass the "
            "folder named after the device's UDID inside MobileSync/Backup.")


def _subfolders(folder: Path) -> list[Path]:
    try:
        return sorted(child for child in folder.iterdir() if child.is_dir())
    except OSError:
        return []


def find_backups(roots: Sequence[Path] | None = None, *,
                 include_defaults: bool = True) -> list[BackupInfo]:
    """Every backup in the default folders and under each root, newest first."""
    candidates: list[Path] = []
    search: Iterable[Path] = [*(default_roots() if include_defaults else []), *(roots or [])]
    for root in search:
        root = Path(root).expanduser()
        if looks_like_backup(root):
            candidates.append(root)
        else:
            candidates.extend(child for child in _subfolders(root) if looks_like_backup(child))
    seen: set[Path] = set()
    found: list[BackupInfo] = []
    for folder in candidates:
        resolved = folder.resolve()
        if resolved not in seen:
            seen.add(resolved)
            found.append(inspect_backup(folder))
    floor = datetime.min.replace(tzinfo=UTC)
    return sorted(found, key=lambda b: b.last_backup or floor, reverse=True)


def require_complete(info: BackupInfo) -> None:
    if info.state == IN_PROGRESS:
        raise BackupIncompleteError(
            f"The backup in {info.path} is not finished ({info.problem}); wait for Finder, "
            "iTunes or Apple Devices to complete it, or make a new backup."
        )
    if info.state == DAMAGED:
        raise BackupIncompleteError(
            f"The backup in {info.path} is damaged ({info.problem}); make a new backup."
        )
