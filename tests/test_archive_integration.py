"""The archive with the real reader and the real exporters (HTML, TXT, JSONL).

The showcase sms.db (every kind of message the builder makes) goes through the sms.db
reader into the archive and out through the exporters; a second run renders nothing,
and an edit in a later backup re-renders only its conversation.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from coldtexts.exporters.base import RenderContext, RenderOptions
from coldtexts.exporters.html import HtmlExporter
from coldtexts.exporters.jsonl import JsonlExporter
from coldtexts.exporters.txt import TxtExporter

from coldtexts.archive import Archive, Reason, RenderStats, verify
from coldtexts.fixtures.smsdb_builder import build_showcase
from coldtexts.messages.models import Message, Part, PartKind, TextRun
from coldtexts.messages.reader import SmsDatabase
from test_archive_factory import source


def _export(root: Path, sms_db: Path, days: int = 0,
            change: dict[str, str] | None = None) -> RenderStats:
    with SmsDatabase.open(sms_db) as sms, Archive.open(root) as archive:
        messages = sms.messages()
        if change:
            messages = (_with_text(m, change.get(m.guid)) for m in messages)
        archive.ingest(archive.begin_source(source(days)), sms.conversations(), messages,
                       sms.reactions())
        ctx = RenderContext(root, RenderOptions(timezone="America/New_York"))
        stats = archive.render([HtmlExporter(), TxtExporter(), JsonlExporter()], ctx)
        archive.finish_run("success", {})
    return stats


def _with_text(message: Message, text: str | None) -> Message:
    if text is None:
        return message
    parts = (Part(0, PartKind.TEXT, (TextRun(text),)),)
    return dataclasses.replace(message, text=text, parts=parts)


def test_showcase_through_reader_archive_and_exporters(tmp_path: Path) -> None:
    sms_db = tmp_path / "sms.db"
    build_showcase(sms_db)
    root = tmp_path / "Archive"

    first = _export(root, sms_db)
    assert first.failed == [] and first.rendered > 0
    assert (root / "index.html").is_file() and (root / "assets").is_dir()
    assert verify(root).ok

    again = _export(root, sms_db)
    assert again.rendered == 0
    assert {d.reason for d in again.decisions} == {Reason.UNCHANGED}

    with SmsDatabase.open(sms_db) as sms:
        target = next(m for m in sms.messages() if m.text and m.chat_guids)
    later = _export(root, sms_db, days=30, change={target.guid: "Changed on the phone"})
    touched = {d.conversation for d in later.decisions if d.rendered}
    assert len(touched - {""}) == 1
    slug = next(iter(touched - {""}))
    transcript = (root / "conversations" / slug / "transcript.txt").read_text("utf-8")
    assert "Changed on the phone" in transcript
    assert f"changed between backups, earlier text: “{target.text}”" in transcript
    assert verify(root).ok
