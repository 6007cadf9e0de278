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

#: "HH:MM" for every minute of the day, by hour * 60 + minute: a lookup instead of
#: formatting two numbers for every message (about 0.8 µs each).
CLOCK = tuple(f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in range(60))

KIND_NOUNS = {"image": "photo", "video": "video", "audio": "audio", "sticker": "sticker",
              "file": "file"}


def human_size(size: int | None) -> str:
    return "size unknown" if size is None else fsutil.human_size(size)


def service_label(service: str) -> str:
    if service == Service.SATELLITE:
        return "iMessage via satellite"
    return service


# Module constants, not Service.X in the functions: looking a member up on its Enum class
# costs about 0.2 µs, several times per message in every exporter (measured).
_BLUE_SERVICES = (Service.IMESSAGE, Service.SATELLITE)
_QUIET_SERVICES = (Service.IMESSAGE, "")
_STICKER = ReactionKind.STICKER


def is_blue(service: str) -> bool:
    """iMessage bubbles are blue; SMS, MMS and RCS are green."""
    return service in _BLUE_SERVICES


def reaction_phrase(reaction: ReactionView) -> str:
    """E.g. "❤️ Mom", "👍 You" or "sticker by Dad"."""
    who = "You" if reaction.is_from_me else reaction.sender_name
    if reaction.kind is _STICKER:
        return f"sticker by {who}"
    return f"{reaction.emoji} {who}"


def reactions_sentence(reactions: tuple[ReactionView, ...]) -> str:
    return ", ".join(reaction_phrase(r) for r in reactions)


def relative_link(from_folder: str, archive_path: str) -> str:
    """A relative link from an output in `from_folder` to an archive path: what
    posixpath.relpath gives, without the two getcwd() system calls it makes to anchor
    both paths (a tenth of HTML rendering time, with a photo in every 40 messages)."""
    start, path = from_folder.split("/"), archive_path.split("/")
    if (not archive_path or from_folder.startswith("/") or archive_path.startswith("/")
            or "." in start or ".." in start or "." in path or ".." in path):
        return posixpath.relpath(archive_path, from_folder)  # paths to normalise first
    start = [name for name in start if name]
    path = [name for name in path if name]
    common = 0
    for mine, theirs in zip(start, path, strict=False):  # the shorter one bounds it
        if mine != theirs:
            break
        common += 1
    return "/".join([".."] * (len(start) - common) + path[common:]) or "."


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
    if message.service not in _QUIET_SERVICES:
        words.append(service_label(message.service))
    return words
