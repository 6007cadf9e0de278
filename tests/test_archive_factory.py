"""Builders shared by the archive tests: model objects, small real exporters, one run.

The exporters here really render: each writes a text page showing everything a volume
view carries (texts, senders, revisions, reactions, attachments, replies, flags), so a
change the archive fails to notice shows up as a wrong file in the tests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal

from coldtexts.exporters.base import RenderContext, RenderJob, RenderOptions, RenderResult

from coldtexts.archive import Archive, IngestStats, RenderStats, SourceInfo
from coldtexts.messages.models import (
    Attachment,
    Conversation,
    EditRevision,
    Message,
    MessageKind,
    Part,
    Participant,
    PartKind,
    Reaction,
    ReactionKind,
    TextRun,
)
from coldtexts.view import ConversationView, MessageView

T0 = datetime(2019, 3, 1, 12, 0, tzinfo=UTC)


def conversation(n: int, *, name: str | None = None) -> Conversation:
    handle = f"+1555000{n:04d}"
    return Conversation(
        guid=f"iMessage;-;{handle}", identifier=handle, service="iMessage", display_name=name,
        is_group=False, participants=(Participant(handle, f"Person {n}"),),
    )


def message(guid: str, conv: Conversation, minutes: int, text: str, *,
            from_me: bool = False, **extra: object) -> Message:
    sender = None if from_me else conv.participants[0].handle
    parts = (Part(0, PartKind.TEXT, (TextRun(text),)),) if text else ()
    fields: dict[str, object] = dict(
        guid=guid, rowid=minutes + 1, chat_guids=(conv.guid,), kind=MessageKind.MESSAGE,
        is_from_me=from_me, sender=sender, service="iMessage",
        date=T0 + timedelta(minutes=minutes), text=text, parts=parts,
    )
    fields.update(extra)
    return Message(**fields)  # type: ignore[arg-type]


def edited(original: Message, new_text: str, minutes_later: int = 5) -> Message:
    when = original.date + timedelta(minutes=minutes_later)
    return Message(
        **{**_fields(original), "text": new_text, "date_edited": when,
           "parts": (Part(0, PartKind.TEXT, (TextRun(new_text),)),),
           "edits": (EditRevision(0, original.date, original.text),
                     EditRevision(0, when, new_text))},
    )


def _fields(m: Message) -> dict[str, object]:
    return {name: getattr(m, name) for name in Message.__dataclass_fields__}


def tapback(guid: str, target: Message, minutes: int, *, added: bool = True,
            kind: ReactionKind = ReactionKind.LOVE, sender: str | None = None) -> Reaction:
    return Reaction(guid=guid, target_guid=target.guid, target_part=0, kind=kind, added=added,
                    is_from_me=sender is None, sender=sender,
                    date=T0 + timedelta(minutes=minutes), chat_guids=target.chat_guids)


def photo(guid: str, path: str | None = "~/Library/SMS/Attachments/ab/IMG.HEIC") -> Attachment:
    return Attachment(guid=guid, filename=path, transfer_name="IMG_0001.HEIC",
                      mime_type="image/heic", uti="public.heic", total_bytes=10)


def dataset(conversations: int, per_conversation: int, *, start: int = 0,
            minutes_apart: int = 60) -> tuple[list[Conversation], Iterator[Message]]:
    convs = [conversation(n) for n in range(conversations)]

    def messages() -> Iterator[Message]:
        for c_index, conv in enumerate(convs):
            for i in range(start, start + per_conversation):
                yield message(f"m-{c_index}-{i}", conv, i * minutes_apart,
                              f"message {i} in conversation {c_index}", from_me=i % 3 == 0)
    return convs, messages()


def source(days: int = 0, udid: str = "UDID-A") -> SourceInfo:
    return SourceInfo(udid=udid, device_name="Test iPhone", product_type="iPhone15,2",
                      ios_version="17.5", backup_date=T0 + timedelta(days=400 + days),
                      backup_path=f"/backups/{udid}")


def describe(m: MessageView) -> str:
    """Everything a view says about a message, on one line (what a page would show)."""
    bits = [m.anchor, m.sender_name, repr(m.message.text)]
    bits += [f"rev[{r.origin}]={r.text!r}" for r in m.revisions]
    bits += [f"react={r.emoji}:{r.sender_name}" for r in m.reactions]
    bits += [f"att={a.original or 'missing: ' + str(a.missing_reason)}" for a in m.attachments]
    if m.reply_to:
        bits.append(f"reply={m.reply_to.href}:{m.reply_to.excerpt!r}")
    if m.no_longer_on_device:
        bits.append(f"gone={m.no_longer_on_device.date().isoformat()}")
    if m.event_text:
        bits.append(f"event={m.event_text}")
    return " ".join(bits)


class PageExporter:
    """Per-volume text pages, plus the HTML exporter's site pages (index, assets)."""

    name: ClassVar[str] = "page"
    scope: ClassVar[Literal["volume", "conversation"]] = "volume"
    shows_previews: ClassVar[bool] = True
    version = "1"

    def output_path(self, conversation: ConversationView, volume_key: str | None) -> str:
        return f"{conversation.folder}/{volume_key}.txt"

    def fingerprint(self, options: RenderOptions) -> str:
        return hashlib.sha256(f"page{self.version}|{options!r}".encode()).hexdigest()

    def render_many(self, jobs: Sequence[RenderJob], ctx: RenderContext) -> Iterator[RenderResult]:
        for job in jobs:
            lines = [job.conversation.title,
                     " ".join(v.key for v in job.conversation.volumes)]
            for volume in job.volumes:
                lines += [describe(m) for m in volume.messages]
            yield RenderResult(job, ("\n".join(lines) + "\n").encode("utf-8"))

    def render_site_index(self, conversations: Sequence[ConversationView],
                          ctx: RenderContext) -> bytes:
        return "\n".join(f"{c.slug} {c.title} {c.message_count}"
                         for c in conversations).encode("utf-8")

    def render_conversation_index(self, conversation: ConversationView,
                                  ctx: RenderContext) -> bytes:
        return json.dumps([v.key for v in conversation.volumes]).encode("utf-8")

    def assets(self) -> dict[str, bytes]:
        return {"style.css": b"body { font-family: serif }\n"}


