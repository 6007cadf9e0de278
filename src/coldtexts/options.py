"""Frozen option objects built by the CLI (and the config file) and read by the library."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

ALL_FORMATS: tuple[str, ...] = ("html", "pdf", "txt", "jsonl")


@dataclass(frozen=True, slots=True)
class SecretOptions:
    """Where the backup password (or a saved derived key) comes from.

    Resolution order (coldtexts.backup.secrets): key_file, keyring-saved key, password_file,
    the COLDTEXTS_PASSWORD environment variable, password_stdin, the keyring password,
    then a prompt only when stdin is a terminal.
    """

    password_file: Path | None = None
    password_stdin: bool = False
    use_keyring: bool = False  # look the password / derived key up in the OS keyring
    key_file: Path | None = None  # a 0600 file holding a previously derived key
    remember_key: Literal["keyring", "file"] | None = None  # opt-in: save the derived key
    interactive: bool = True  # False forbids prompting even on a terminal


@dataclass(frozen=True, slots=True)
class ExportOptions:
    backup: Path
    archive: Path
    formats: tuple[str, ...] = ALL_FORMATS
    timezone: str | None = None  # None: the system zone
    since: date | None = None
    until: date | None = None
    conversations: tuple[str, ...] = ()  # names, numbers or emails; empty: all
    templates_dir: Path | None = None
    owner_name: str = "Me"
    dry_run: bool = False
    verbose: bool = False
    report_path: Path | None = None
    max_backup_age_days: int | None = 45
    secrets: SecretOptions = field(default_factory=SecretOptions)
