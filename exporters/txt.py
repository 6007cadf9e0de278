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


class TxtExporter:
    name: ClassVar[str] = "txt"
    scope: ClassVar[Literal["volume", "conversation"]] = "conversation"

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
    folder = conversation.folder
    for volume in job.volumes:
        for view in volume.messages:
            lines.extend(_message_lines(view, zone, folder, options.owner_name))
    lines.append("")
    return "\n".join(lines)


def _time(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)  # an f-string is ~3x cheaper than strftime
    return (f"{local.year:04d}-{local.month:02d}-{local.day:02d} "
            f"{local.hour:02d}:{local.minute:02d}")


def _body(view: MessageView, folder: str) -> list[str]:
    """The message's content in order: text parts, attachments, app and preview lines."""
    message = view.message
    attachments = {a.attachment.guid: a for a in view.attachments} if view.attachments else {}
    pieces: list[str] = []
    for part in message.parts:
        if part.kind is PartKind.TEXT:
            text = part.runs[0].text if len(part.runs) == 1 else part.text
            if text:
                pieces.append(text)
        elif part.kind is PartKind.ATTACHMENT and part.attachment_guid in attachments:
            pieces.append(words.attachment_words(attachments.pop(part.attachment_guid), folder))
        elif part.kind is PartKind.RETRACTED:
            pieces.append("[unsent]")
    pieces.extend(words.attachment_words(a, folder) for a in attachments.values()
                  if not a.attachment.hidden)
    if not message.parts and message.text:
        pieces.insert(0, message.text)
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


def _message_lines(view: MessageView, zone: tzinfo, folder: str, owner: str) -> list[str]:
    message = view.message
    when = _time(message.date, zone)
    if message.kind is MessageKind.EVENT:
        return [f"{when}  -- {view.event_text or 'conversation event'} --"]
    sender = owner if message.is_from_me else view.sender_name
    body = "\n".join(_body(view, folder)) or "[empty message]"
    first, *rest = body.split("\n") if "\n" in body else (body,)
    prefix = []
    if view.reply_to is not None:
        reply = view.reply_to
        if reply.excerpt and reply.sender_name:
            prefix.append(f"(replying to {reply.sender_name}: “{reply.excerpt}”) ")
        else:
            prefix.append("(replying to a message not in the archive) ")
    if message.subject:
        prefix.append(f"[subject: {message.subject}] ")
    lines = [f"{when}  {sender}: {''.join(prefix)}{first}" if prefix else
             f"{when}  {sender}: {first}"]
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
    return lines
