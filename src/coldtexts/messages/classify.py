"""sms.db type codes to the message model (smsdb.md §3): tapbacks, effects, group events,
services and filters. Pure tables and small functions; no database access here."""

from __future__ import annotations

from dataclasses import dataclass

from .models import EventKind, GroupEvent, ReactionKind, Service

# -- tapbacks (associated_message_type, §3.1) ------------------------------------------------
_TAPBACK_KINDS: dict[int, ReactionKind] = {
    0: ReactionKind.LOVE,
    1: ReactionKind.LIKE,
    2: ReactionKind.DISLIKE,
    3: ReactionKind.LAUGH,
    4: ReactionKind.EMPHASIZE,
    5: ReactionKind.QUESTION,
    6: ReactionKind.EMOJI,
    7: ReactionKind.STICKER,
}
TAPBACK_EMOJI: dict[ReactionKind, str] = {
    ReactionKind.LOVE: "\u2764\ufe0f",
    ReactionKind.LIKE: "\U0001f44d",
    ReactionKind.DISLIKE: "\U0001f44e",
    ReactionKind.LAUGH: "\U0001f602",
    ReactionKind.EMPHASIZE: "\u203c\ufe0f",
    ReactionKind.QUESTION: "\u2753",
}
STICKER_PLACED = 1000
POLL_VOTE = 4000


@dataclass(frozen=True, slots=True)
class TapbackCode:
    kind: ReactionKind
    added: bool


def tapback_code(associated_type: int | None) -> TapbackCode | None:
    """The reaction an associated_message_type stands for; None for ordinary rows.

    Unknown codes in the tapback ranges (2008+, 3008+) come back as UNKNOWN so that they are
    still folded onto their target instead of appearing as messages.
    """
    if not associated_type:
        return None
    if associated_type == STICKER_PLACED:
        return TapbackCode(ReactionKind.STICKER, True)
    if 2000 <= associated_type < 4000:
        added = associated_type < 3000
        kind = _TAPBACK_KINDS.get(associated_type % 1000, ReactionKind.UNKNOWN)
        return TapbackCode(kind, added)
    return None


def is_ordinary_associated_type(associated_type: int | None) -> bool:
    """0, 2 and 3 are ordinary (2/3 were Apple Pay send/receive in older iOS)."""
    return associated_type in (None, 0, 2, 3)


@dataclass(frozen=True, slots=True)
class AssociatedTarget:
    guid: str
    part: int


def parse_associated_guid(raw: str | None) -> AssociatedTarget | None:
    """`p:2/GUID` → part 2, `bp:GUID` → part 0, a bare GUID → part 0 (§3.1)."""
    if not raw:
        return None
    if raw.startswith("p:"):
        index, _, guid = raw[2:].partition("/")
        if guid and index.isdigit():
            return AssociatedTarget(guid, int(index))
        return None
    if raw.startswith("bp:"):
        guid = raw[3:]
        return AssociatedTarget(guid, 0) if guid else None
    return AssociatedTarget(raw, 0)


def parse_thread_part(raw: str | None) -> int:
    """thread_originator_part "N:start:len" → N (the body-part index); 0 when absent."""
    if not raw:
        return 0
    head = str(raw).split(":", 1)[0]
    return int(head) if head.isdigit() else 0


# -- expressive send (§3.5) -------------------------------------------------------------------
EFFECTS: dict[str, str] = {
    "com.apple.MobileSMS.expressivesend.gentle": "Gentle",
    "com.apple.MobileSMS.expressivesend.impact": "Slam",
    "com.apple.MobileSMS.expressivesend.invisibleink": "Invisible Ink",
    "com.apple.MobileSMS.expressivesend.loud": "Loud",
    "com.apple.messages.effect.CKConfettiEffect": "Confetti",
    "com.apple.messages.effect.CKEchoEffect": "Echo",
    "com.apple.messages.effect.CKFireworksEffect": "Fireworks",
    "com.apple.messages.effect.CKHappyBirthdayEffect": "Balloons",
    "com.apple.messages.effect.CKHeartEffect": "Love",
    "com.apple.messages.effect.CKLasersEffect": "Lasers",
    "com.apple.messages.effect.CKShootingStarEffect": "Shooting Star",
    "com.apple.messages.effect.CKSparklesEffect": "Sparkles",
    "com.apple.messages.effect.CKSpotlightEffect": "Spotlight",
}


