"""Unlocking an encrypted backup's keybag: password → derived key → class keys.

The keybag is parsed and unlocked through iphone-backup-decrypt's BackupKeyBag (the
library the user named); the key derivation runs through pycryptodome's PBKDF2 (the
library's own choice), measured the fastest here: 10,000,000 rounds of PBKDF2-SHA256 in
~0.25 s per million against ~0.5 s for cryptography's and ~1.1 s for hashlib's
(BENCHMARKS.md). Counts are checked before anything expensive runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from Crypto.Hash import SHA1, SHA256
from Crypto.Protocol.KDF import PBKDF2
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap
from iphone_backup_decrypt.utils import BackupKeyBag

from coldtexts.errors import BackupCorruptError, UnsafeBackupError, WrongPasswordError

MAX_DPIC = 20_000_000  # the real count is 10,000,000; more is a hostile or broken keybag
MAX_ITER = 1_000_000  # the real count is 10,000
KEY_LENGTH = 32


@dataclass(frozen=True, slots=True)
class KeyDerivation:
    """The parameters of the password → key derivation stored in the keybag."""

    salt: bytes
    iterations: int
    dpsl: bytes | None  # PBKDF2-SHA256 salt (iOS >= 10.2)
    dpic: int | None  # PBKDF2-SHA256 rounds (iOS >= 10.2)

    @property
    def fingerprint(self) -> str:
        """Identifies this keybag's derivation (for a saved derived key), not the key."""
        material = self.salt + (self.dpsl or b"") + str((self.iterations, self.dpic)).encode()
        return hashlib.sha256(material).hexdigest()[:32]


def parse_keybag(blob: bytes) -> BackupKeyBag:
    try:
        keybag = BackupKeyBag(blob)
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupCorruptError(
            "The backup's keybag (in Manifest.plist) is malformed; the backup is damaged: "
            "make a new backup with Finder, iTunes or Apple Devices."
        ) from exc
    if not keybag.classes_data:
        raise BackupCorruptError(
            "The backup's keybag holds no class keys; the backup is damaged: make a new backup."
        )
    if not all(_well_formed(record) for record in keybag.classes_data.values()):
        raise BackupCorruptError(
            "A class key in the backup's keybag (in Manifest.plist) is malformed; the backup is "
            "damaged: make a new backup with Finder, iTunes or Apple Devices."
        )
    return keybag


def _well_formed(record: dict[bytes, object]) -> bool:
    """A wrapped class key has an integer WRAP and an RFC 3394-shaped WPKY; checked here
    so a damaged bag is said to be damaged (not a wrong password, not a crash) before
    the expensive derivation runs."""
    wrapped = record.get(b"WPKY")
    if wrapped is None:
        return True
    return (isinstance(record.get(b"WRAP"), int) and isinstance(wrapped, bytes)
            and len(wrapped) >= 24 and len(wrapped) % 8 == 0)


def _count(keybag: BackupKeyBag, tag: bytes, maximum: int) -> int | None:
    value = keybag.attrs.get(tag)
    if value is None:
        return None
    if not isinstance(value, int) or not 1 <= value <= maximum:
        raise UnsafeBackupError(
            f"The backup's keybag asks for {value!r} rounds of key derivation ({tag.decode()}), "
            f"outside the sane range 1..{maximum:,}; refusing to unlock a backup that looks "
            "tampered with."
        )
    return value


def derivation_of(keybag: BackupKeyBag) -> KeyDerivation:
    salt = keybag.attrs.get(b"SALT")
    iterations = _count(keybag, b"ITER", MAX_ITER)
    if not isinstance(salt, bytes) or iterations is None:
        raise BackupCorruptError(
            "The backup's keybag lacks its key-derivation salt or count; the backup is damaged."
        )
    dpsl = keybag.attrs.get(b"DPSL")
    dpic = _count(keybag, b"DPIC", MAX_DPIC)
    if (dpsl is None) != (dpic is None) or (dpsl is not None and not isinstance(dpsl, bytes)):
        raise BackupCorruptError("The backup's keybag has half a key derivation; it is damaged.")
    return KeyDerivation(salt=salt, iterations=iterations,
                         dpsl=dpsl if isinstance(dpsl, bytes) else None, dpic=dpic)


def _pbkdf2(module: Any, secret: bytes, salt: bytes, rounds: int) -> bytes:
    key: bytes = PBKDF2(secret, salt, KEY_LENGTH, rounds, hmac_hash_module=module)
    return key


def derive_key(password: str, derivation: KeyDerivation) -> bytes:
    """The passphrase key: PBKDF2-SHA256 (iOS >= 10.2) then PBKDF2-SHA1."""
    secret = password.encode("utf-8")
    if derivation.dpsl is not None and derivation.dpic is not None:
        secret = _pbkdf2(SHA256, secret, derivation.dpsl, derivation.dpic)
    return _pbkdf2(SHA1, secret, derivation.salt, derivation.iterations)


def unlock(keybag: BackupKeyBag, derived_key: bytes) -> None:
    """Unwrap every passphrase-protected class key; a failed unwrap means a wrong password."""
    if not keybag.unlock_with_key(derived_key):
        raise WrongPasswordError(
            "The backup password is wrong; check it (it is the one set in Finder/iTunes "
            "under 'Encrypt local backup', not the phone's passcode) and run again."
        )


def unwrap_file_key(keybag: BackupKeyBag, protection_class: int, wrapped: bytes) -> bytes:
    """One file's key, unwrapped with cryptography's RFC 3394 (C, ~50x faster per file than
    the library's pure-Python loop, which mattered for thousands of attachments)."""
    class_key = keybag.classes_keys.get(protection_class)
    try:
        if class_key is None or len(wrapped) != 40:
            raise ValueError(f"no usable key for protection class {protection_class}")
        key: bytes = aes_key_unwrap(class_key, wrapped)
    except (ValueError, InvalidUnwrap) as exc:
        raise BackupCorruptError(
            f"A file key in the backup's manifest cannot be unwrapped ({exc}); the backup is "
            "damaged: make a new backup."
        ) from exc
    return key
