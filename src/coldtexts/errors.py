"""Typed errors and their exit codes: the one place that maps failures to numbers.

Every error carries one sentence for the user: what is wrong and what to do. The CLI
prints that sentence (never a traceback) and exits with the class's code. The table in
README.md ("Exit codes") is generated from EXIT_CODES and checked by a test.
"""

from __future__ import annotations

from typing import ClassVar


class ColdtextsError(Exception):
    """Base of every error coldtexts reports to a user."""

    exit_code: ClassVar[int] = 1
    summary: ClassVar[str] = "internal error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# -- backups (10-19) ----------------------------------------------------------------------
class NotABackupError(ColdtextsError):
    exit_code = 10
    summary = "not a backup folder, or no backup found"


class BackupIncompleteError(ColdtextsError):
    exit_code = 11
    summary = "backup still in progress or damaged"


class BackupCorruptError(ColdtextsError):
    exit_code = 12
    summary = "backup file corrupt or truncated"


class MessagesDatabaseMissingError(ColdtextsError):
    exit_code = 13
    summary = "sms.db is not in the backup"


class MessagesDatabaseCorruptError(ColdtextsError):
    exit_code = 14
    summary = "sms.db cannot be read"


class UnsafeBackupError(ColdtextsError):
    exit_code = 15
    summary = "backup refused as unsafe (escaping paths, absurd key-derivation counts)"


# -- unlocking (20-29) --------------------------------------------------------------------
class WrongPasswordError(ColdtextsError):
    exit_code = 20
    summary = "wrong backup password"


class NoPasswordError(ColdtextsError):
    exit_code = 21
    summary = "encrypted backup and no password source in a non-interactive run"


class InsecurePasswordFileError(ColdtextsError):
    exit_code = 22
    summary = "password or key file readable by other users"


# -- the archive (30-39) ------------------------------------------------------------------
class ArchiveLockedError(ColdtextsError):
    exit_code = 30
    summary = "another coldtexts run holds the archive"


class ArchiveDamagedError(ColdtextsError):
    exit_code = 31
    summary = "archive damaged: verify found missing or changed files, or the store is unreadable"


class ArchiveTooNewError(ColdtextsError):
    exit_code = 32
    summary = "archive written by a newer coldtexts"


# -- the machine (40-49) ------------------------------------------------------------------
class DiskFullError(ColdtextsError):
    exit_code = 40
    summary = "not enough free disk space"


class OutputNotWritableError(ColdtextsError):
    exit_code = 41
    summary = "destination not writable"


# -- configuration and input (50-59) -------------------------------------------------------
class ConfigError(ColdtextsError):
    exit_code = 50
    summary = "configuration file invalid"


class UndecodableError(ColdtextsError):
    """A blob (attributedBody typedstream, plist) that cannot be decoded.

    Raised by the decoders; the reader counts it per message and goes on.
    """

    exit_code = 51
    summary = "undecodable message body or payload"


class InterruptedError_(ColdtextsError):
    exit_code = 130
    summary = "interrupted (Ctrl-C or SIGTERM); nothing half-written was kept"


#: Exit codes that are not errors: success and partial success.
EXIT_OK = 0
EXIT_PARTIAL = 3  # the archive is complete except for attachments the backup lacks
EXIT_RENDER_FAILED = 4  # everything was archived, but some outputs failed to render
EXIT_USAGE = 2  # click's own code for bad options
EXIT_INTERNAL = 1


def _all_error_classes() -> list[type[ColdtextsError]]:
    seen: list[type[ColdtextsError]] = []
    stack: list[type[ColdtextsError]] = [ColdtextsError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen


def exit_codes() -> dict[int, str]:
    """Every exit code coldtexts uses, with its meaning (for README and `--help`)."""
    codes = {
        EXIT_OK: "success",
        EXIT_INTERNAL: "internal error (a bug: see the log in the archive's logs/ folder)",
        EXIT_USAGE: "usage error (unknown option, missing argument)",
        EXIT_PARTIAL: "partial success: archived, but some attachments are missing from the backup",
        EXIT_RENDER_FAILED: "partial success: archived, but some outputs failed to render "
        "(they are retried on the next run; see the report)",
    }
    for cls in _all_error_classes():
        if cls is not ColdtextsError:
            codes[cls.exit_code] = cls.summary
    return dict(sorted(codes.items()))