def effect_name(style_id: str | None) -> str | None:
    """The effect in words; an unknown id is kept raw so nothing is lost."""
    if not style_id:
        return None
    return EFFECTS.get(style_id, style_id)


# -- services (§3.7) --------------------------------------------------------------------------
def service_name(raw: str | None, *, has_attachments: bool = False,
                 has_subject: bool = False) -> str:
    """A Service value, or the raw string for services not listed.

    sms.db does not store MMS separately: Messages records MMS as service "SMS". A message
    over SMS that carries attachments or a subject line can only have travelled as MMS, so
    it is reported as MMS. Group SMS threads with plain text stay "SMS" (a deliberate
    simplification: the carrier may still have used MMS for them).
    """
    if raw is None or raw == "":
        return Service.UNKNOWN.value
    lowered = raw.lower()
    if lowered == "imessage":
        return Service.IMESSAGE.value
    if lowered == "sms":
        return Service.MMS.value if (has_attachments or has_subject) else Service.SMS.value
    if lowered == "mms":
        return Service.MMS.value
    if lowered == "rcs":
        return Service.RCS.value
    if lowered == "imessagelite":
        return Service.SATELLITE.value
    return raw


# -- junk filters ------------------------------------------------------------------------------
_FILTERS = {2: "junk", 3: "promotion", 4: "transaction"}


def filter_name(filter_action: int | None) -> str | None:
    return _FILTERS.get(filter_action or 0)


# -- group and system events (§3.3) -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EventRow:
    """The columns a group event is decided from; handles already resolved to strings."""

    item_type: int
    group_action_type: int
    actor: str | None  # None = the owner
    actor_is_me: bool
    other_handle: str | None
    other_handle_id: int
    handle_id: int
    group_title: str | None
    share_status: int | None


def group_event(row: EventRow) -> GroupEvent | None:
    """The event an item_type row stands for; None for item_type 0 (ordinary)."""
    kind, target, title, detail = _event_details(row)
    if kind is None:
        return None
    return GroupEvent(kind=kind, actor=row.actor, actor_is_me=row.actor_is_me,
                      target=target, title=title, detail=detail)


def _event_details(row: EventRow) -> tuple[EventKind | None, str | None, str | None, str | None]:
    item, action = row.item_type, row.group_action_type
    if item == 0:
        return None, None, None, None
    if item == 1:
        if action == 0 and row.other_handle_id == row.handle_id and row.handle_id > 0:
            return EventKind.NUMBER_CHANGED, row.other_handle, None, None
        if action == 0:
            return EventKind.MEMBER_ADDED, row.other_handle, None, None
        if action == 1:
            return EventKind.MEMBER_REMOVED, row.other_handle, None, None
    elif item == 2:
        return EventKind.RENAMED, None, row.group_title or "", None
    elif item == 3:
        kind = _ITEM3_ACTIONS.get(action)
        if kind is not None:
            return kind, None, None, None
    elif item == 4:
        if row.share_status == 1:
            return EventKind.LOCATION_STOPPED, row.other_handle, None, None
        return EventKind.LOCATION_STARTED, row.other_handle, None, None
    elif item == 5:
        return EventKind.AUDIO_KEPT, None, None, None
    elif item == 6:
        return EventKind.SHAREPLAY, None, None, None
    return EventKind.UNKNOWN, row.other_handle, None, (
        f"item_type {item}, group_action_type {action}")


_ITEM3_ACTIONS: dict[int, EventKind] = {
    0: EventKind.MEMBER_LEFT,
    1: EventKind.PHOTO_CHANGED,
    2: EventKind.PHOTO_REMOVED,
    4: EventKind.BACKGROUND_CHANGED,
    6: EventKind.BACKGROUND_REMOVED,
}

# -- stickers (§5.3) --------------------------------------------------------------------------
_STICKER_SOURCES = {
    "com.apple.messages.genmoji": "Genmoji",
    "com.apple.Animoji.StickersApp.MessagesExtension": "Memoji",
    "com.apple.Jellyfish.Animoji": "Memoji",
    "com.apple.Stickers.UserGenerated.MessagesExtension": "User sticker",
}


def sticker_source(bundle_id: str | None) -> str | None:
    if not bundle_id:
        return None
    return _STICKER_SOURCES.get(bundle_id, bundle_id)
