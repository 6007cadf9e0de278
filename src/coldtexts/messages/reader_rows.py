"""One sms.db message row (fixed column order, reader_query.F) to the typed model.

Bodies, edit histories and payloads are decoded here; a blob that cannot be decoded is
recorded as a ReadProblem and the message is kept with whatever the plain columns hold.
"""

from __future__ import annotations

import plistlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from msgspec import UNSET, UnsetType

from ..errors import UndecodableError
from . import classify
from .attributed import PART_KEY, body_parts, plain_text_parts
from .dates import apple_time
from .models import (
    AppMessage,
    Attachment,
    DeletedPart,
    EventKind,
    GroupEvent,
    LinkPreview,
    Message,
    MessageKind,
    Part,
    PartKind,
    ReadProblem,
    ReplyRef,
    new_message,
    new_part,
    new_text_run,
)
from .plists import (
    PollOptions,
    parse_balloon_bundle_id,
    parse_payload,
    parse_summary_info,
    payload_poll_content,
    poll_options,
    vote_app,
)
from .reader_query import PLAIN_FIELDS, F, P
from .typedstream import AttributedString, cached_one_run, decode_attributed_body

Row = Sequence[Any]
_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
_ORDINARY = frozenset({None, 0, 2, 3})
# Fixed column positions (reader_query.F), bound once: this loop runs a million times.
_ROWID, _GUID, _TEXT, _BODY = F["ROWID"], F["guid"], F["text"], F["attributedBody"]
_SERVICE, _HANDLE_ID, _OWNER, _SUBJECT = (F["service"], F["handle_id"],
                                          F["destination_caller_id"], F["subject"])
_DATE, _DATE_READ, _DATE_DELIVERED = F["date"], F["date_read"], F["date_delivered"]
_DATE_EDITED, _DATE_RETRACTED = F["date_edited"], F["date_retracted"]
_FROM_ME, _ERROR, _ITEM_TYPE = F["is_from_me"], F["error"], F["item_type"]
_ASSOCIATED_TYPE, _BUNDLE, _PAYLOAD = (F["associated_message_type"], F["balloon_bundle_id"],
                                       F["payload_data"])
_EFFECT, _THREAD, _SUMMARY = (F["expressive_send_style_id"], F["thread_originator_guid"],
                              F["message_summary_info"])
_AUDIO, _FILTER, _HAS_ATTACHMENTS = (F["is_audio_message"], F["filter_action"],
                                     F["cache_has_attachments"])


_PLAIN_WIDTH = len(PLAIN_FIELDS)
_PLAIN_REPLY_MISSING = P["reply_missing"]
_NO_ATTACHMENTS: list[Attachment] = []  # shared: never mutated, only replaced


def _time(value: Any) -> datetime | None:
    return apple_time(value) if value else None

# Payloads these bundles carry are raw protobuf, kept verbatim (smsdb.md §3.4); these
# words describe them when even the protobuf cannot be read.
RAW_PAYLOAD_APPS = {
    "com.apple.Handwriting.HandwritingProvider": ("handwriting", "Handwritten message"),
    "com.apple.DigitalTouchBalloonProvider": ("digital_touch", "Digital Touch message"),
}
KNOWN_BALLOONS = frozenset({
    "com.apple.messages.URLBalloonProvider",
    "com.apple.Handwriting.HandwritingProvider",
    "com.apple.DigitalTouchBalloonProvider",
    "com.apple.PassbookUIService.PeerPaymentMessagesExtension",
    "com.apple.ActivityMessagesApp.MessagesExtension",
    "com.apple.mobileslideshow.PhotosMessagesApp",
    "com.apple.SafetyMonitorApp.SafetyMonitorMessages",
    "com.apple.findmy.FindMyMessagesApp",
    "com.apple.messages.Polls",
})


def handle_text(handles: dict[int, str], rowid: Any) -> str | None:
    if not rowid or rowid < 0:
        return None
    return handles.get(int(rowid))


