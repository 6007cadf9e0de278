"""The typed model of Messages data: what the sms.db reader yields and the archive stores.

Every class is a frozen dataclass of plain values so that the archive can store a message
as JSON (msgspec) and load it back unchanged: `encode_message` / `decode_message`.
Times are timezone-aware UTC datetimes; rendering converts them to the chosen zone.
Handles are the identifiers sms.db uses (E.164 phone numbers, emails, short codes);
`None` as a sender always means the owner of the phone ("me").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import msgspec
from msgspec import UNSET, UnsetType

from .fastbuild import fast_builder


class Service(StrEnum):
    IMESSAGE = "iMessage"
    SMS = "SMS"
    MMS = "MMS"
    RCS = "RCS"
    SATELLITE = "Satellite"  # iMessage over satellite ("iMessageLite")
    UNKNOWN = "Unknown"


class PartKind(StrEnum):
    TEXT = "text"
    ATTACHMENT = "attachment"  # a U+FFFC position in the body
    APP = "app"  # the U+FFFD balloon placeholder
    RETRACTED = "retracted"  # a part the sender unsent


class MessageKind(StrEnum):
    MESSAGE = "message"  # text and/or attachments in bubbles
    APP = "app"  # an app balloon (link preview, Apple Pay, Check In, poll, ...)
    EVENT = "event"  # a centred line: group rename, member added, kept audio, ...


class ReactionKind(StrEnum):
    LOVE = "love"
    LIKE = "like"
    DISLIKE = "dislike"
    LAUGH = "laugh"
    EMPHASIZE = "emphasize"
    QUESTION = "question"
    EMOJI = "emoji"  # custom emoji tapback (iOS 17/18), emoji in Reaction.emoji
    STICKER = "sticker"  # sticker placed on a message (1000) or sticker tapback (2007)
    UNKNOWN = "unknown"


class EventKind(StrEnum):
    RENAMED = "renamed"
    MEMBER_ADDED = "member_added"
    MEMBER_REMOVED = "member_removed"
    MEMBER_LEFT = "member_left"
    NUMBER_CHANGED = "number_changed"
    PHOTO_CHANGED = "photo_changed"
    PHOTO_REMOVED = "photo_removed"
    BACKGROUND_CHANGED = "background_changed"
    BACKGROUND_REMOVED = "background_removed"
    LOCATION_STARTED = "location_started"
    LOCATION_STOPPED = "location_stopped"
    AUDIO_KEPT = "audio_kept"
    SHAREPLAY = "shareplay"
    FULLY_UNSENT = "fully_unsent"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TextRun:
    """A stretch of text with one set of attributes (from attributedBody)."""

    text: str
    bold: bool = False
    italic: bool = False
    underline: bool = False
    strikethrough: bool = False
    effect: str | None = None  # iOS 18 text animation: "Ripple", "Big", "Shake", ...
    link: str | None = None  # absolute URL (http, tel:, mailto:) when the run is a link
    mention: str | None = None  # the mentioned handle when the run is an @mention


@dataclass(frozen=True, slots=True)
class Part:
    """One bubble of a message. `index` is the body-part index tapbacks, replies and
    edits refer to."""

    index: int
    kind: PartKind
    runs: tuple[TextRun, ...] = ()
    attachment_guid: str | None = None  # for ATTACHMENT parts

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


@dataclass(frozen=True, slots=True)
class Attachment:
    guid: str
    filename: str | None  # device path, e.g. ~/Library/SMS/Attachments/ab/12/GUID/IMG_1.HEIC
    transfer_name: str | None  # the file's original name
    mime_type: str | None
    uti: str | None
    total_bytes: int | None
    is_sticker: bool = False
    hidden: bool = False  # hide_attachment: not shown in the transcript by Messages
    created: datetime | None = None
    sticker_source: str | None = None  # "Genmoji", "Memoji", "User sticker", app name
    description: str | None = None  # Genmoji prompt / accessibility text
    transcription: str | None = None  # audio message transcript (IMAudioTranscription)

    @property
    def display_name(self) -> str:
        if self.transfer_name:
            return self.transfer_name
        if self.filename:
            return self.filename.replace("\\", "/").rsplit("/", 1)[-1]
        return self.guid


@dataclass(frozen=True, slots=True)
class Reaction:
    """A tapback row. Rows with added=False remove the sender's earlier reaction."""

    guid: str
    target_guid: str
    target_part: int
    kind: ReactionKind
    added: bool
    is_from_me: bool
    sender: str | None
    date: datetime
    emoji: str | None = None  # for EMOJI, and the classic kinds' emoji for convenience
    attachments: tuple[Attachment, ...] = ()  # the sticker image of a sticker tapback
    chat_guids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EditRevision:
    """One version of an edited part (message_summary_info `ec`). The first revision of
    a part is the original text, the last is the current one."""

    part: int
    date: datetime
    text: str


@dataclass(frozen=True, slots=True)
class ReplyRef:
    guid: str  # thread_originator_guid
    part: int = 0


@dataclass(frozen=True, slots=True)
class GroupEvent:
    kind: EventKind
    actor: str | None = None  # handle who did it; None = the owner
    actor_is_me: bool = False
    target: str | None = None  # handle acted on (member added/removed)
    title: str | None = None  # new group name for RENAMED
    detail: str | None = None  # anything else worth saying, in words


