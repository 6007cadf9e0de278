"""Things the archive says in words: group events and tapbacks. Shared with exporters.

`name` callbacks turn a handle into what a reader should see (a contact's name or the
handle itself); the owner is "You" in event lines, as in Messages.
"""

from __future__ import annotations

from collections.abc import Callable

from coldtexts.messages.models import EventKind, GroupEvent, Message, ReactionKind

TAPBACK_EMOJI: dict[ReactionKind, str] = {
    ReactionKind.LOVE: "❤️",
    ReactionKind.LIKE: "👍",
    ReactionKind.DISLIKE: "👎",
    ReactionKind.LAUGH: "😂",
    ReactionKind.EMPHASIZE: "‼️",
    ReactionKind.QUESTION: "❓",
}

_SIMPLE: dict[EventKind, str] = {
    EventKind.MEMBER_LEFT: "{actor} left the conversation",
    EventKind.NUMBER_CHANGED: "{actor} changed their phone number",
    EventKind.PHOTO_CHANGED: "{actor} changed the group photo",
    EventKind.PHOTO_REMOVED: "{actor} removed the group photo",
    EventKind.BACKGROUND_CHANGED: "{actor} changed the conversation background",
    EventKind.BACKGROUND_REMOVED: "{actor} removed the conversation background",
    EventKind.AUDIO_KEPT: "{actor} kept an audio message",
    EventKind.SHAREPLAY: "{actor} started SharePlay",
    EventKind.FULLY_UNSENT: "{actor} unsent a message",
}


def reaction_emoji(kind: ReactionKind, emoji: str | None) -> str:
    """What to draw for a tapback: the classic emoji, the custom one, or "sticker"."""
    if kind in TAPBACK_EMOJI:
        return TAPBACK_EMOJI[kind]
    if kind is ReactionKind.STICKER:
        return "sticker"
    return emoji or "?"


def event_text(event: GroupEvent, name: Callable[[str], str]) -> str:
    """The centred line for a conversation event, e.g. "Mom added Alex"."""
    actor = "You" if event.actor_is_me or event.actor is None else name(event.actor)
    target = name(event.target) if event.target else "someone"
    kind = event.kind
    if kind is EventKind.RENAMED:
        if event.title:
            return f"{actor} named the conversation “{event.title}”"
        return f"{actor} removed the conversation name"
    if kind is EventKind.MEMBER_ADDED:
        return f"{actor} added {target}"
    if kind is EventKind.MEMBER_REMOVED:
        return f"{actor} removed {target}"
    if kind is EventKind.LOCATION_STARTED:
        return _with_detail("Location sharing started", event.detail)
    if kind is EventKind.LOCATION_STOPPED:
        return _with_detail("Location sharing ended", event.detail)
    if kind in _SIMPLE:
        return _with_detail(_SIMPLE[kind].format(actor=actor), event.detail)
    return event.detail or "Conversation event"


def _with_detail(text: str, detail: str | None) -> str:
    return f"{text} ({detail})" if detail else text


def message_summary(message: Message, name: Callable[[str], str]) -> str:
    """One line saying what a message is (the index page's "last message", the excerpt a
    reply quotes): its text, or in words what it shows when it has none (a photo, an
    app, an event)."""
    if message.text:
        return message.text
    if message.event is not None:
        return event_text(message.event, name)
    if message.app is not None:
        return message.app.description
    preview = message.link_preview
    if preview is not None and (preview.title or preview.url):
        return preview.title or preview.url or ""
    if message.attachments:
        first = message.attachments[0]
        mime = (first.mime_type or "").split("/")[0]
        if first.is_sticker:
            return "Sticker"
        if message.is_audio_message or mime == "audio":
            return "Audio message"
        return {"image": "Photo", "video": "Video"}.get(mime, f"Attachment: {first.display_name}")
    return ""