class TranscriptExporter:
    """A whole-conversation format, like transcript.txt."""

    name: ClassVar[str] = "transcript"
    scope: ClassVar[Literal["volume", "conversation"]] = "conversation"
    shows_previews: ClassVar[bool] = False

    def output_path(self, conversation: ConversationView, volume_key: str | None) -> str:
        return f"{conversation.folder}/transcript.txt"

    def fingerprint(self, options: RenderOptions) -> str:
        return "transcript-1|" + options.timezone

    def render_many(self, jobs: Sequence[RenderJob], ctx: RenderContext) -> Iterator[RenderResult]:
        for job in jobs:
            text = "\n".join(describe(m) for v in job.volumes for m in v.messages)
            yield RenderResult(job, text.encode("utf-8"))


def exporters() -> list[PageExporter | TranscriptExporter]:
    return [PageExporter(), TranscriptExporter()]


def render_context(root: Path, timezone: str = "America/New_York") -> RenderContext:
    return RenderContext(root, RenderOptions(timezone=timezone))


def run_once(root: Path, convs: Sequence[Conversation], messages: Iterator[Message] | list[Message],
             reactions: Sequence[Reaction] = (), *, src: SourceInfo | None = None,
             complete: bool = True) -> tuple[IngestStats, RenderStats]:
    """One export: ingest, render, finish (as the pipeline does)."""
    with Archive.open(root) as archive:
        source_id = archive.begin_source(src or source())
        ingest = archive.ingest(source_id, convs, messages, reactions, complete=complete)
        rendered = archive.render(exporters(), render_context(root))
        archive.finish_run("success", {"rendered": rendered.rendered})
    return ingest, rendered


def page(root: Path, slug: str, key: str) -> str:
    return (root / "conversations" / slug / f"{key}.txt").read_text("utf-8")


def test_dataset_is_deterministic() -> None:
    first = list(dataset(2, 3)[1])
    second = list(dataset(2, 3)[1])
    assert first == second and len(first) == 6
    assert len({m.guid for m in first}) == 6


def test_edited_keeps_device_history() -> None:
    conv = conversation(1)
    original = message("g", conv, 0, "hello")
    later = edited(original, "hello there")
    assert later.text == "hello there"
    assert [e.text for e in later.edits] == ["hello", "hello there"]
