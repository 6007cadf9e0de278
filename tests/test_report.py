"""The run report: summary line, JSON file, problem counts and backup warnings."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coldtexts.report import (
    ConversationCounts,
    RunReport,
    backup_warnings,
    outcome_for,
    problem_counts,
    summary_line,
    write_json,
)

START = datetime(2024, 6, 2, 3, 0, tzinfo=UTC)


def report(**kwargs: object) -> RunReport:
    base: dict[str, object] = dict(
        started=START, finished=START + timedelta(seconds=0.9), outcome="partial",
        exit_code=3, archive="/a", backup="/b",
        conversations=(
            ConversationCounts("Mom", "Mom", new=1000, edited=3, attachments_missing=4),
            ConversationCounts("Dad", "Dad", new=234, deleted_on_device=2),
            ConversationCounts("Old", "Old"),
        ),
        timings={"unlock": 0.25, "ingest": 0.5},
    )
    base.update(kwargs)
    return RunReport(**base)  # type: ignore[arg-type]


def test_summary_line_counts_everything_on_one_line() -> None:
    line = summary_line(report())
    assert line == ("coldtexts: archived 1,234 new messages in 2 conversations "
                    "(3 edited, 2 no longer on device); 4 attachments missing; 0.9 s")
    assert "\n" not in line


def test_summary_line_for_a_quiet_month_and_singulars() -> None:
    quiet = report(conversations=(ConversationCounts("Mom", new=1),), outcome="success",
                   exit_code=0)
    assert summary_line(quiet) == "coldtexts: archived 1 new message in 1 conversation; 0.9 s"
    nothing = report(conversations=(), warnings=("w",), outcome="dry run")
    assert summary_line(nothing) == "coldtexts: would archive 0 new messages; 1 warning; 0.9 s"


def test_summary_line_for_a_failed_run_says_why() -> None:
    failed = report(error="Wrong password; try again.", exit_code=20, outcome="failed")
    assert summary_line(failed) == "coldtexts: failed (exit 20): Wrong password; try again."


def test_problem_counts_group_by_kind_with_a_few_examples() -> None:
    pairs = [("undecodable body", f"G{i}") for i in range(8)] + [("bad date", None),
                                                                  ("bad date", "X")]
    counts = problem_counts(pairs)
    assert [(p.kind, p.count) for p in counts] == [("bad date", 2), ("undecodable body", 8)]
    assert counts[0].examples == ("X",)
    assert counts[1].examples == ("G0", "G1", "G2", "G3", "G4")
    assert "10 messages partly unreadable" in summary_line(report(problems=counts))


def test_write_json_is_private_and_complete(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    write_json(report(warnings=("old backup",)), target)
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["totals"] == {"new": 1234, "edited": 3, "deleted_on_device": 2,
                              "attachments_missing": 4, "conversations_changed": 2}
    assert data["conversations"][0] == {"conversation": "Mom", "title": "Mom", "new": 1000,
                                        "edited": 3, "deleted_on_device": 0,
                                        "attachments_missing": 4}
    assert data["timings"] == {"unlock": 0.25, "ingest": 0.5}
    assert (data["exit_code"], data["outcome"], data["seconds"]) == (3, "partial", 0.9)
    assert data["warnings"] == ["old backup"]
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]


def test_outcome_for_exit_codes() -> None:
    assert [outcome_for(c) for c in (0, 3, 20)] == ["success", "partial", "failed"]


# -- warnings ------------------------------------------------------------------------------
NOW = datetime(2024, 6, 2, tzinfo=UTC)


def test_no_warning_for_a_fresh_encrypted_backup() -> None:
    assert backup_warnings(NOW - timedelta(days=1), NOW - timedelta(days=31), NOW, 45,
                           True) == []


def test_older_than_the_last_ingested() -> None:
    [warning] = backup_warnings(NOW - timedelta(days=40), NOW - timedelta(days=2), NOW, 45,
                                True)
    assert "older than the newest one already archived (2024-05-31)" in warning


@pytest.mark.parametrize(("age", "limit", "warned"), [(46, 45, True), (45, 45, False),
                                                      (400, None, False)])
def test_forgotten_monthly_backup(age: int, limit: int | None, warned: bool) -> None:
    warnings = backup_warnings(NOW - timedelta(days=age), None, NOW, limit, True)
    assert bool(warnings) is warned
    if warned:
        assert f"{age} days old" in warnings[0] and "forgotten" in warnings[0]


def test_unencrypted_backup_recommends_encryption() -> None:
    [warning] = backup_warnings(NOW, None, NOW, 45, False)
    assert "not encrypted" in warning and "Encrypt local backup" in warning
