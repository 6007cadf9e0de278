"""One log file per run, inside the archive: logs/YYYY-MM-DDTHHMMSS.log (0600).

    with Archive.open(root) as archive, run_log(root) as log:
        log.redact(password)            # every secret the run handles, as soon as known
        # (or runlog.redact_active(password) from code that does not hold `log`)
        logging.getLogger("coldtexts.pipeline").info("unlocked in %.1f s", seconds)

Open it after Archive.open: the archive refuses a non-empty folder that is not yet an
archive, and logs/ would be such content on a first run. The manifest leaves logs/ out.

Two guarantees, because the log is read when something went wrong and may be shared:
  - secrets: every value passed to redact() is replaced by [redacted] anywhere in the
    written line, tracebacks included (RedactingFormatter);
  - message text: a message, attachment or view object given as a logging argument is
    written as its GUID only (ModelArgsFilter). Code logs GUIDs and counts, never text.
Only the "coldtexts" loggers write here: third-party libraries (WeasyPrint, fontTools)
may log document content, so they are left out.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from coldtexts import __version__
from coldtexts.fsutil import PRIVATE_FILE_MODE, make_private_dir, raise_for_os_error

LOGGER_NAME = "coldtexts"
LOGS_DIR = "logs"
REDACTED = "[redacted]"
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass(slots=True)
class Secrets:
    values: set[str] = field(default_factory=set)

    def add(self, secret: str | bytes | None) -> None:
        if not secret:
            return
        if isinstance(secret, bytes):
            self.values.add(secret.hex())
            with contextlib.suppress(UnicodeDecodeError):
                self.values.add(secret.decode("utf-8"))
            self.values.add(repr(secret))
        else:
            self.values.add(secret)
            self.values.add(repr(secret))  # as it would appear in a formatted tuple

    def scrub(self, text: str) -> str:
        # Longest first, so a secret containing another is replaced whole.
        for value in sorted(self.values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED)
        return text


class RedactingFormatter(logging.Formatter):
    def __init__(self, secrets: Secrets) -> None:
        super().__init__(LINE_FORMAT)
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return self._secrets.scrub(super().format(record))


def _private_stand_in(value: object) -> object:
    """A model object (anything with a guid and text or parts) becomes its GUID."""
    guid = getattr(value, "guid", None)
    has_content = any(hasattr(value, name) for name in ("text", "parts", "body", "messages"))
    if isinstance(guid, str) and has_content:
        return f"<{type(value).__name__} {guid}>"
    return value


class ModelArgsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_private_stand_in(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _private_stand_in(v) for k, v in record.args.items()}
        record.msg = _private_stand_in(record.msg)
        return True


@dataclass(slots=True)
class RunLog:
    path: Path
    secrets: Secrets

    def redact(self, *secrets: str | bytes | None) -> None:
        for secret in secrets:
            self.secrets.add(secret)


_ACTIVE: list[Secrets] = []  # the secrets of every run log open in this process


def redact_active(*secrets: str | bytes | None) -> None:
    """Redact these in every run log now open: for code that learns a secret (the
    password reader, the key derivation) without holding the RunLog."""
    for registry in _ACTIVE:
        for secret in secrets:
            registry.add(secret)


def log_file_name(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H%M%S") + ".log"


@contextlib.contextmanager
def run_log(archive_root: Path, *, now: datetime | None = None,
            level: int = logging.INFO) -> Iterator[RunLog]:
    """Attach a private log file for this run to the "coldtexts" loggers."""
    folder = make_private_dir(Path(archive_root) / LOGS_DIR)
    path, stream = _create_unique(folder, now or datetime.now().astimezone())
    secrets = Secrets()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(secrets))
    handler.addFilter(ModelArgsFilter())
    handler.setLevel(level)
    logger = logging.getLogger(LOGGER_NAME)
    previous_level = logger.level
    logger.addHandler(handler)
    _ACTIVE.append(secrets)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    try:
        logger.info("coldtexts %s, Python %s, %s", __version__, platform.python_version(),
                    platform.platform(terse=True))
        yield RunLog(path, secrets)
    except BaseException as exc:
        logger.error("run ended by %s", type(exc).__name__, exc_info=True)
        raise
    finally:
        _ACTIVE.remove(secrets)
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
        handler.close()
        stream.close()


def _create_unique(folder: Path, now: datetime) -> tuple[Path, TextIO]:
    """Create the file 0600 from the start (O_EXCL): never readable by others, even briefly.
    Two runs in the same second get -2, -3 suffixes."""
    base = log_file_name(now)
    for attempt in range(1, 100):
        name = base if attempt == 1 else base.replace(".log", f"-{attempt}.log")
        path = folder / name
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, flags, PRIVATE_FILE_MODE)
        except FileExistsError:
            continue
        except OSError as exc:
            raise_for_os_error(exc, path)
            raise
        return path, os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace")
    raise FileExistsError(f"too many log files named {base} in {folder}")