class RowConverter:
    """Turns message rows into Message objects; collects problems as it goes."""

    def __init__(self, handles: dict[int, str], chats: dict[int, str],
                 attachments: Callable[[int], list[Attachment]],
                 problems: list[ReadProblem],
                 deleted_parts: Mapping[int, Sequence[tuple[Any, ...]]] | None = None,
                 payload_of: Callable[[str], bytes | None] | None = None) -> None:
        self.handles = handles
        self.chats = chats
        self.attachments = attachments
        self.problems = problems
        # recoverable_message_part rows (chat_id, part_index, delete_date, part_text) by
        # message ROWID; a message with any is built by message(), never plain_message().
        self.deleted_parts = deleted_parts or {}
        self._services: dict[tuple[Any, bool, bool], str] = {}
        # A vote names its poll's options. The poll is looked up by GUID (payload_of) when
        # not met yet, so a message reads the same whatever was read before it: the
        # parallel reader reads chunks of dates out of order.
        self._payload_of = payload_of or (lambda guid: None)
        self._poll_options: dict[str, PollOptions] = {}  # poll GUID -> its options' texts

    def message(self, row: Row, chat_ids: Sequence[int], deleted_ids: Sequence[int]) -> Message:
        guid = str(row[_GUID])
        from_me = bool(row[_FROM_ME])
        flag = row[_HAS_ATTACHMENTS]
        attachments = self.attachments(row[_ROWID]) if flag is None or flag else []
        text_column = row[_TEXT] or ""
        parts, text, attachments, undecodable = self._body(row[_BODY], guid, text_column,
                                                           attachments)
        kind = MessageKind.MESSAGE
        fields: dict[str, Any] = {}
        event: GroupEvent | None = None
        extra: dict[str, Any] = {}
        if row[_BUNDLE]:
            kind = MessageKind.APP
            fields.update(self._balloon(guid, str(row[_BUNDLE]), row[_PAYLOAD], text))
        if row[_ITEM_TYPE]:
            event = self._event(row, from_me)
            kind = MessageKind.EVENT if event is not None else kind
        if row[_SUMMARY]:
            fields.update(self._edits(guid, row[_SUMMARY]))
            if fields.get("unsent_parts") and _fully_unsent(fields["unsent_parts"], parts):
                kind = MessageKind.EVENT
                event = event or GroupEvent(EventKind.FULLY_UNSENT, actor=self._sender(row),
                                            actor_is_me=from_me)
        if row[_ASSOCIATED_TYPE] not in _ORDINARY:
            extra = self._associated(row, guid, fields)
            if extra.get("poll_vote"):
                kind = MessageKind.APP
        reply = fields.pop("reply_to", None) or (self._reply(row, guid) if row[_THREAD]
                                                 else None)
        chat_guids, deleted = self._chat_guids(guid, chat_ids, deleted_ids)
        is_audio = bool(row[_AUDIO])
        subject = row[_SUBJECT] or None
        return new_message(
            guid=guid, rowid=row[_ROWID], chat_guids=chat_guids, kind=kind, is_from_me=from_me,
            sender=None if from_me else self.handles.get(row[_HANDLE_ID]),
            service=self._service(row[_SERVICE], bool(attachments), subject is not None),
            date=apple_time(row[_DATE]) or _EPOCH,
            date_read=_time(row[_DATE_READ]), date_delivered=_time(row[_DATE_DELIVERED]),
            date_edited=_time(row[_DATE_EDITED]), date_retracted=_time(row[_DATE_RETRACTED]),
            text=text, parts=parts, attachments=tuple(attachments),
            subject=subject, reply_to=reply,
            effect=classify.effect_name(row[_EFFECT]) if row[_EFFECT] else None,
            event=event, is_audio_message=is_audio,
            audio_expired=is_audio and not any(a.filename for a in attachments),
            failed=bool(row[_ERROR]), deleted_on_device=deleted,
            filtered=classify.filter_name(row[_FILTER]) if row[_FILTER] else None,
            owner_address=row[_OWNER] or None,
            body_undecodable=undecodable,
            extra={k: str(v) for k, v in extra.items()} if extra else {},
            deleted_parts=self._deleted_parts(row[_ROWID], guid),
            **fields)

    def plain_message(self, row: Row, chat_ids: Sequence[int], deleted_ids: Sequence[int]
                      ) -> Message:
        """A row of the plain query (reader_query.P): every column it leaves out is empty,
        so this is message() with those branches settled. It must build exactly what
        message() builds for the same row (tests compare them)."""
        (rowid, guid, text_column, blob, service, handle_id, owner, date, date_read,
         date_delivered, from_me, has_attachments, thread, thread_part) = row[:_PLAIN_WIDTH]
        guid = str(guid)
        from_me = bool(from_me)
        attachments = (self.attachments(rowid) if has_attachments is None or has_attachments
                       else _NO_ATTACHMENTS)
        parts, text, attachments, undecodable = self._body(blob, guid, text_column or "",
                                                           attachments)
        reply = self._reply_to(guid, thread, thread_part, row[_PLAIN_REPLY_MISSING]) if thread \
            else None
        chats = self.chats
        if not deleted_ids and len(chat_ids) == 1 and chat_ids[0] in chats:  # the usual
            chat_guids: tuple[str, ...] = (chats[chat_ids[0]],)
            deleted = False
        else:
            chat_guids, deleted = self._chat_guids(guid, chat_ids, deleted_ids)
        key = (service, bool(attachments), False)
        service_name = self._services.get(key) or self._service(*key)
        return new_message(
            guid, rowid, chat_guids, MessageKind.MESSAGE, from_me,
            None if from_me else self.handles.get(handle_id), service_name,
            apple_time(date) or _EPOCH,
            apple_time(date_read) if date_read else None,
            apple_time(date_delivered) if date_delivered else None,
            None, None, text, parts, tuple(attachments),
            deleted_on_device=deleted, owner_address=owner or None, reply_to=reply,
            body_undecodable=undecodable, extra={})

    def _chat_guids(self, guid: str, chat_ids: Sequence[int], deleted_ids: Sequence[int]
                    ) -> tuple[tuple[str, ...], bool]:
        """The GUIDs of the chats holding the message, then of the chats it was deleted
        from (Recently Deleted), and whether there are any of the latter. A message in
        no chat at all is reported as an orphan."""
        chats = self.chats
        chat_guids = tuple(chats[c] for c in chat_ids if c in chats)
        deleted_guids = tuple(chats[c] for c in deleted_ids if c in chats) if deleted_ids else ()
        if deleted_guids:
            chat_guids += tuple(g for g in deleted_guids if g not in chat_guids)
        elif not chat_guids:
            self.problems.append(ReadProblem("orphan", guid, "message is in no chat"))
        return chat_guids, bool(deleted_guids)

    def _service(self, raw: Any, has_attachments: bool, has_subject: bool) -> str:
        key = (raw, has_attachments, has_subject)
        name = self._services.get(key)
        if name is None:
            name = classify.service_name(raw, has_attachments=has_attachments,
                                         has_subject=has_subject)
            self._services[key] = name
        return name

    # -- pieces -----------------------------------------------------------------------------------
    def _sender(self, row: Row) -> str | None:
        return handle_text(self.handles, row[F["handle_id"]])

    def _body(self, blob: Any, guid: str, text_column: str, attachments: list[Attachment]
              ) -> tuple[tuple[Part, ...], str, list[Attachment], bool]:
        """Parts, plain text, attachments (in body order) and whether the attributedBody
        could not be decoded."""
        if blob:
            if not attachments:  # the commonest body: its shape cached, one plain run
                cached = cached_one_run(blob)
                if cached is not None:
                    simple = plain_text_part(*cached)
                    if simple is not None:
                        return (simple,), cached[0], attachments, False
            try:
                body = decode_attributed_body(blob if type(blob) is bytes else bytes(blob))
                if not attachments:
                    simple = single_text_part(body)
                    if simple is not None:
                        return (simple,), body.text, attachments, False
                info = body_parts(body, [a.guid for a in attachments])
            except UndecodableError as exc:
                self.problems.append(ReadProblem("undecodable_body", guid, str(exc)))
                plain = plain_text_parts(text_column, [a.guid for a in attachments])
                return plain.parts, plain.text, attachments, True
            if info.transcriptions:
                attachments = [_with_transcription(a, info.transcriptions.get(a.guid))
                               for a in attachments]
            return (info.parts, info.text or text_column,
                    in_body_order(attachments, info.parts), False)
        plain = plain_text_parts(text_column, [a.guid for a in attachments])
        return plain.parts, plain.text, attachments, False

    def _deleted_parts(self, rowid: Any, guid: str) -> tuple[DeletedPart, ...] | UnsetType:
        rows = self.deleted_parts.get(rowid) if self.deleted_parts else None
        if not rows:
            return UNSET
        return tuple(self._deleted_part(guid, *row) for row in rows)

    def _deleted_part(self, guid: str, chat_id: Any, part_index: Any, delete_date: Any,
                      part_text: Any) -> DeletedPart:
        """One recoverable_message_part row. part_text is read like an attributedBody;
        stored as text it is taken as the part's text; anything else is kept raw."""
        index = part_index if type(part_index) is int and part_index >= 0 else 0
        chat_guid = self.chats.get(chat_id) if type(chat_id) is int else None
        when = _time(delete_date) if type(delete_date) in (int, float) else None
        if isinstance(part_text, str):
            plain = plain_text_parts(part_text, [])
            return DeletedPart(index, chat_guid, when, plain.text, plain.parts)
        blob = bytes(part_text) if isinstance(part_text, bytes | bytearray | memoryview) else b""
        try:
            info = body_parts(decode_attributed_body(blob), [])
        except UndecodableError as exc:
            self.problems.append(ReadProblem(
                "undecodable_body", guid, f"deleted part {index} (recoverable_message_part): "
                f"{exc}"))
            return DeletedPart(index, chat_guid, when, undecodable=True, raw=blob)
        return DeletedPart(index, chat_guid, when, info.text, info.parts)

    def _balloon(self, guid: str, raw_bundle: str, payload: Any, text: str) -> dict[str, Any]:
        bundle = parse_balloon_bundle_id(raw_bundle)
        kind, words = RAW_PAYLOAD_APPS.get(bundle, ("app", bundle))
        if bundle not in KNOWN_BALLOONS and not bundle.endswith("com.apple.messages.Polls"):
            self.problems.append(ReadProblem("unknown_balloon", guid, bundle))
        if not payload:
            return {"app": AppMessage(bundle_id=bundle, kind=kind, description=words)}
        try:
            info = parse_payload(bundle, bytes(payload), text=text)
        except UndecodableError as exc:
            # Kept verbatim so nothing is lost; described by the bundle alone.
            self.problems.append(ReadProblem("undecodable_payload", guid, str(exc)))
            return {"app": AppMessage(bundle_id=bundle, kind=kind, description=words,
                                      raw_payload=bytes(payload))}
        link: LinkPreview | None = info.link_preview
        app: AppMessage | None = info.app
        if app is not None and app.kind == "poll":
            self._remember_poll(guid, bytes(payload))
        return {"link_preview": link, "app": app}

    def _remember_poll(self, guid: str, payload: bytes | None) -> PollOptions:
        """Keep a poll's option texts (polls are few) so later votes can name them."""
        options: PollOptions = {}
        try:
            content = payload_poll_content(payload) if payload else None
        except UndecodableError:
            content = None
        if content is not None:
            options = {ident: text for ident, text in poll_options(content)
                       if ident is not None}
        self._poll_options[guid] = options
        return options

    def _options_of(self, poll_guid: str) -> PollOptions:
        known = self._poll_options.get(poll_guid)
        if known is None:
            known = self._remember_poll(poll_guid, self._payload_of(poll_guid))
        return known

    def _vote(self, guid: str, payload: Any, poll_guid: str | None) -> AppMessage | None:
        if not payload:
            return None
        options = self._options_of(poll_guid) if poll_guid else {}
        try:
            return vote_app(bytes(payload), options)
        except UndecodableError:
            return None  # already reported when the row has a bundle; else words suffice

    def _edits(self, guid: str, blob: Any) -> dict[str, Any]:
        if not blob:
            return {}
        try:
            info = parse_summary_info(bytes(blob))
        except UndecodableError as exc:
            self.problems.append(ReadProblem("undecodable_body", guid,
                                             f"message_summary_info: {exc}"))
            return {}
        return {"edits": tuple(info.edits), "unsent_parts": tuple(info.unsent_parts)}

    def _event(self, row: Row, from_me: bool) -> GroupEvent | None:
        item_type = row[F["item_type"]] or 0
        if not item_type:
            return None
        other = row[F["other_handle"]] or 0
        return classify.group_event(classify.EventRow(
            item_type=int(item_type), group_action_type=int(row[F["group_action_type"]] or 0),
            actor=None if from_me else self._sender(row), actor_is_me=from_me,
            other_handle=handle_text(self.handles, other), other_handle_id=int(other),
            handle_id=int(row[F["handle_id"]] or 0), group_title=row[F["group_title"]],
            share_status=row[F["share_status"]]))

    def _reply(self, row: Row, guid: str) -> ReplyRef | None:
        return self._reply_to(guid, row[F["thread_originator_guid"]],
                              row[F["thread_originator_part"]], row[F["reply_missing"]])

    def _reply_to(self, guid: str, target: Any, part: Any, missing: Any) -> ReplyRef | None:
        if not target:
            return None
        if missing:
            self.problems.append(ReadProblem("reply_target_missing", guid,
                                             f"replies to {target}, which is not in sms.db"))
        return ReplyRef(str(target), classify.parse_thread_part(part))

    def _associated(self, row: Row, guid: str, fields: dict[str, Any]) -> dict[str, Any]:
        code = row[F["associated_message_type"]]
        if classify.is_ordinary_associated_type(code):
            return {}
        if code == classify.POLL_VOTE:
            target = classify.parse_associated_guid(row[F["associated_message_guid"]])
            vote = self._vote(guid, row[_PAYLOAD], target.guid if target else None)
            if vote is not None:
                fields["app"] = vote
            elif fields.get("app") is None:
                fields["app"] = AppMessage(bundle_id="com.apple.messages.Polls",
                                           kind="poll_vote", description="Voted in a poll")
            if target is not None:
                fields["reply_to"] = ReplyRef(target.guid, target.part)
            return {"poll_vote": 1}
        self.problems.append(ReadProblem("unknown_type", guid,
                                         f"associated_message_type {code}"))
        return {"associated_message_type": code}


