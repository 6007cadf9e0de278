"""Shared wording of every format: how reactions, effects, attachments, edits and replies
read in words. HTML, PDF, TXT and JSONL all say the same thing the same way."""

from __future__ import annotations

import posixpath

from coldtexts import fsutil
from coldtexts.messages.models import Message, ReactionKind, Service
from coldtexts.view import AttachmentView, MessageView, ReactionView

REACTION_VERBS: dict[ReactionKind, str] = {
    ReactionKind.LOVE: "loved",
    ReactionKind.LIKE: "liked",
    ReactionKind.DISLIKE: "disliked",
    ReactionKind.LAUGH: "laughed at",
    ReactionKind.EMPHASIZE: "emphasized",
    ReactionKind.QUESTION: "questioned",
    ReactionKind.EMOJI: "reacted",
    ReactionKind.STICKER: "put a sticker on",
    ReactionKind.UNKNOWN: "reacted to",
}

AUDIO_EXPIRED = "expired (it was not kept)"

KIND_NOUNS = {"image": "photo", "video": "video", "audio": "audio", "sticker": "sticker",
              "file": "file"}


def human_size(size: int | None) -> str:
    return "size unknown" if size is None else fsutil.human_size(size)


def service_label(service: str) -> str:
    if service == Service.SATELLITE:
        return "iMessage via satellite"
    return service


def is_blue(service: str) -> bool:
    """iMessage bubbles are blue; SMS, MMS and RCS are green."""
    return service in (Service.IMESSAGE, Service.SATELLITE)


def reaction_phrase(reaction: ReactionView) -> str:
    """E.g. "❤️ Mom", "👍 You" or "sticker by Dad"."""
    who = "You" if reaction.is_from_me else reaction.sender_name
    if reaction.kind is ReactionKind.STICKER:
        return f"sticker by {who}"
    return f"{reaction.emoji} {who}"


def reactions_sentence(reactions: tuple[ReactionView, ...]) -> str:
    return ", ".join(reaction_phrase(r) for r in reactions)


def relative_link(from_folder: str, archive_path: str) -> str:
    """A relative link from an output in `from_folder` to an archive path."""
    return posixpath.relpath(archive_path, from_folder)


def attachment_words(view: AttachmentView, from_folder: str) -> str:
    """E.g. "[photo IMG_1.HEIC, 1.5 MB: ../../attachments/ab/<sha>.heic]"."""
    noun = KIND_NOUNS.get(view.kind, "file")
    name = view.attachment.display_name
    if view.original is None:
        return f"[{noun} {name}: missing: {view.missing_reason or 'not in any backup'}]"
    where = relative_link(from_folder, view.original)
    extra = ""
    if view.attachment.transcription:
        extra = f", transcript: “{view.attachment.transcription}”"
    return f"[{noun} {name}, {human_size(view.size)}: {where}{extra}]"


def effect_words(message: Message) -> str | None:
    return f"sent with {message.effect}" if message.effect else None


_QUIET_SERVICES = (Service.IMESSAGE, "")


def status_words(view: MessageView) -> list[str]:
    """Flags worth saying next to a message."""
    message = view.message
    if not (message.failed or message.deleted_on_device or view.no_longer_on_device
            or message.deleted_parts or message.service not in _QUIET_SERVICES):
        return []  # the common case, cheaply
    words: list[str] = []
    if message.failed:
        words.append("not delivered")
    if message.deleted_on_device:
        words.append("in Recently Deleted on the phone")
    if message.deleted_parts:
        count = len(message.deleted_parts)
        words.append(f"{'a part' if count == 1 else f'{count} parts'} deleted, "
                     "in Recently Deleted on the phone")
    if view.no_longer_on_device is not None:
        words.append(f"no longer on the phone since {view.no_longer_on_device.date().isoformat()}")
    if message.service not in (Service.IMESSAGE, ""):
        words.append(service_label(message.service))
    return words
