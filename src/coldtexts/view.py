"""What exporters render: conversations and their volumes, as the archive holds them.

The archive builds these from its store (coldtexts.archive); exporters (the root
`exporters/` package, installed as coldtexts.exporters) only read them. Paths are
archive-relative POSIX strings so that the rendered folder can move anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coldtexts.messages.models import Attachment, Message, ReactionKind


@dataclass(frozen=True, slots=True)
class AttachmentView:
    attachment: Attachment
    kind: str  # "image", "video", "audio", "sticker", "file"
    original: str | None  # archive path of the stored original: attachments/ab/<sha256>.<ext>
    sha256: str | None
    size: int | None  # bytes of the stored original
    mime: str | None
    missing_reason: str | None = None  # set when original is None, in words


@dataclass(frozen=True, slots=True)
class ReactionView:
    kind: ReactionKind
    emoji: str  # what to draw: "❤️", "👍", the custom emoji, or "sticker"
    sender_name: str
    is_from_me: bool
    part: int
    sticker: AttachmentView | None = None


@dataclass(frozen=True, slots=True)
class ReplyView:
    guid: str
    part: int
    sender_name: str
    excerpt: str  # the first words of what is answered ("" when not in the archive)
    href: str | None  # "<volume key>.html#m-<guid>", None when the target is not archived


@dataclass(frozen=True, slots=True)
class RevisionView:
    """A former text the archive keeps: an edit on the device, an unsend, or a change
    seen between two backups."""

    part: int | None
    date: datetime | None
    text: str
    origin: str  # "edited", "unsent", "changed between backups"


@dataclass(frozen=True, slots=True)
class MessageView:
    message: Message
    sender_name: str  # "Me" style owner label, the contact's name, or the handle
    attachments: tuple[AttachmentView, ...] = ()  # same order as message.attachments
    reactions: tuple[ReactionView, ...] = ()  # net state: removed tapbacks are gone
    reply_to: ReplyView | None = None
    revisions: tuple[RevisionView, ...] = ()  # every former text, oldest first
    no_longer_on_device: datetime | None = None  # date of the first backup that lacked it
    event_text: str | None = None  # for EVENT messages: the centred line, in words

    @property
    def anchor(self) -> str:
        return f"m-{self.message.guid}"


@dataclass(frozen=True, slots=True)
class VolumeRef:
    key: str  # file stem: "2019", or "2019-2" when a busy year is split
    label: str  # "2019", or "2019 (part 2 of 3)"
    first: datetime
    last: datetime
    message_count: int


@dataclass(frozen=True, slots=True)
class ConversationView:
    guid: str
    slug: str  # folder name under conversations/, assigned once and kept
    title: str  # group name, participants' names, or the identifier
    participants: tuple[str, ...]  # display names (or handles), owner excluded
    is_group: bool
    service: str
    volumes: tuple[VolumeRef, ...]
    message_count: int
    first: datetime | None
    last: datetime | None
    last_text: str = ""  # the last message's text, for the index page

    @property
    def folder(self) -> str:
        return f"conversations/{self.slug}"


@dataclass(frozen=True, slots=True)
class VolumeView:
    conversation: ConversationView
    volume: VolumeRef
    messages: tuple[MessageView, ...]
