"""Streaming AES-256-CBC decryption of backup files (zero IV, PKCS#7 padding).

Memory stays flat whatever the file size: the file is read in CHUNK-sized pieces through
one CBC context, the last block is held back until the end so the padding can be checked
and stripped, and SHA-256 is computed on the way out so the archive never re-reads the
plaintext. The padding, not the manifest's Size field, says where the data ends: Apple's
Size is sometimes wrong on SQLite files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from coldtexts.errors import BackupCorruptError

BLOCK = 16
CHUNK = 256 * 1024  # small chunks stay in cache: measured faster than 1-16 MiB ones
ZERO_IV = bytes(BLOCK)


@dataclass(frozen=True, slots=True)
class Decrypted:
    size: int
    sha256: str


class PaddingError(ValueError):
    """The last block does not end in valid PKCS#7 padding (wrong key or damaged file)."""


def _strip_padding(last: bytes) -> bytes:
    pad = last[-1]
    if not 1 <= pad <= BLOCK or last[-pad:] != bytes([pad]) * pad:
        raise PaddingError("invalid PKCS#7 padding")
    return last[:-pad]


def decrypt_stream(source: BinaryIO, target: BinaryIO, key: bytes, length: int) -> Decrypted:
    """Decrypt `length` bytes of `source` into `target`; return the plaintext size and hash."""
    digest = hashlib.sha256()
    if length == 0:  # devices write 0-byte ciphertext for empty files
        return Decrypted(0, digest.hexdigest())
    if length % BLOCK:
        raise PaddingError(f"ciphertext length {length} is not a multiple of 16")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(ZERO_IV)).decryptor()
    held = b""
    written = 0
    while True:
        chunk = source.read(CHUNK)
        if not chunk:
            break
        plain = held + decryptor.update(chunk)
        held, out = plain[-BLOCK:], plain[:-BLOCK]
        if out:
            target.write(out)
            digest.update(out)
            written += len(out)
    held += decryptor.finalize()
    if len(held) != BLOCK:
        raise PaddingError("file ended early")
    tail = _strip_padding(held)
    target.write(tail)
    digest.update(tail)
    return Decrypted(written + len(tail), digest.hexdigest())


def decrypt_file(source: Path, target: BinaryIO, key: bytes) -> Decrypted:
    """Decrypt a backup content file; a bad length or padding is a damaged backup."""
    try:
        with source.open("rb", buffering=0) as handle:
            return decrypt_stream(handle, target, key, source.stat().st_size)
    except PaddingError as exc:
        raise BackupCorruptError(
            f"The backup file {source.parent.name}/{source.name} is damaged or truncated ({exc}); "
            "make a new backup."
        ) from exc


def copy_plain(source: Path, target: BinaryIO) -> Decrypted:
    """Copy an unencrypted backup's file, hashing it the same way."""
    digest = hashlib.sha256()
    size = 0
    with source.open("rb", buffering=0) as handle:
        while chunk := handle.read(CHUNK):
            target.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return Decrypted(size, digest.hexdigest())
