"""The content-addressed attachment store: attachments/ab/<sha256>.<ext>, each once.

The `blobs` table maps a SHA-256 to the one stored file; `attachments` maps each
attachment GUID to its blob, or says in words why there is none.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path, PurePosixPath

from .publish import Publisher, record_file
from .types import AttachmentNeed

_EXT = re.compile(r"^[a-z0-9]{1,10}$")
_MIME_EXT = {
    "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/heic": "heic",
    "image/webp": "webp", "video/quicktime": "mov", "video/mp4": "mp4",
    "audio/x-caf": "caf", "audio/amr": "amr", "audio/mp4": "m4a", "audio/mpeg": "mp3",
    "application/pdf": "pdf", "text/vcard": "vcf", "text/x-vlocation": "vcf",
}


def extension(name: str | None, mime: str | None) -> str:
    """A safe lower-case extension for a stored file ("bin" when nothing fits)."""
    if name:
        suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower().lstrip(".")
        if _EXT.match(suffix):
            return suffix
    return _MIME_EXT.get((mime or "").lower(), "bin")


def blob_path(sha256: str, ext: str) -> str:
    return f"attachments/{sha256[:2]}/{sha256}.{ext}"


def needing_files(conn: sqlite3.Connection) -> list[AttachmentNeed]:
    rows = conn.execute(
        "SELECT guid, device_path FROM attachments WHERE sha256 IS NULL "
        "AND device_path IS NOT NULL ORDER BY guid"
    )
    return [AttachmentNeed(guid, path) for guid, path in rows]


def store_file(conn: sqlite3.Connection, publisher: Publisher, guid: str, source: Path,
               sha256: str, size: int) -> str:
    """Put `source` into the store (or drop it when the same content is there already)
    and point the attachment at it. Returns the archive path. The caller commits."""
    row = conn.execute(
        "SELECT name, mime, device_path FROM attachments WHERE guid = ?", (guid,)
    ).fetchone()
    if row is None:
        raise KeyError(f"no attachment {guid} in the archive")
    name, mime, device_path = row
    stored = conn.execute("SELECT path FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
    if stored is not None and (publisher.root / stored[0]).is_file():
        publisher.discard(source)
        path = str(stored[0])
    else:
        path = blob_path(sha256, extension(name or device_path, mime))
        record_file(conn, publisher.move_in(source, path, sha256))
        conn.execute(
            "INSERT OR REPLACE INTO blobs (sha256, path, size) VALUES (?, ?, ?)",
            (sha256, path, size),
        )
    conn.execute(
        "UPDATE attachments SET sha256 = ?, missing_reason = NULL WHERE guid = ?",
        (sha256, guid),
    )
    return path


def record_missing(conn: sqlite3.Connection, guid: str, reason: str) -> None:
    """Say why an attachment has no file (only while it has none; never undoes a file)."""
    conn.execute(
        "UPDATE attachments SET missing_reason = ? WHERE guid = ? AND sha256 IS NULL "
        "AND missing_reason IS NOT ?",
        (reason, guid, reason),
    )


def attachment_kind(mime: str | None, uti: str | None, is_sticker: bool) -> str:
    """"image", "video", "audio", "sticker" or "file", from the MIME type or the UTI."""
    if is_sticker:
        return "sticker"
    mime = (mime or "").lower()
    uti = (uti or "").lower()
    for kind in ("image", "video", "audio"):
        if mime.startswith(f"{kind}/"):
            return kind
    if uti in ("public.heic", "public.jpeg", "public.png", "com.compuserve.gif") or (
        uti.startswith("public.") and uti.endswith("image")
    ):
        return "image"
    if uti in ("com.apple.quicktime-movie", "public.mpeg-4", "public.movie"):
        return "video"
    if uti in ("com.apple.coreaudio-format", "public.audio", "org.3gpp.adaptive-multi-rate-audio"):
        return "audio"
    return "file"
