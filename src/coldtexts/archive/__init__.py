"""The archive: the store, the lock, atomic publishing, manifest, verify, status, search.

The only code that writes into an archive folder."""

from __future__ import annotations

from .core import Archive
from .lock import ArchiveLock, LockHolder
from .status import ArchiveStatus, status
from .types import (
    AttachmentNeed,
    ConversationIngest,
    IngestStats,
    Reason,
    RenderDecision,
    RenderStats,
    SourceInfo,
)
from .verify import VerifyResult, verify

__all__ = [
    "Archive",
    "ArchiveLock",
    "ArchiveStatus",
    "AttachmentNeed",
    "ConversationIngest",
    "IngestStats",
    "LockHolder",
    "Reason",
    "RenderDecision",
    "RenderStats",
    "SourceInfo",
    "VerifyResult",
    "status",
    "verify",
]
