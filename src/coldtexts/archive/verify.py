"""verify: re-hash every file of an archive against MANIFEST.sha256.

Takes the archive's lock (so it never checks a folder a run is halfway through
rewriting; a running export makes verify fail fast with ArchiveLockedError) and writes
nothing else. On read-only media, where the lock file cannot be made, it checks without
the lock: nothing can be writing there. Reports files that are missing, changed, or
present but not in the manifest.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from coldtexts.errors import ArchiveDamagedError, OutputNotWritableError

from .lock import ArchiveLock
from .manifest import MANIFEST_NAME, archive_files, read_manifest
from .publish import sha256_file
from .store import STORE_NAME


@dataclass(frozen=True, slots=True)
class VerifyResult:
    checked: int
    missing: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())  # one line per file, for humans

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.unexpected)

    def to_json(self) -> dict[str, object]:
        return {"ok": self.ok, "checked": self.checked, "missing": list(self.missing),
                "changed": list(self.changed), "unexpected": list(self.unexpected)}


def verify(root: Path) -> VerifyResult:
    if not (root / STORE_NAME).is_file():
        raise ArchiveDamagedError(
            f"{root} is not a coldtexts archive (no {STORE_NAME}); check the folder name."
        )
    manifest = root / MANIFEST_NAME
    if not manifest.is_file():
        raise ArchiveDamagedError(
            f"{root} has no {MANIFEST_NAME} (the last run did not finish); run the export "
            "again to write it, then verify."
        )
    lock = ArchiveLock(root)
    # On read-only media (cold storage) no run can be writing either: check unlocked.
    with contextlib.suppress(OutputNotWritableError):
        lock.acquire()
    try:
        try:
            expected = read_manifest(manifest)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArchiveDamagedError(
                f"{manifest} is damaged ({exc}); run the export again to rewrite it."
            ) from exc
        return _compare(root, expected)
    finally:
        lock.release()


def _compare(root: Path, expected: dict[str, str]) -> VerifyResult:
    missing: list[str] = []
    changed: list[str] = []
    for rel, sha in sorted(expected.items()):
        path = root / rel
        if not path.is_file():
            missing.append(rel)
        elif sha256_file(path) != sha:
            changed.append(rel)
    unexpected = [rel for rel in archive_files(root) if rel not in expected]
    problems = ([f"missing: {p}" for p in missing] + [f"changed: {p}" for p in changed]
                + [f"unexpected: {p}" for p in unexpected])
    return VerifyResult(len(expected), tuple(missing), tuple(changed), tuple(unexpected),
                        tuple(problems))
