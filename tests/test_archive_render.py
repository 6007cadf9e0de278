"""Incremental rendering: what is re-rendered, why, and what is left alone."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from coldtexts.exporters.base import RenderContext, RenderJob, RenderOptions, RenderResult

from coldtexts.archive import Archive, Reason, RenderStats, status
from coldtexts.archive.store import to_us
from coldtexts.archive.volumes import split_volumes
from coldtexts.errors import ConfigError
from coldtexts.messages.models import Participant
from coldtexts.view import ConversationView
from test_archive_factory import (
    PageExporter,
    TranscriptExporter,
    conversation,
    dataset,
    exporters,
    message,
    photo,
    render_context,
    run_once,
    source,
    tapback,
)


def _render(root: Path, exps: Sequence[object] | None = None,
            ctx: RenderContext | None = None, **kwargs: object) -> RenderStats:
    with Archive.open(root) as archive:
        stats = archive.render(exps or exporters(), ctx or render_context(root),  # type: ignore[arg-type]
                               **kwargs)  # type: ignore[arg-type]
        archive.finish_run("success", {})
    return stats


def _reasons(stats: RenderStats) -> dict[str, Reason]:
    return {d.path: d.reason for d in stats.decisions}


def test_adding_messages_to_one_conversation_rerenders_only_it(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    convs, msgs = dataset(3, 50, minutes_apart=60 * 24 * 10)  # spans 2019 and 2020
    run_once(root, convs, msgs)
    extra = [message(f"x{i}", convs[1], 60 * 24 * 800 + i, f"added {i}") for i in range(200)]
    _, stats = run_once(root, convs[1:2], extra, src=source(300), complete=False)
    rendered = sorted(d.path for d in stats.decisions if d.rendered)
    assert rendered == [
        "conversations/Person 1/2019.txt", "conversations/Person 1/2020.txt",
        "conversations/Person 1/2021.txt", "conversations/Person 1/index.html",
        "conversations/Person 1/transcript.txt", "index.html",
    ]  # 2019/2020 pages list the volumes, so the new 2021 volume changes them too
    reasons = _reasons(stats)
    assert reasons["conversations/Person 1/2021.txt"] is Reason.NEW
    assert reasons["conversations/Person 1/2020.txt"] is Reason.CONTENT_CHANGED
    assert reasons["conversations/Person 0/2019.txt"] is Reason.UNCHANGED


def test_a_second_run_renders_nothing(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    convs, msgs = dataset(2, 10)
    run_once(root, convs, msgs)
    stats = _render(root)
    assert stats.rendered == 0
    assert set(_reasons(stats).values()) == {Reason.UNCHANGED}


def test_outputs_changed_outside_are_rendered_again(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    convs, msgs = dataset(2, 10)
    run_once(root, convs, msgs)
    (root / "conversations/Person 0/2019.txt").write_text("tampered")
    (root / "conversations/Person 1/transcript.txt").unlink()
    reasons = _reasons(_render(root))
    assert reasons["conversations/Person 0/2019.txt"] is Reason.OUTPUT_MODIFIED
    assert reasons["conversations/Person 1/transcript.txt"] is Reason.OUTPUT_MISSING
    assert reasons["conversations/Person 1/2019.txt"] is Reason.UNCHANGED
    assert "tampered" not in (root / "conversations/Person 0/2019.txt").read_text()


def test_options_and_templates_changes_are_told_apart(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    convs, msgs = dataset(1, 5)
    run_once(root, convs, msgs)
    newer = PageExporter()
    newer.version = "2"
    reasons = _reasons(_render(root, [newer, TranscriptExporter()]))
    assert reasons["conversations/Person 0/2019.txt"] is Reason.TEMPLATES_CHANGED
    assert reasons["conversations/Person 0/transcript.txt"] is Reason.UNCHANGED
    reasons = _reasons(_render(root, [newer, TranscriptExporter()],
                               render_context(root, "Europe/Paris")))
    assert reasons["conversations/Person 0/2019.txt"] is Reason.OPTIONS_CHANGED
    owner = dataclasses.replace(render_context(root, "Europe/Paris"),
                                options=RenderOptions(timezone="Europe/Paris", owner_name="Ann"))
    reasons = _reasons(_render(root, [newer, TranscriptExporter()], owner))
    # the transcript's fingerprint ignores owner_name; the options digest does not
    assert reasons["conversations/Person 0/transcript.txt"] is Reason.OPTIONS_CHANGED


def test_a_change_to_the_view_code_renders_every_output_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reply's excerpt is written by archive/views.py, not by any exporter: archives
    rendered before a change there must not keep the old text in their pages, whatever
    each exporter's own fingerprint covers."""
    from coldtexts.archive import render

    root = tmp_path / "Archive"
    convs, msgs = dataset(1, 5)
    run_once(root, convs, msgs)
    real = render.view_code_files()
    assert {p.name for p in real} >= {"views.py", "words.py"} and all(p.is_file() for p in real)
    changed = tmp_path / "views.py"
    changed.write_bytes(real[0].read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(render, "view_code_files", lambda: [changed, *real[1:]])
    reasons = _reasons(_render(root))
    assert set(reasons.values()) == {Reason.TEMPLATES_CHANGED}
    assert set(_reasons(_render(root)).values()) == {Reason.UNCHANGED}


def test_contact_rename_rerenders_that_conversation(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    convs, msgs = dataset(2, 5)
    run_once(root, convs, msgs)
    renamed = dataclasses.replace(
        convs[0], participants=(Participant(convs[0].identifier, "Grandma"),))
    _, stats = run_once(root, [renamed, convs[1]], dataset(2, 5)[1], src=source(10))
    reasons = _reasons(stats)
    assert reasons["conversations/Person 0/2019.txt"] is Reason.CONTENT_CHANGED
    assert reasons["conversations/Person 1/2019.txt"] is Reason.UNCHANGED
    assert "Grandma" in (root / "conversations/Person 0/2019.txt").read_text()


class _Broken(TranscriptExporter):
    def render_many(self, jobs: Sequence[RenderJob], ctx: RenderContext) -> Iterator[RenderResult]:
        for job in jobs:
            if "Person 0" in job.path:
                yield RenderResult(job, None, "could not lay out the page")
            else:
                yield RenderResult(job, b"fine")


def test_a_failed_output_is_recorded_and_retried(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    convs, msgs = dataset(2, 5)
    with Archive.open(root) as archive:
        archive.ingest(archive.begin_source(source()), convs, msgs, [])
        stats = archive.render([PageExporter(), _Broken()], render_context(root))
        archive.finish_run("partial", {})
    assert [(d.path, d.error) for d in stats.failed] == [
        ("conversations/Person 0/transcript.txt", "could not lay out the page")]
    assert (root / "conversations/Person 1/transcript.txt").read_bytes() == b"fine"
    assert not (root / "conversations/Person 0/transcript.txt").exists()
    assert status(root).outputs_failed == 1
    reasons = _reasons(_render(root))
    assert reasons["conversations/Person 0/transcript.txt"] is Reason.PREVIOUS_ERROR


def test_dry_run_writes_nothing_and_reports_the_plan(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    convs, msgs = dataset(1, 5)
    run_once(root, convs, msgs)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    extra = [message("late", convs[0], 10_000, "late news")]
    with Archive.open(root, dry_run=True) as archive:
        ingest = archive.ingest(archive.begin_source(source(5)), convs, extra, [],
                                complete=False)
        stats = archive.render(exporters(), render_context(root))
        archive.finish_run("success", {})
    assert ingest.messages_new == 1
    assert _reasons(stats)["conversations/Person 0/2019.txt"] is Reason.CONTENT_CHANGED
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert after == before


def test_dry_run_on_a_new_folder_creates_nothing(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    convs, msgs = dataset(1, 3)
    with Archive.open(root, dry_run=True) as archive:
        archive.ingest(archive.begin_source(source()), convs, msgs, [])
        stats = archive.render(exporters(), render_context(root))
    assert stats.rendered > 0 and not root.exists()


def test_filters_limit_the_conversations_rendered(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    convs, msgs = dataset(3, 5)
    with Archive.open(root) as archive:
        archive.ingest(archive.begin_source(source()), convs, msgs, [])
        stats = archive.render(exporters(), render_context(root), conversations=["person 2"])
    assert {d.conversation for d in stats.decisions} == {"Person 2", ""}


def test_volumes_split_busy_years_deterministically() -> None:
    zone = ZoneInfo("America/New_York")
    conv = conversation(1)
    dates = [to_us(message("g", conv, i * 10, "x").date) for i in range(25)]
    later = [*dates, to_us(message("g", conv, 60 * 24 * 400, "x").date)]
    volumes = split_volumes(dates, zone, limit=10)
    assert [(v.ref.key, v.ref.label, v.ref.message_count) for v in volumes] == [
        ("2019-1", "2019 (part 1 of 3)", 10), ("2019-2", "2019 (part 2 of 3)", 10),
        ("2019-3", "2019 (part 3 of 3)", 5)]
    assert split_volumes(later, zone, limit=10)[:3] == volumes


def test_year_follows_the_render_time_zone() -> None:
    conv = conversation(1)
    new_year_utc = message("g", conv, 0, "x", date=message("g", conv, 0, "x").date.replace(
        year=2020, month=1, day=1, hour=2))
    dates = [to_us(new_year_utc.date)]
    assert split_volumes(dates, ZoneInfo("UTC"))[0].ref.key == "2020"
    assert split_volumes(dates, ZoneInfo("America/New_York"))[0].ref.key == "2019"


def test_a_change_the_page_does_not_show_leaves_the_file_untouched(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    conv = conversation(1)
    first = message("a", conv, 0, "hello")
    run_once(root, [conv], [first])
    page_path = root / "conversations/Person 1/2019.txt"
    before = page_path.stat().st_mtime_ns
    read = dataclasses.replace(first, date_read=first.date)  # not shown by PageExporter
    _, stats = run_once(root, [conv], [read], src=source(5))
    assert _reasons(stats)["conversations/Person 1/2019.txt"] is Reason.CONTENT_CHANGED
    assert page_path.stat().st_mtime_ns == before
    assert _reasons(_render(root))["conversations/Person 1/2019.txt"] is Reason.UNCHANGED


class _Escaping(TranscriptExporter):
    def output_path(self, conversation: ConversationView, volume_key: str | None) -> str:
        return f"../{conversation.slug}.txt"


def test_an_output_path_outside_the_archive_fails_that_output(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    convs, msgs = dataset(1, 2)
    with Archive.open(root) as archive:
        archive.ingest(archive.begin_source(source()), convs, msgs, [])
        stats = archive.render([_Escaping()], render_context(root))
    assert [d.error for d in stats.failed] == [
        "refusing to write outside the archive: '../Person 0.txt'"]
    assert not (tmp_path / "Person 0.txt").exists()


def test_an_unknown_time_zone_is_a_configuration_error(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    run_once(root, *dataset(1, 1))
    with Archive.open(root) as archive, pytest.raises(ConfigError, match="Mars/Olympus"):
        archive.render(exporters(), render_context(root, "Mars/Olympus"))


def test_a_new_tapback_or_a_filled_in_attachment_rerenders_the_volume(
        tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    conv = conversation(1)
    target = message("t", conv, 0, "look", attachments=(photo("att"),))
    run_once(root, [conv], [target])
    _, stats = run_once(root, [conv], [target], [tapback("r", target, 5)], src=source(1))
    assert _reasons(stats)["conversations/Person 1/2019.txt"] is Reason.CONTENT_CHANGED
    assert "react=❤️:Me" in (root / "conversations/Person 1/2019.txt").read_text()

    picture = tmp_path / "IMG.HEIC"
    picture.write_bytes(b"pixels")
    with Archive.open(root) as archive:
        archive.store_attachment_file("att", picture, hashlib.sha256(b"pixels").hexdigest(), 6)
        stats = archive.render(exporters(), render_context(root))
    assert _reasons(stats)["conversations/Person 1/2019.txt"] is Reason.CONTENT_CHANGED
    assert "att=attachments/" in (root / "conversations/Person 1/2019.txt").read_text()


def test_conversation_names_are_matched_like_the_filter(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    run_once(root, *dataset(3, 1))
    with Archive.open(root) as archive:
        found = archive.match_conversations(["person 1", "+15550000002", "Bob"])
    assert found == {"person 1": ["Person 1"], "+15550000002": ["Person 2"], "Bob": []}
