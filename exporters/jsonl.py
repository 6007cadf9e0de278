"""JSON Lines: the canonical model of every message, one JSON object per line.

Schema (format version 1; keys are never renamed, new keys may appear):

    {"format": 1,
     "conversation": {"guid", "folder", "title"},
     "volume": "<volume key: the HTML/PDF file stem holding this message>",
     "sender_name": "<contact name, handle, or the owner label>",
     "message": <coldtexts.messages.models.Message as JSON: guid, chat_guids, kind,
                 is_from_me, sender, service, date (RFC 3339 UTC), date_read,
                 date_delivered, date_edited, date_retracted, text, parts[{index, kind,
                 runs[{text, bold, italic, underline, strikethrough, effect, link, mention}],
                 attachment_guid}], attachments[...], subject, reply_to{guid, part},
                 effect, edits[{part, date, text}], unsent_parts, event{kind, actor,
                 actor_is_me, target, title, detail}, app{bundle_id, kind, description,
                 app_name, url, fields, raw_payload (base64)}, link_preview{...},
                 is_audio_message, audio_expired, failed, deleted_on_device, filtered,
                 owner_address, body_undecodable, extra, and only when the phone
                 holds some: deleted_parts[{index, chat_guid, deleted, text, parts,
                 undecodable, raw (base64)}]}>,
     "attachments": [{"guid", "kind", "path" (archive-relative, null when missing),
                      "sha256", "size", "mime", "missing_reason"}],
     "reactions": [{"kind", "emoji", "sender_name", "is_from_me", "part"}],
     "revisions": [{"part", "date", "text", "origin"}],
     "reply_to": {"guid", "part", "sender_name", "excerpt"} | null,
     "no_longer_on_device": "<RFC 3339 date of the first backup that lacked it>" | null,
     "event_text": "<a group event in words>" | null}

The file is conversations/<folder>/messages.jsonl; messages in date order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar, Literal

import msgspec

from coldtexts.view import ConversationView, MessageView

from .base import RenderContext, RenderJob, RenderOptions, RenderResult
from .fingerprint import fingerprint, module_files

FORMAT = 1
_ENCODER = msgspec.json.Encoder()


class JsonlExporter:
    name: ClassVar[str] = "jsonl"
    scope: ClassVar[Literal["volume", "conversation"]] = "conversation"
    shows_previews: ClassVar[bool] = False

    def output_path(self, conversation: ConversationView, volume_key: str | None) -> str:
        return f"{conversation.folder}/messages.jsonl"

    def fingerprint(self, options: RenderOptions) -> str:
        return fingerprint(self.name, options, module_files("jsonl"))

    def render_many(self, jobs: Sequence[RenderJob], ctx: RenderContext) -> Iterator[RenderResult]:
        for job in jobs:
            yield RenderResult(job, render_lines(job))


def _record(conversation: dict[str, str], volume: str, view: MessageView) -> dict[str, object]:
    reply = view.reply_to
    return {
        "format": FORMAT,
        "conversation": conversation,
        "volume": volume,
        "sender_name": view.sender_name,
        "message": view.message,
        "attachments": [
            {"guid": a.attachment.guid, "kind": a.kind, "path": a.original, "sha256": a.sha256,
             "size": a.size, "mime": a.mime, "missing_reason": a.missing_reason}
            for a in view.attachments
        ],
        "reactions": [
            {"kind": r.kind.value, "emoji": r.emoji, "sender_name": r.sender_name,
             "is_from_me": r.is_from_me, "part": r.part}
            for r in view.reactions
        ],
        "revisions": [
            {"part": r.part, "date": r.date, "text": r.text, "origin": r.origin}
            for r in view.revisions
        ],
        "reply_to": None if reply is None else {
            "guid": reply.guid, "part": reply.part, "sender_name": reply.sender_name,
            "excerpt": reply.excerpt},
        "no_longer_on_device": view.no_longer_on_device,
        "event_text": view.event_text,
    }


def render_lines(job: RenderJob) -> bytes:
    conversation = {"guid": job.conversation.guid, "folder": job.conversation.folder,
                    "title": job.conversation.title}
    out = bytearray()
    for volume in job.volumes:
        for view in volume.messages:
            out += _ENCODER.encode(_record(conversation, volume.volume.key, view))
            out += b"\n"
    return bytes(out)
