"""Realistic view objects for exporter tests and benchmarks, built directly.

The archive builds ConversationView / VolumeView from its store; these helpers build the
same objects by hand so that exporters can be tested alone. `showcase_volumes()` holds one
group conversation with every kind of message the exporters draw (the golden files render
it); `bulk_volume(n)` makes a long, plausible conversation for benchmarks.

GUIDs and content hashes are derived from labels (uuid5 / sha256 of the label), never
from encoder output, so the golden files do not change when Pillow or PyAV do.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from coldtexts.messages.models import (
    AppMessage,
    Attachment,
    EditRevision,
    EventKind,
    GroupEvent,
    LinkPreview,
    Message,
    MessageKind,
    Part,
    PartKind,
    ReactionKind,
    ReplyRef,
    Service,
    TextRun,
)
from coldtexts.view import (
    AttachmentView,
    ConversationView,
    MessageView,
    ReactionView,
    ReplyView,
    RevisionView,
    VolumeRef,
    VolumeView,
)

NAMESPACE = uuid.UUID("6f1c7a52-52b1-4d43-9a36-6a2b3f1d0c11")
SLUG = "family"
OWNER = "Me"
NAMES = {"+15551230001": "Mom", "dad@example.com": "Dad", "+8613800138000": "李伟",
         "+971501234567": "أميرة"}
XSS_SCRIPT = "<script>alert('pwned')</script>"
XSS_IMG = '<img src=x onerror="alert(1)">'


def guid(label: str) -> str:
    return str(uuid.uuid5(NAMESPACE, label)).upper()


def sha(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC instant (tests render in America/New_York, so 14:00 UTC reads 09:00 or 10:00)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def text_parts(*texts: str) -> tuple[Part, ...]:
    return tuple(Part(i, PartKind.TEXT, (TextRun(t),)) for i, t in enumerate(texts))


def message(label: str, when: datetime, sender: str | None, text: str = "",
            **fields: Any) -> Message:
    """A message from `sender` (a handle; None is the owner) with one text part."""
    fields.setdefault("parts", text_parts(text) if text else ())
    fields.setdefault("service", Service.IMESSAGE)
    fields.setdefault("kind", MessageKind.MESSAGE)
    return Message(guid=guid(label), rowid=int(sha(label)[:5], 16),
                   chat_guids=("iMessage;+;chat1234",), is_from_me=sender is None,
                   sender=sender, date=when, text=text, **fields)


def view(msg: Message, **fields: Any) -> MessageView:
    name = OWNER if msg.is_from_me else NAMES.get(msg.sender or "", msg.sender or "")
    return MessageView(message=msg, sender_name=name, **fields)


# -- attachments ---------------------------------------------------------------------------
#: label → (file name, mime, uti, kind, size, archive extension)
FILES: dict[str, tuple[str, str, str, str, int, str]] = {
    "photo-heic": ("IMG_0412.HEIC", "image/heic", "public.heic", "image", 2_483_201, "heic"),
    "photo-jpeg": ("IMG_0413.JPG", "image/jpeg", "public.jpeg", "image", 1_204_337, "jpg"),
    "photo-png": ("Screenshot 2024-01-06.png", "image/png", "public.png", "image", 402_113,
                  "png"),
    "sticker": ("sticker.png", "image/png", "public.png", "sticker", 48_211, "png"),
    "tapback-sticker": ("tapback.png", "image/png", "public.png", "sticker", 31_020, "png"),
    "video": ("IMG_0420.MOV", "video/quicktime", "com.apple.quicktime-movie", "video",
              8_402_551, "mov"),
    "voice": ("Audio Message.caf", "audio/x-caf", "com.apple.coreaudio-format", "audio",
              61_240, "caf"),
    "song": ("song.mp3", "audio/mpeg", "public.mp3", "audio", 3_100_200, "mp3"),
    "pdf": ("Boarding pass <LHR>.pdf", "application/pdf", "com.adobe.pdf", "file", 97_800,
            "pdf"),
    "preview-image": ("preview.jpg", "image/jpeg", "public.jpeg", "image", 20_144, "jpg"),
}


def attachment(label: str, **fields: Any) -> Attachment:
    name, mime, uti, kind, size, _ext = FILES[label]
    att_guid = guid("att-" + label)
    return Attachment(guid=att_guid, filename=f"~/Library/SMS/Attachments/ab/12/{att_guid}/{name}",
                      transfer_name=name, mime_type=mime, uti=uti, total_bytes=size,
                      is_sticker=kind == "sticker", **fields)


def archive_path(label: str) -> str:
    return f"attachments/{sha(label)[:2]}/{sha(label)}.{FILES[label][5]}"


def attachment_view(label: str, **fields: Any) -> AttachmentView:
    att = attachment(label, **fields)
    _name, mime, _uti, kind, size, _ext = FILES[label]
    return AttachmentView(att, kind, archive_path(label), sha(label), size, mime)


def missing_view(label: str, reason: str) -> AttachmentView:
    att = attachment(label)
    return AttachmentView(att, FILES[label][3], None, None, None, att.mime_type, reason)


def attachment_message(label: str, when: datetime, sender: str | None,
                       atts: tuple[AttachmentView, ...], text: str = "",
                       **fields: Any) -> MessageView:
    """Attachments first (one bubble each), then the text: how Messages lays them out."""
    parts = [Part(i, PartKind.ATTACHMENT, (TextRun("\ufffc"),), a.attachment.guid)
             for i, a in enumerate(atts)]
    if text:
        parts.append(Part(len(parts), PartKind.TEXT, (TextRun(text),)))
    msg = message(label, when, sender, text, parts=tuple(parts),
                  attachments=tuple(a.attachment for a in atts))
    return view(msg, attachments=atts, **fields)


def showcase_conversation(volumes: tuple[VolumeRef, ...] = ()) -> ConversationView:
    return ConversationView(
        guid="iMessage;+;chat1234", slug=SLUG, title="Family <b>& friends</b> 👨‍👩‍👧",
        participants=tuple(NAMES.values()), is_group=True, service=Service.IMESSAGE,
        volumes=volumes, message_count=0, first=None, last=None,
        last_text="See you Sunday ❤️")


def with_volumes(conversation: ConversationView,
                 groups: list[tuple[str, str, tuple[MessageView, ...]]]) -> tuple[VolumeView, ...]:
    """Volumes for (key, label, messages) groups, their refs set on the conversation."""
    refs = tuple(VolumeRef(key, label, msgs[0].message.date, msgs[-1].message.date, len(msgs))
                 for key, label, msgs in groups)
    total = sum(len(msgs) for _k, _l, msgs in groups)
    first = groups[0][2][0].message.date
    last = groups[-1][2][-1].message.date
    conv = ConversationView(
        guid=conversation.guid, slug=conversation.slug, title=conversation.title,
        participants=conversation.participants, is_group=conversation.is_group,
        service=conversation.service, volumes=refs, message_count=total, first=first,
        last=last, last_text=conversation.last_text)
    return tuple(VolumeView(conv, ref, msgs) for ref, (_k, _l, msgs) in zip(refs, groups,
                                                                           strict=True))


def showcase_volumes() -> tuple[VolumeView, ...]:
    """Two volumes ("2024", "2025") of a group conversation with every message kind."""
    from view_factory_showcase import showcase_messages_2024, showcase_messages_2025

    return with_volumes(showcase_conversation(), [
        ("2024", "2024", showcase_messages_2024()),
        ("2025", "2025", showcase_messages_2025()),
    ])


# -- many messages, for benchmarks ---------------------------------------------------------
_WORDS = (
    "ok", "sure", "see", "you", "at", "dinner", "tonight", "did", "you", "get", "the",
    "photos", "love", "that", "haha", "what", "time", "is", "the", "game", "tomorrow",
    "running", "late", "traffic", "is", "terrible", "happy", "birthday", "can", "you", "pick",
    "up", "milk", "on", "the", "way", "home", "thanks", "😂", "❤️", "你好", "شكرا",
)


def bulk_volume(count: int, *, key: str = "2024", seed: int = 7,
                attachment_every: int = 40) -> VolumeView:
    """A plausible one-to-one volume of `count` messages over the year `key` names:
    short and long texts, both services, a reaction on every 7th, a reply on every 25th,
    a photo every `attachment_every` (pointing at attachments that need not exist)."""
    import random

    rng = random.Random(seed)
    start = at(int(key[:4]), 1, 1, 12)
    step = timedelta(seconds=max(1, 365 * 86400 // max(count, 1)))
    views: list[MessageView] = []
    for i in range(count):
        sender = None if rng.random() < 0.5 else "+15551230001"
        text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 30)))
        when = start + step * i
        service = Service.IMESSAGE if rng.random() < 0.8 else Service.SMS
        fields: dict[str, Any] = {}
        if i % 7 == 3:
            fields["reactions"] = (ReactionView(ReactionKind.LOVE, "❤️", "Mom", False, 0),)
        if i % 25 == 24 and views:
            target = views[-3].message
            fields["reply_to"] = ReplyView(target.guid, 0, views[-3].sender_name,
                                           target.text[:80], f"{key}.html#m-{target.guid}")
        label = f"bulk-{seed}-{i}"
        if attachment_every and i % attachment_every == 0:
            photo = AttachmentView(
                Attachment(guid(label + "-a"), None, f"IMG_{i:05d}.HEIC", "image/heic",
                           "public.heic", 2_000_000),
                "image", f"attachments/{sha(label)[:2]}/{sha(label)}.heic", sha(label),
                2_000_000, "image/heic")
            parts = (Part(0, PartKind.ATTACHMENT, (TextRun("\ufffc"),), photo.attachment.guid),
                     Part(1, PartKind.TEXT, (TextRun(text),)))
            msg = message(label, when, sender, text, parts=parts, service=service,
                          attachments=(photo.attachment,))
            views.append(view(msg, attachments=(photo,), **fields))
        else:
            views.append(view(message(label, when, sender, text, service=service), **fields))
    conv = ConversationView(
        guid="iMessage;-;+15551230001", slug="mom", title="Mom", participants=("Mom",),
        is_group=False, service=Service.IMESSAGE, volumes=(), message_count=count,
        first=None, last=None)
    return with_volumes(conv, [(key, key, tuple(views))])[0]


__all__ = [
    "NAMES", "OWNER", "SLUG", "XSS_IMG", "XSS_SCRIPT", "AppMessage", "EditRevision",
    "EventKind", "GroupEvent", "LinkPreview", "ReplyRef", "RevisionView",
    "attachment_message", "attachment_view", "bulk_volume", "missing_view", "showcase_volumes",
]
