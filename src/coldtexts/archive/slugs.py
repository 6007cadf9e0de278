"""Folder names for conversations: readable, safe on every file system, assigned once.

A slug is made from the conversation's title the first time the archive sees it, stored
in the store and never changed, so a renamed group or contact never orphans a folder.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container

MAX_SLUG_LENGTH = 60
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_SPACES = re.compile(r"\s+")
_WINDOWS_RESERVED = {
    "con", "prn", "aux", "nul",
    *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10)),
}


def sanitise(title: str) -> str:
    """A file-system-safe version of `title` (may be empty)."""
    text = unicodedata.normalize("NFC", title)
    text = _UNSAFE.sub(" ", text)
    # Drop other invisible controls (bidi overrides could disguise a name) but keep the
    # zero-width joiners that hold emoji sequences together.
    text = "".join(ch for ch in text if ch in "\u200c\u200d"
                   or unicodedata.category(ch)[0] != "C")
    text = _SPACES.sub(" ", text).strip(" .")
    text = text[:MAX_SLUG_LENGTH].strip(" .")
    if text.split(".", 1)[0].lower() in _WINDOWS_RESERVED:
        text = f"_{text}"[:MAX_SLUG_LENGTH]
    return text


def unique_slug(title: str, taken: Container[str]) -> str:
    """The sanitised title, or "title-2", "title-3", … when taken (case-insensitively:
    macOS and Windows folders are case-insensitive). `taken` holds lower-cased slugs."""
    base = sanitise(title) or "conversation"
    if base.lower() not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = base[: MAX_SLUG_LENGTH - len(suffix)].rstrip(" .") + suffix
        if candidate.lower() not in taken:
            return candidate
        number += 1
