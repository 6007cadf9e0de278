"""The run report: what one export did, as one summary line and as a JSON file.

The pipeline builds a RunReport at the end of a run; the CLI prints summary_line() on
stdout (the only stdout output of an unattended run) and writes write_json() where
--report points. The warnings about the backup itself are pure functions here so that
they are decided in one place and tested without a backup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from coldtexts.errors import EXIT_OK, EXIT_PARTIAL
from coldtexts.fsutil import atomic_write_text

REPORT_FORMAT = 1  # bumped when a key changes meaning; new keys may appear at any time
STAGES = ("unlock", "decrypt", "ingest", "attachments", "render", "manifest")
MAX_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class ConversationCounts:
    """One conversation's changes in this run (the folder name is its stable label)."""

    conversation: str  # the archive folder (slug)
    title: str = ""
    new: int = 0
    edited: int = 0
    deleted_on_device: int = 0  # archived, no longer in this backup: kept, never removed
    attachments_missing: int = 0


@dataclass(frozen=True, slots=True)
class ProblemCount:
    """How often one kind of read problem happened, with a few message GUIDs to look at."""

    kind: str
    count: int
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RunReport:
    started: datetime
    finished: datetime
    outcome: str  # "success", "partial", "failed", "dry run"
    exit_code: int
    archive: str
    backup: str = ""
    conversations: tuple[ConversationCounts, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)  # seconds per stage
    problems: tuple[ProblemCount, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None  # the one sentence shown when the run failed

    @property
    def totals(self) -> ConversationCounts:
        c = self.conversations
        return ConversationCounts(
            conversation="", new=sum(x.new for x in c), edited=sum(x.edited for x in c),
            deleted_on_device=sum(x.deleted_on_device for x in c),
            attachments_missing=sum(x.attachments_missing for x in c),
        )

    @property
    def seconds(self) -> float:
        return max(0.0, (self.finished - self.started).total_seconds())


def problem_counts(problems: Iterable[tuple[str, str | None]]) -> tuple[ProblemCount, ...]:
    """Group (kind, message GUID) pairs into counts with up to MAX_EXAMPLES GUIDs each."""
    counts: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    for kind, guid in problems:
        counts[kind] = counts.get(kind, 0) + 1
        found = examples.setdefault(kind, [])
        if guid and len(found) < MAX_EXAMPLES and guid not in found:
            found.append(guid)
    return tuple(ProblemCount(k, counts[k], tuple(examples[k])) for k in sorted(counts))


def outcome_for(exit_code: int) -> str:
    return {EXIT_OK: "success", EXIT_PARTIAL: "partial"}.get(exit_code, "failed")


# -- the summary line ----------------------------------------------------------------------
def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def summary_line(report: RunReport) -> str:
    """One line for stdout, e.g. 'coldtexts: archived 1,234 new messages in 12
    conversations (3 edited, 2 no longer on device); 4 attachments missing; 0.9 s'."""
    if report.error is not None:
        return f"coldtexts: failed (exit {report.exit_code}): {report.error}"
    totals = report.totals
    changed = [c for c in report.conversations
               if c.new or c.edited or c.deleted_on_device or c.attachments_missing]
    verb = "would archive" if report.outcome == "dry run" else "archived"
    head = f"coldtexts: {verb} {_n(totals.new, 'new message')}"
    if totals.new:
        head += f" in {_n(len([c for c in changed if c.new]), 'conversation')}"
    details = []
    if totals.edited:
        details.append(f"{totals.edited:,} edited")
    if totals.deleted_on_device:
        details.append(f"{totals.deleted_on_device:,} no longer on device")
    if details:
        head += f" ({', '.join(details)})"
    parts = [head]
    if totals.attachments_missing:
        parts.append(f"{_n(totals.attachments_missing, 'attachment')} missing")
    problems = sum(p.count for p in report.problems)
    if problems:
        parts.append(f"{_n(problems, 'message')} partly unreadable")
    if report.warnings:
        parts.append(_n(len(report.warnings), "warning"))
    parts.append(f"{report.seconds:.1f} s")
    return "; ".join(parts)


# -- the JSON file -------------------------------------------------------------------------
def to_json(report: RunReport) -> dict[str, object]:
    totals = report.totals
    return {
        "format": REPORT_FORMAT,
        "started": report.started.isoformat(),
        "finished": report.finished.isoformat(),
        "seconds": round(report.seconds, 3),
        "outcome": report.outcome,
        "exit_code": report.exit_code,
        "error": report.error,
        "archive": report.archive,
        "backup": report.backup,
        "totals": {"new": totals.new, "edited": totals.edited,
                   "deleted_on_device": totals.deleted_on_device,
                   "attachments_missing": totals.attachments_missing,
                   "conversations_changed": sum(1 for c in report.conversations
                                                if c.new or c.edited or c.deleted_on_device)},
        "conversations": [
            {"conversation": c.conversation, "title": c.title, "new": c.new,
             "edited": c.edited, "deleted_on_device": c.deleted_on_device,
             "attachments_missing": c.attachments_missing}
            for c in report.conversations
        ],
        "timings": {k: round(v, 3) for k, v in report.timings.items()},
        "problems": [{"kind": p.kind, "count": p.count, "examples": list(p.examples)}
                     for p in report.problems],
        "warnings": list(report.warnings),
    }


def write_json(report: RunReport, path: Path) -> None:
    """Write the report atomically (0600: it names conversations)."""
    text = json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(Path(path), text)


# -- warnings about the backup -------------------------------------------------------------
def backup_warnings(backup_date: datetime, last_ingested_date: datetime | None,
                    now: datetime, max_age_days: int | None, encrypted: bool) -> list[str]:
    """What the user should hear about the backup, each as one sentence with the fix."""
    warnings: list[str] = []
    when = backup_date.date().isoformat()
    if last_ingested_date is not None and backup_date < last_ingested_date:
        warnings.append(
            f"This backup ({when}) is older than the newest one already archived "
            f"({last_ingested_date.date().isoformat()}); nothing in it is lost, but make a "
            "new backup to archive recent messages."
        )
    if max_age_days is not None and now - backup_date > timedelta(days=max_age_days):
        age = (now - backup_date).days
        warnings.append(
            f"The newest backup is {age} days old ({when}); the monthly backup may have "
            "been forgotten: connect the iPhone and back it up in Finder or Apple Devices."
        )
    if not encrypted:
        warnings.append(
            "This backup is not encrypted; turn on 'Encrypt local backup' in Finder or "
            "Apple Devices: it is the recommended practice and such backups carry more data."
        )
    return warnings
