"""The per-archive run lock: one coldtexts run per archive at a time.

An OS file lock (POSIX flock, Windows msvcrt.locking) on ARCHIVE/.coldtexts.lock. The
operating system drops it when the holding process dies, however it dies, so a lock
left by a killed run is taken over automatically; its leftover pid/host/start line is
reported as `stale` so the run can say it recovered. A PID file alone could not tell a
live holder from a recycled PID; the `filelock` package would add a dependency for the
same two system calls and without the holder's details for the message.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from coldtexts.errors import ArchiveLockedError, OutputNotWritableError
from coldtexts.fsutil import PRIVATE_FILE_MODE

LOCK_NAME = ".coldtexts.lock"
_WINDOWS_LOCK_OFFSET = 1 << 20  # lock a byte past the text so the text stays readable
DEAD_HOLDER_GRACE = 5.0  # seconds to wait for a dead holder's lock to come free


@dataclass(frozen=True, slots=True)
class LockHolder:
    pid: int
    host: str
    started: str  # ISO 8601, UTC

    def describe(self) -> str:
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"pid {self.pid}{where}, started {self.started}"


def _read_holder(fd: int) -> LockHolder | None:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 4096)
    try:
        data = json.loads(raw.decode("utf-8"))
        return LockHolder(int(data["pid"]), str(data["host"]), str(data["started"]))
    except (ValueError, KeyError, TypeError):
        return None


def _is_dead_here(holder: LockHolder) -> bool:
    """True when the holder ran on this computer and its process no longer exists (POSIX:
    on Windows os.kill would terminate the process instead of probing it)."""
    if os.name != "posix" or holder.host != socket.gethostname():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _try_lock(fd: int) -> bool:
    if os.name == "nt":
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if os.name == "nt":
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


class ArchiveLock:
    """Context manager: `with ArchiveLock(root) as lock: ...`; `lock.stale` tells
    whether a killed run's lock was taken over."""

    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_NAME
        self._fd: int | None = None
        self.stale: LockHolder | None = None

    def acquire(self) -> ArchiveLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
        except OSError as exc:
            raise OutputNotWritableError(
                f"Cannot create the lock file {self.path} ({exc.strerror}); check the "
                "archive folder's permissions."
            ) from exc
        if not _try_lock(fd) and not self._holder_gone_then_locked(fd):
            holder = _read_holder(fd)
            os.close(fd)
            who = f" ({holder.describe()})" if holder else ""
            raise ArchiveLockedError(
                f"Another coldtexts run{who} is using the archive {self.path.parent}; "
                "wait for it to finish, then run again."
            )
        self.stale = _read_holder(fd)  # text left behind means the last holder was killed
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(me).encode("utf-8"))
        os.fsync(fd)
        self._fd = fd
        return self

    def _holder_gone_then_locked(self, fd: int) -> bool:
        """When the recorded holder has died, wait a moment for the lock to come free.

        The OS frees a killed run's lock once every descriptor of it is closed; a process
        it had just forked (to start a worker pool's server) keeps one until it execs, so
        for a moment after the kill the lock can still look held (seen once in a few
        hundred kills in the crash test)."""
        holder = _read_holder(fd)
        if holder is None or not _is_dead_here(holder):
            return False
        deadline = time.monotonic() + DEAD_HOLDER_GRACE
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if _try_lock(fd):
                return True
        return False

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # an empty file says the last run ended cleanly
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> ArchiveLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