@dataclass(frozen=True, slots=True)
class LinkPreview:
    url: str | None
    original_url: str | None = None
    title: str | None = None
    summary: str | None = None
    site_name: str | None = None
    item_type: str | None = None
    image_attachment_guid: str | None = None  # cached preview image when the backup has one


@dataclass(frozen=True, slots=True)
class AppMessage:
    """An app balloon described in words, with the raw payload kept when it is opaque."""

    bundle_id: str
    kind: str  # apple_pay, check_in, find_my, shareplay, poll, handwriting, digital_touch,
    #            slideshow, collaboration, music, app_store, placemark, fitness, app
    description: str  # what a person would read, e.g. "Sent $265 with Apple Pay."
    app_name: str | None = None
    url: str | None = None
    fields: tuple[tuple[str, str], ...] = ()  # (label, value) pairs worth showing
    raw_payload: bytes | None = None  # handwriting / Digital Touch protobuf, kept verbatim


@dataclass(frozen=True, slots=True)
class DeletedPart:
    """A part of a message the owner deleted on the phone while the rest of the message
    stayed: iOS 16+ keeps it in Recently Deleted (`recoverable_message_part`) for about
    30 days. Its content is decoded from `part_text` like an attributedBody."""

    index: int  # the body-part index it had (part_index)
    chat_guid: str | None  # the chat it was deleted from
    deleted: datetime | None  # delete_date
    text: str = ""  # its plain text (empty for an attachment or an undecodable part)
    parts: tuple[Part, ...] = ()  # as decoded from part_text
    undecodable: bool = False  # part_text could not be read: kept in raw
    raw: bytes | None = None  # part_text verbatim when undecodable


@dataclass(frozen=True, slots=True)
class Message:
    guid: str
    rowid: int  # sms.db ROWID in the source backup: diagnostics only, never a key
    chat_guids: tuple[str, ...]  # empty for an orphan (a message in no chat)
    kind: MessageKind
    is_from_me: bool
    sender: str | None  # handle of the sender; None when is_from_me
    service: str  # a Service value, or the raw string for services not listed
    date: datetime
    date_read: datetime | None = None
    date_delivered: datetime | None = None
    date_edited: datetime | None = None
    date_retracted: datetime | None = None
    text: str = ""  # the plain text of all text parts, for search and TXT
    parts: tuple[Part, ...] = ()
    attachments: tuple[Attachment, ...] = ()  # in body order
    subject: str | None = None
    reply_to: ReplyRef | None = None
    effect: str | None = None  # bubble or screen effect in words: "Slam", "Confetti"
    edits: tuple[EditRevision, ...] = ()  # full history from the device, oldest first
    unsent_parts: tuple[int, ...] = ()
    event: GroupEvent | None = None
    app: AppMessage | None = None
    link_preview: LinkPreview | None = None
    is_audio_message: bool = False
    audio_expired: bool = False  # an audio message that was not kept and has expired
    failed: bool = False  # a send that failed (error != 0)
    deleted_on_device: bool = False  # sitting in Recently Deleted (iOS 16+) in this backup
    filtered: str | None = None  # "junk", "promotion", "transaction"
    owner_address: str | None = None  # destination_caller_id: the owner's number or email
    body_undecodable: bool = False  # attributedBody present but undecodable
    extra: dict[str, str] = field(default_factory=dict)  # unknown type codes, kept in words
    # Parts deleted on the phone, still in Recently Deleted. UNSET (not encoded at all)
    # when there are none, so the JSON, and the archive's content hashes, of every other
    # message stay what they were before this field existed; falsy like an empty tuple.
    deleted_parts: tuple[DeletedPart, ...] | UnsetType = UNSET


@dataclass(frozen=True, slots=True)
class Participant:
    handle: str
    name: str | None = None  # the contact's name from the backup's AddressBook


@dataclass(frozen=True, slots=True)
class Conversation:
    guid: str  # chat.guid, e.g. "iMessage;-;+15551234567" or "iMessage;+;chat1234"
    identifier: str  # chat_identifier
    service: str  # a Service value, or the raw string for services not listed
    display_name: str | None  # user-set group name; None when the group has none
    is_group: bool
    participants: tuple[Participant, ...] = ()


@dataclass(frozen=True, slots=True)
class ReadProblem:
    """Something the reader could not read faithfully; counted and reported, never fatal."""

    kind: str  # "undecodable_body", "unknown_balloon", "unknown_type", "dangling_tapback",
    #            "reply_target_missing", "orphan", "undecodable_payload", "corrupt_rows"
    guid: str | None
    detail: str


# Constructors for the objects the sms.db reader makes once or more per message.
new_message = fast_builder(Message)
new_part = fast_builder(Part)
new_text_run = fast_builder(TextRun)
new_attachment = fast_builder(Attachment)
new_reaction = fast_builder(Reaction)

_ENCODER = msgspec.json.Encoder()
_MESSAGE_DECODER = msgspec.json.Decoder(Message)
_REACTION_DECODER = msgspec.json.Decoder(Reaction)
_CONVERSATION_DECODER = msgspec.json.Decoder(Conversation)


def encode(obj: Message | Reaction | Conversation) -> bytes:
    """JSON bytes of a model object; deterministic (field order is declaration order)."""
    return _ENCODER.encode(obj)


def decode_message(data: bytes | str) -> Message:
    return _MESSAGE_DECODER.decode(data)


def decode_reaction(data: bytes | str) -> Reaction:
    return _REACTION_DECODER.decode(data)


def decode_conversation(data: bytes | str) -> Conversation:
    return _CONVERSATION_DECODER.decode(data)
