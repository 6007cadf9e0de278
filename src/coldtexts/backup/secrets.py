"""Where the backup password, or a saved derived key, comes from.

Order: a saved derived key (--key-file, or the OS keyring when --keyring is on), then the
password from --password-file, the COLDTEXTS_PASSWORD environment variable,
--password-stdin, the OS keyring, and finally a prompt, only when stdin is a terminal.
Nothing here logs, prints or stores a password; a saved key is password-equivalent for
this backup and is written owner-only.
"""

from __future__ import annotations

import getpass
import os
import stat
import sys
from pathlib import Path
from typing import TextIO

from coldtexts.errors import InsecurePasswordFileError, NoPasswordError
from coldtexts.fsutil import atomic_write_text
from coldtexts.options import SecretOptions
from coldtexts.runlog import redact_active

from .keybag import KeyDerivation
from .locate import BackupInfo

ENV_PASSWORD = "COLDTEXTS_PASSWORD"
KEYRING_SERVICE = "coldtexts"


def _check_private(path: Path, what: str) -> None:
    if os.name != "posix":
        return  # Windows ACLs are not mode bits; the user profile folder is private
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise NoPasswordError(f"Cannot read the {what} {path} ({exc.strerror}).") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InsecurePasswordFileError(
            f"The {what} {path} can be read by other users; run `chmod 600 {path}` and try "
            "again."
        )


def _read_secret_file(path: Path, what: str) -> str:
    _check_private(path, what)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NoPasswordError(f"Cannot read the {what} {path}: {exc}.") from exc
    return text.rstrip("\r\n")


def _keyring_get(username: str) -> str | None:
    try:
        import keyring
        import keyring.errors
    except ImportError:
        return None
    try:
        value = keyring.get_password(KEYRING_SERVICE, username)
    except keyring.errors.KeyringError:
        return None
    return value if isinstance(value, str) else None


def _keyring_set(username: str, value: str) -> bool:
    try:
        import keyring
        import keyring.errors
    except ImportError:
        return False
    try:
        keyring.set_password(KEYRING_SERVICE, username, value)
    except keyring.errors.KeyringError:
        return False
    return True


def _key_username(info: BackupInfo, derivation: KeyDerivation) -> str:
    return f"derived-key:{info.udid}:{derivation.fingerprint}"


def saved_key(opts: SecretOptions, info: BackupInfo, derivation: KeyDerivation) -> bytes | None:
    """A derived key saved by an earlier run, if the user opted in to reusing one."""
    text: str | None = None
    if opts.key_file is not None and opts.key_file.is_file():
        text = _read_secret_file(opts.key_file, "key file")
    elif opts.use_keyring:
        text = _keyring_get(_key_username(info, derivation))
    redact_active(text)
    if not text:
        return None
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        return None
    return key if len(key) == 32 else None


def remember_key(opts: SecretOptions, info: BackupInfo, derivation: KeyDerivation,
                 key: bytes) -> str | None:
    """Save the derived key where the user asked; returns where, in words, or None."""
    if opts.remember_key == "file" and opts.key_file is not None:
        atomic_write_text(opts.key_file, key.hex() + "\n")
        return f"key file {opts.key_file}"
    if opts.remember_key == "keyring" and _keyring_set(_key_username(info, derivation), key.hex()):
        return "the OS keyring"
    return None


def read_password(opts: SecretOptions, info: BackupInfo, *, stdin: TextIO | None = None) -> str:
    """The backup password from the first source that has one; registered with every open
    run log so that it can never appear in one."""
    password = _read_password(opts, info, stdin=stdin)
    redact_active(password)
    return password


def _read_password(opts: SecretOptions, info: BackupInfo, *, stdin: TextIO | None) -> str:
    stdin = stdin if stdin is not None else sys.stdin  # None under pythonw, some services
    if opts.password_file is not None:
        return _read_secret_file(opts.password_file, "password file")
    env = os.environ.get(ENV_PASSWORD)
    if env:
        return env
    if opts.password_stdin:
        line = stdin.readline().rstrip("\r\n") if stdin is not None else ""
        if not line:
            raise NoPasswordError("--password-stdin was given but standard input was empty.")
        return line
    if opts.use_keyring:
        stored = _keyring_get(f"password:{info.udid}")
        if stored:
            return stored
    if opts.interactive and stdin is not None and stdin.isatty():
        name = info.device_name or info.udid
        return getpass.getpass(f"Password of the encrypted backup of {name}: ")
    raise NoPasswordError(
        f"The backup of {info.device_name or info.udid} is encrypted and no password was "
        f"given; use --password-file FILE (mode 600), the {ENV_PASSWORD} environment "
        "variable, --password-stdin, or --keyring."
    )
