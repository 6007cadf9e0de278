"""Build the view objects exporters render (coldtexts.view) from the store."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from coldtexts.messages.models import (
    Attachment,
    Message,
    MessageKind,
    Reaction,
    decode_message,
    decode_reaction,
)
from coldtexts.view import (
    AttachmentView,
    MessageView,
    ReactionView,
    ReplyView,
    RevisionView,
    VolumeView,
)

from .attachments import attachment_kind
from .plan import ConversationPlan
from .store import from_us
from .volumes import VolumeSlice
from .words import event_text, message_summary, reaction_emoji

EXCERPT_CHARS = 80
NOT_DOWNLOADED = "the phone had not downloaded this attachment (it may be in iCloud only)"
NOT_COPIED = "not copied from a backup yet"


@dataclass(frozen=True, slots=True)
class _StoredFile:
    sha256: str | None
    path: str | None
    size: int | None
    missing_reason: str | None
    device_path: str | None


class ViewBuilder:
    """Loads one conversation's side tables once and builds its volumes' views."""

    def __init__(self, conn: sqlite3.Connection, plan: ConversationPlan, owner_name: str,
                 names: dict[str, str]) -> None:
        self._conn = conn
        self._plan = plan
        self._owner = owner_name
        self._names = names
        cid = plan.meta.id
        self._reactions = _reactions_by_target(conn, cid)
        self._revisions = _revisions_by_message(conn, cid)
        self._files = _stored_files(conn, cid)

    def volume(self, volume: VolumeSlice) -> VolumeView:
        rows = self._conn.execute(
            "SELECT json, gone_as_of FROM messages WHERE conversation_id = ? "
            "ORDER BY date, guid LIMIT ? OFFSET ?",
            (self._plan.meta.id, volume.stop - volume.start, volume.start),
        )
        messages = tuple(self._message(decode_message(js), gone) for js, gone in rows)
        return VolumeView(self._plan.view, volume.ref, messages)

    def volumes(self, slices: Sequence[VolumeSlice]) -> tuple[VolumeView, ...]:
        return tuple(self.volume(v) for v in slices)

    def name(self, handle: str | None, is_from_me: bool = False) -> str:
        if is_from_me:
            return self._owner
        if not handle:
            return "Unknown sender"
        return self._names.get(handle, handle)

    def _message(self, message: Message, gone_as_of: int | None) -> MessageView:
        event = None
        if message.kind is MessageKind.EVENT and message.event is not None:
            event = event_text(message.event, self.name)
        return MessageView(
            message=message,
            sender_name=self.name(message.sender, message.is_from_me),
            attachments=tuple(self.attachment(a) for a in message.attachments),
            reactions=self._net_reactions(message.guid),
            reply_to=self._reply(message),
            revisions=self._revision_views(message),
            no_longer_on_device=from_us(gone_as_of) if gone_as_of is not None else None,
            event_text=event,
        )

    def attachment(self, attachment: Attachment) -> AttachmentView:
        stored = self._files.get(attachment.guid)
        kind = attachment_kind(attachment.mime_type, attachment.uti, attachment.is_sticker)
        if stored is None or stored.sha256 is None:
            reason = stored.missing_reason if stored else None
            if reason is None:
                known_path = stored.device_path if stored else attachment.filename
                reason = NOT_COPIED if known_path else NOT_DOWNLOADED
            return AttachmentView(attachment, kind, None, None, None, attachment.mime_type,
                                  reason)
        return AttachmentView(attachment, kind, stored.path, stored.sha256, stored.size,
                              attachment.mime_type)

    def _net_reactions(self, guid: str) -> tuple[ReactionView, ...]:
        # The last row per (sender, part) wins; a removal (added=False) clears it.
        latest: dict[tuple[bool, str | None, int], Reaction] = {}
        for reaction in self._reactions.get(guid, ()):
            latest[(reaction.is_from_me, reaction.sender, reaction.target_part)] = reaction
        views = []
        for reaction in sorted(latest.values(), key=lambda r: (r.date, r.guid)):
            if not reaction.added:
                continue
            sticker = self.attachment(reaction.attachments[0]) if reaction.attachments else None
            views.append(ReactionView(
                kind=reaction.kind, emoji=reaction_emoji(reaction.kind, reaction.emoji),
                sender_name=self.name(reaction.sender, reaction.is_from_me),
                is_from_me=reaction.is_from_me, part=reaction.target_part, sticker=sticker,
            ))
        return tuple(views)

    def _reply(self, message: Message) -> ReplyView | None:
        ref = message.reply_to
        if ref is None:
            return None
        row = self._conn.execute(
            "SELECT json, conversation_id FROM messages WHERE guid = ?", (ref.guid,)
        ).fetchone()
        if row is None:
            return ReplyView(ref.guid, ref.part, "", "", None)
        target = decode_message(row[0])
        key = self._plan.volume_of.get(ref.guid)
        href = f"{key}.html#m-{ref.guid}" if key and row[1] == self._plan.meta.id else None
        # A reply to a photo, a poll or a link quotes what it is in words, not nothing.
        excerpt = message_summary(target, self.name).strip()
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[:EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"
        return ReplyView(ref.guid, ref.part, self.name(target.sender, target.is_from_me),
                         excerpt, href)

    def _revision_views(self, message: Message) -> tuple[RevisionView, ...]:
        views: list[RevisionView] = []
        last_per_part: dict[int, int] = {}
        for position, edit in enumerate(message.edits):
            last_per_part[edit.part] = position
        for position, edit in enumerate(message.edits):
            if last_per_part[edit.part] != position:  # the last one is the current text
                views.append(RevisionView(edit.part, edit.date, edit.text, "edited"))
        shown = {v.text for v in views}
        for part, date, text, origin in self._revisions.get(message.guid, ()):
            if text not in shown:
                views.append(RevisionView(part, from_us(date) if date is not None else None,
                                          text, origin))
                shown.add(text)
        views.sort(key=lambda v: (v.date is None, v.date or message.date))
        return tuple(views)


def _reactions_by_target(conn: sqlite3.Connection, cid: int) -> dict[str, list[Reaction]]:
    found: dict[str, list[Reaction]] = defaultdict(list)
    for target, js in conn.execute(
        "SELECT target_guid, json FROM reactions WHERE conversation_id = ? "
        "ORDER BY date, guid", (cid,)
    ):
        found[target].append(decode_reaction(js))
    return found


def _revisions_by_message(
    conn: sqlite3.Connection, cid: int
) -> dict[str, list[tuple[int | None, int | None, str, str]]]:
    found: dict[str, list[tuple[int | None, int | None, str, str]]] = defaultdict(list)
    for guid, part, date, text, origin in conn.execute(
        "SELECT r.message_guid, r.part, r.date, r.text, r.origin FROM revisions r "
        "JOIN messages m ON m.guid = r.message_guid WHERE m.conversation_id = ? "
        "ORDER BY r.id", (cid,)
    ):
        found[guid].append((part, date, text, origin))
    return found


def _stored_files(conn: sqlite3.Connection, cid: int) -> dict[str, _StoredFile]:
    rows = conn.execute(
        "SELECT a.guid, a.sha256, b.path, b.size, a.missing_reason, a.device_path "
        "FROM attachments a LEFT JOIN blobs b ON b.sha256 = a.sha256 "
        "WHERE a.owner_guid IN (SELECT guid FROM messages WHERE conversation_id = ?1 "
        "UNION ALL SELECT guid FROM reactions WHERE conversation_id = ?1)", (cid,)
    )
    return {guid: _StoredFile(*rest) for guid, *rest in rows}
