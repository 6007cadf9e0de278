"""Plain-text transcript: one UTF-8 file per conversation, one line per message.

    2024-05-01 09:14  Mom: Good morning sweetheart!
        reactions: ❤️ You

The first line of a message holds its time, sender and text; what belongs to it (more
lines of its text, reactions, former versions, flags) follows, indented. Attachments are
written as relative paths into the archive, so the transcript still points at the files
when the folder is moved.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, tzinfo
from typing import ClassVar, Literal
from zoneinfo import ZoneInfo

from coldtexts.messages.models import MessageKind, PartKind
from coldtexts.view import ConversationView, MessageView

from . import words
from .base import RenderContext, RenderJob, RenderOptions, RenderResult
from .fingerprint import fingerprint, module_files

INDENT = "    "
# Enum members as module constants: a lookup on the Enum class (PartKind.TEXT) costs about
# 0.2 µs, and these are read for every message and part (measured).
_EVENT = MessageKind.EVENT
_TEXT, _ATTACHMENT, _RETRACTED = PartKind.TEXT, PartKind.ATTACHMENT, PartKind.RETRACTED


class TxtExporter:
    name: ClassVar[str] = "txt"
    scope: ClassVar[Literal["volume", "conversation"]] = "conversation"
    shows_previews: ClassVar[bool] = False

    def output_path(self, conversation: ConversationView, volume_key: str | None) -> str:
        return f"{conversation.folder}/transcript.txt"

    def fingerprint(self, options: RenderOptions) -> str:
        return fingerprint(self.name, options, module_files("txt", "words"))

    def render_many(self, jobs: Sequence[RenderJob], ctx: RenderContext) -> Iterator[RenderResult]:
        zone = ZoneInfo(ctx.options.timezone)
        for job in jobs:
            yield RenderResult(job, render_transcript(job, zone, ctx.options).encode("utf-8"))


def render_transcript(job: RenderJob, zone: tzinfo, options: RenderOptions) -> str:
    conversation = job.conversation
    lines = [conversation.title]
    if conversation.is_group:
        lines.append("With " + ", ".join(conversation.participants))
    lines.append(f"{conversation.message_count} messages; times in {options.timezone}")
    lines.append("")
    folder, owner = conversation.folder, options.owner_name
    for volume in job.volumes:
        for view in volume.messages:
            _add_message_lines(lines, view, zone, folder, owner)
    lines.append("")
    return "\n".join(lines)


def _time(moment: datetime, zone: tzinfo) -> str:
    """"YYYY-MM-DD HH:MM": the date's isoformat and a looked-up clock are 3x cheaper than
    formatting five numbers, which is 5x cheaper than strftime (measured)."""
    local = moment.astimezone(zone)
    return f"{local.date().isoformat()} {words.CLOCK[local.hour * 60 + local.minute]}"


def _body(view: MessageView, folder: str) -> list[str]:
    """The message's content in order: text parts, attachments, app and preview lines."""
    message = view.message
    attachments = {a.attachment.guid: a for a in view.attachments} if view.attachments else {}
    pieces: list[str] = []
    for part in message.parts:
        if part.kind is _TEXT:
            text = part.runs[0].text if len(part.runs) == 1 else part.text
            if text:
                pieces.append(text)
        elif part.kind is _ATTACHMENT and part.attachment_guid in attachments:
            pieces.append(words.attachment_words(attachments.pop(part.attachment_guid), folder))
        elif part.kind is _RETRACTED:
            pieces.append("[unsent]")
    if attachments:
        pieces.extend(words.attachment_words(a, folder) for a in attachments.values()
                      if not a.attachment.hidden)
    if not message.parts and message.text:
        pieces.insert(0, message.text)
    pieces.extend(f"[deleted on the phone, kept from Recently Deleted: {deleted.text}]"
                  for deleted in message.deleted_parts or () if deleted.text)
    if message.audio_expired and not pieces:
        pieces.append(f"[audio message {words.AUDIO_EXPIRED}]")
    if message.app is not None:
        pieces.append(f"[{message.app.description}]"
                      + (f" {message.app.url}" if message.app.url else ""))
    preview = message.link_preview
    if preview is not None and preview.url and preview.url not in message.text:
        pieces.append(preview.url)
    if preview is not None and preview.title:
        pieces.append(f"[link preview: {preview.title}]")
    return pieces


def _add_message_lines(lines: list[str], view: MessageView, zone: tzinfo, folder: str,
                       owner: str) -> None:
    message = view.message
    when = _time(message.date, zone)
    if message.kind is _EVENT:
        lines.append(f"{when}  -- {view.event_text or 'conversation event'} --")
        return
    sender = owner if message.is_from_me else view.sender_name
    body = "\n".join(_body(view, folder)) or "[empty message]"
    first, rest = body, None
    if "\n" in body:
        first, *rest = body.split("\n")
    prefix = []
    if view.reply_to is not None:
        reply = view.reply_to
        if reply.excerpt and reply.sender_name:
            prefix.append(f"(replying to {reply.sender_name}: “{reply.excerpt}”) ")
        else:
            prefix.append("(replying to a message not in the archive) ")
    if message.subject:
        prefix.append(f"[subject: {message.subject}] ")
    lines.append(f"{when}  {sender}: {''.join(prefix)}{first}" if prefix else
                 f"{when}  {sender}: {first}")
    if rest:
        lines.extend(INDENT + line for line in rest)
    extras = words.status_words(view)
    effect = words.effect_words(message) if message.effect else None
    if effect:
        extras = [effect, *extras]
    if extras:
        lines.append(INDENT + "(" + "; ".join(extras) + ")")
    for revision in view.revisions:
        stamp = f" at {_time(revision.date, zone)}" if revision.date else ""
        lines.append(f"{INDENT}{revision.origin}{stamp}, earlier text: “{revision.text}”")
    if view.reactions:
        lines.append(INDENT + "reactions: " + words.reactions_sentence(view.reactions))
