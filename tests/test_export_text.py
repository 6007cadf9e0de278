"""TXT transcript and JSON Lines: one line per message, relative paths, the canonical
model round-trips, and the same bytes every run."""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
from pathlib import Path

import msgspec
import pytest
from coldtexts.exporters import jsonl
from coldtexts.exporters.base import RenderContext

from coldtexts.messages.models import Message, MessageKind
from coldtexts.view import VolumeView
from export_support import render, showcase_archive
from view_factory import bulk_volume, guid

STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d  ")
Archive = tuple[tuple[VolumeView, ...], RenderContext]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return showcase_archive(tmp_path_factory.mktemp("archive"), previews=False)


def transcript(archive: Archive) -> str:
    return render("txt", *archive)["conversations/family/transcript.txt"].decode("utf-8")


def records(archive: Archive) -> list[dict[str, object]]:
    data = render("jsonl", *archive)["conversations/family/messages.jsonl"]
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def line_of(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


def test_txt_has_one_timed_line_per_message(archive: Archive) -> None:
    text = transcript(archive)
    messages = [m for v in archive[0] for m in v.messages]
    assert sum(1 for line in text.splitlines() if STAMP.match(line)) == len(messages)
    assert line_of(text, "Good morning").startswith("2024-01-05 09:02  Mom: ")
    assert line_of(text, "named the conversation").startswith("2024-01-04 10:00  -- Dad")


def test_txt_says_reactions_edits_replies_and_flags_in_words(archive: Archive) -> None:
    text = transcript(archive)
    assert "reactions: ❤️ Dad, 😂 You, 🎉 李伟" in text
    assert "earlier text: “Dinner at 6 tonight”" in text
    assert "(replying to Dad: “Who is bringing dessert?”) I will bring pie" in text
    assert "(replying to a message not in the archive)" in text
    assert "(sent with Slam)" in text and "(not delivered)" in text
    assert "transcript: “Hi, it's Mom, call me back”" in text
    assert "missing: the phone had not downloaded" in text


def test_txt_attachment_paths_are_relative_and_resolve(archive: Archive) -> None:
    root = archive[1].archive_root
    paths = re.findall(r": (\.\./\.\./attachments/[^\],]+)", transcript(archive))
    assert len(paths) >= 8
    for path in paths:
        assert (root / posixpath.normpath(posixpath.join("conversations/family", path))
                ).is_file()


def test_jsonl_is_one_record_per_message_in_order(archive: Archive) -> None:
    found = records(archive)
    views = [(v.volume.key, m) for v in archive[0] for m in v.messages]
    assert [r["message"]["guid"] for r in found] == [m.message.guid for _k, m in views]
    assert [r["volume"] for r in found] == [k for k, _m in views]
    assert all(r["format"] == jsonl.FORMAT for r in found)


def test_jsonl_message_is_the_canonical_model(archive: Archive) -> None:
    views = [m for v in archive[0] for m in v.messages]
    for record, view in zip(records(archive), views, strict=True):
        decoded = msgspec.json.decode(json.dumps(record["message"]).encode(), type=Message)
        assert decoded == view.message


def test_jsonl_carries_attachments_reactions_revisions_and_replies(archive: Archive) -> None:
    by_guid = {r["message"]["guid"]: r for r in records(archive)}  # type: ignore[index]
    photos = by_guid[guid("photos")]
    assert photos["attachments"][0]["path"].startswith("attachments/")
    assert [r["part"] for r in photos["reactions"]] == [1, 2]
    missing = by_guid[guid("missing")]["attachments"][0]
    assert missing["path"] is None and "iCloud" in missing["missing_reason"]
    assert by_guid[guid("edited")]["revisions"][0]["text"] == "Dinner at 6 tonight"
    assert by_guid[guid("answer")]["reply_to"]["guid"] == guid("question")
    assert by_guid[guid("gone")]["no_longer_on_device"].startswith("2024-06-01")
    assert by_guid[guid("renamed")]["event_text"] == "Dad named the conversation “Family”"


def test_jsonl_schema_documents_every_key(archive: Archive) -> None:
    doc = jsonl.__doc__ or ""
    for record in records(archive)[:5]:
        for key in record:
            assert f'"{key}"' in doc, key
    for field in dataclasses.fields(Message):
        if field.name != "rowid":  # diagnostics only
            assert field.name in doc, field.name


def test_text_formats_are_byte_identical_across_runs(archive: Archive) -> None:
    for name in ("txt", "jsonl"):
        assert render(name, *archive) == render(name, *archive)


def test_events_and_long_conversations(tmp_path: Path, archive: Archive) -> None:
    volume = bulk_volume(2000, attachment_every=50)
    ctx = RenderContext(tmp_path, archive[1].options)
    text = render("txt", (volume,), ctx)["conversations/mom/transcript.txt"].decode()
    assert sum(1 for line in text.splitlines() if STAMP.match(line)) == 2000
    lines = render("jsonl", (volume,), ctx)["conversations/mom/messages.jsonl"].splitlines()
    assert len(lines) == 2000
    kinds = {json.loads(line)["message"]["kind"] for line in lines}
    assert kinds == {MessageKind.MESSAGE.value}