def single_text_part(body: AttributedString) -> Part | None:
    """The commonest body (one run tagged only with its part number, plain text) as its one
    part without the general run walk; None for anything else. Equal to what body_parts
    gives for such a body (tested), about three times faster."""
    if len(body.runs) != 1:
        return None
    return plain_text_part(body.text, body.runs[0].attributes)


def plain_text_part(text: str, attributes: Mapping[str, object]) -> Part | None:
    """single_text_part for a one-run body given as its text and attributes."""
    if len(attributes) != 1:
        return None
    index = attributes.get(PART_KEY)
    if (type(index) is not int or index < 0 or not text or "\ufffc" in text
            or "\ufffd" in text):
        return None
    return new_part(index, PartKind.TEXT, (new_text_run(text),))


def in_body_order(attachments: list[Attachment], parts: Sequence[Part]) -> list[Attachment]:
    """Attachments in the order their U+FFFC placeholders appear in the body (the body's
    transfer GUIDs are exact); any the body does not mention follow in join order."""
    if len(attachments) < 2:
        return attachments
    order = {p.attachment_guid: i for i, p in enumerate(parts) if p.attachment_guid}
    if not order:
        return attachments
    return sorted(attachments, key=lambda a: order.get(a.guid, len(order)))


def _with_transcription(attachment: Attachment, transcription: str | None) -> Attachment:
    if not transcription or attachment.transcription:
        return attachment
    return replace(attachment, transcription=transcription)


def _fully_unsent(unsent: Sequence[int], parts: Sequence[Part]) -> bool:
    indexes = {p.index for p in parts if p.kind is not PartKind.RETRACTED}
    return not indexes or indexes.issubset(set(unsent))


def sticker_source_from_plist(blob: Any) -> str | None:
    if not blob:
        return None
    try:
        info = plistlib.loads(bytes(blob))
    except Exception:  # any malformed plist: the source is simply unknown
        return None
    pid = info.get("pid") if isinstance(info, dict) else None
    return classify.sticker_source(pid if isinstance(pid, str) else None)
