"""Plain result and input types of the archive's public API."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One ingested backup: every ingest is recorded as a source."""

    udid: str
    device_name: str | None
    product_type: str | None
    ios_version: str | None
    backup_date: datetime
    backup_path: str | None = None


@dataclass(slots=True)
class ConversationIngest:
    """What one ingest changed in one conversation (for the run report)."""

    new: int = 0
    changed: int = 0  # edited, unsent or otherwise different from the archived version
    no_longer_on_device: int = 0  # newly flagged by this ingest


@dataclass(slots=True)
class IngestStats:
    conversations_new: int = 0
    messages_new: int = 0
    messages_changed: int = 0
    messages_unchanged: int = 0
    messages_older_version: int = 0  # an older backup's copy of a message we hold newer
    revisions_added: int = 0
    marked_no_longer_on_device: int = 0
    back_on_device: int = 0
    reactions_new: int = 0
    reactions_changed: int = 0
    attachments_new: int = 0
    by_conversation: dict[str, ConversationIngest] = field(default_factory=dict)  # by slug


@dataclass(frozen=True, slots=True)
class AttachmentNeed:
    guid: str
    device_path: str


class Reason(StrEnum):
    """Why an output was rendered or skipped."""

    NEW = "new"
    CONTENT_CHANGED = "content changed"
    OPTIONS_CHANGED = "options changed"
    TEMPLATES_CHANGED = "exporter or templates changed"
    PREVIOUS_ERROR = "previous attempt failed"
    OUTPUT_MISSING = "output missing"
    OUTPUT_MODIFIED = "output modified outside coldtexts"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class RenderDecision:
    conversation: str  # slug ("" for archive-wide outputs: index.html, assets/)
    path: str
    reason: Reason
    error: str | None = None  # set when rendering this output failed

    @property
    def rendered(self) -> bool:
        return self.reason is not Reason.UNCHANGED and self.error is None


@contextlib.contextmanager
def time_into(totals: dict[str, float], name: str) -> Iterator[None]:
    """Add the seconds the block takes to totals[name] (the run's stages, render's
    exporters)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        totals[name] = totals.get(name, 0.0) + time.perf_counter() - start


@dataclass(slots=True)
class RenderStats:
    decisions: list[RenderDecision] = field(default_factory=list)
    #: Seconds spent per exporter ("html", "pdf", ...) and making "previews".
    seconds: dict[str, float] = field(default_factory=dict)

    def timing(self, name: str) -> contextlib.AbstractContextManager[None]:
        """Add the time the block takes to `name`."""
        return time_into(self.seconds, name)

    @property
    def rendered(self) -> int:
        return sum(1 for d in self.decisions if d.rendered)

    @property
    def skipped(self) -> int:
        return sum(1 for d in self.decisions if d.reason is Reason.UNCHANGED)

    @property
    def failed(self) -> list[RenderDecision]:
        return [d for d in self.decisions if d.error is not None]

    def to_json(self) -> dict[str, object]:
        return {
            "rendered": self.rendered,
            "skipped": self.skipped,
            "failed": len(self.failed),
            "decisions": [
                {"conversation": d.conversation, "path": d.path, "reason": d.reason.value,
                 "error": d.error}
                for d in self.decisions
            ],
        }
