"""The sms.db reader gets every message kind right, in every builder schema generation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coldtexts.fixtures.smsdb_builder import AttachmentSpec, SmsDbBuilder
from coldtexts.fixtures.smsdb_builder_body import BodySegment
from coldtexts.fixtures.smsdb_builder_plist import app_payload
from coldtexts.messages.models import (
    Conversation,
    EventKind,
    Message,
    MessageKind,
    PartKind,
    Reaction,
    ReactionKind,
    ReadProblem,
)
from coldtexts.messages.reader import SmsDatabase

ALL = ("ios12", "ios16", "ios18")
MODERN = ("ios16", "ios18")
T0 = datetime(2024, 3, 9, 18, 30, tzinfo=UTC)
MOM = "+15555550101"
ALEX = "+15555550102"


@dataclass
class Read:
    conversations: list[Conversation]
    messages: list[Message]
    reactions: list[Reaction]
    problems: list[ReadProblem]

    def one(self, guid: str) -> Message:
        return next(m for m in self.messages if m.guid == guid)


@dataclass
class Family:
    b: SmsDbBuilder
    mom: int
    alex: int
    chat: int
    group: int


def family(schema: str) -> Family:
    b = SmsDbBuilder(schema=schema)
    mom, alex = b.handle(MOM), b.handle(ALEX)
    return Family(b, mom, alex, b.chat([mom]), b.chat([mom, alex], display_name="Family"))


def read(b: SmsDbBuilder, tmp_path: Path) -> Read:
    path = b.write(tmp_path / f"sms-{b.schema}.db")
    with SmsDatabase.open(path) as db:
        conversations = list(db.conversations())
        messages = list(db.messages())
        reactions = list(db.reactions())
        return Read(conversations, messages, reactions, list(db.problems))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize("schema", ALL)
def test_plain_text_sender_dates_and_status(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    g1 = f.b.message(f.chat, sender=f.mom, date=at(0), text="Dinner at 7? \U0001f35d")
    g2 = f.b.message(f.chat, from_me=True, date=at(1), text="Yes!", owner_address="+15555550100",
                     date_delivered=at(1.1), date_read=at(3))
    r = read(f.b, tmp_path)
    first, second = r.one(g1), r.one(g2)
    assert (first.text, first.sender, first.is_from_me) == ("Dinner at 7? \U0001f35d", MOM, False)
    assert first.date == at(0) and first.date.tzinfo is not None
    assert [p.kind for p in first.parts] == [PartKind.TEXT]
    assert (second.sender, second.is_from_me, second.owner_address) == (None, True,
                                                                        "+15555550100")
    assert (second.date_delivered, second.date_read) == (at(1.1), at(3))
    assert [m.guid for m in r.messages] == [g1, g2]
    assert first.chat_guids == ("iMessage;-;" + MOM,)
    assert r.problems == []


@pytest.mark.parametrize("schema", ALL)
def test_text_only_in_attributed_body(schema: str, tmp_path: Path) -> None:
    b = SmsDbBuilder(schema=schema, text_column=False)
    mom = b.handle(MOM)
    chat = b.chat([mom])
    guid = b.message(chat, sender=mom, date=at(0), text="Body only: caf\u00e9 \U0001f600")
    r = read(b, tmp_path)
    assert r.one(guid).text == "Body only: caf\u00e9 \U0001f600"
    assert not r.one(guid).body_undecodable


@pytest.mark.parametrize("schema", ALL)
def test_conversations_with_participants(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    f.b.message(f.group, sender=f.alex, date=at(0), text="hi all")
    r = read(f.b, tmp_path)
    by_guid = {c.guid: c for c in r.conversations}
    one = by_guid["iMessage;-;" + MOM]
    assert (one.is_group, one.display_name, one.identifier) == (False, None, MOM)
    group = next(c for c in r.conversations if c.is_group)
    assert group.display_name == "Family"
    assert [p.handle for p in group.participants] == [MOM, ALEX]


@pytest.mark.parametrize("schema", ALL)
def test_classic_tapbacks_are_reactions_not_messages(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    target = f.b.message(f.chat, from_me=True, date=at(0), text="Home safe")
    f.b.message(f.chat, sender=f.mom, date=at(1), tapback=(2000, target, 0),
                text="Loved \u201cHome safe\u201d")
    f.b.message(f.chat, sender=f.mom, date=at(2), tapback=(3000, target, 0),
                text="Removed a heart from \u201cHome safe\u201d")
    f.b.message(f.chat, from_me=True, date=at(3), tapback=(2005, target, 0))
    r = read(f.b, tmp_path)
    assert [m.guid for m in r.messages] == [target]
    assert [(x.kind, x.added, x.sender, x.target_guid, x.target_part) for x in r.reactions] == [
        (ReactionKind.LOVE, True, MOM, target, 0),
        (ReactionKind.LOVE, False, MOM, target, 0),
        (ReactionKind.QUESTION, True, None, target, 0),
    ]
    assert r.reactions[0].emoji == "\u2764\ufe0f"
    assert r.reactions[0].chat_guids == ("iMessage;-;" + MOM,)


@pytest.mark.parametrize("schema", ALL)
def test_tapback_on_a_later_part(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    target = f.b.message(f.chat, sender=f.mom, date=at(0), text="Our garden",
                         attachments=[AttachmentSpec("IMG_1.HEIC", "image/heic", "public.heic")])
    f.b.message(f.chat, from_me=True, date=at(1), tapback=(2001, target, 1))
    r = read(f.b, tmp_path)
    assert [p.kind for p in r.one(target).parts] == [PartKind.ATTACHMENT, PartKind.TEXT]
    assert (r.reactions[0].kind, r.reactions[0].target_part) == (ReactionKind.LIKE, 1)


def test_emoji_tapback(tmp_path: Path) -> None:
    f = family("ios18")
    target = f.b.message(f.chat, from_me=True, date=at(0), text="Got the job!")
    f.b.message(f.chat, sender=f.mom, date=at(1), tapback=(2006, target, 0),
                tapback_emoji="\U0001f389")
    r = read(f.b, tmp_path)
    assert [(x.kind, x.emoji, x.added) for x in r.reactions] == [
        (ReactionKind.EMOJI, "\U0001f389", True)]


@pytest.mark.parametrize("schema", ALL)
def test_sticker_placed_on_a_message_carries_its_image(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    target = f.b.message(f.chat, from_me=True, date=at(0), text="Guess who passed")
    code = 2007 if schema == "ios18" else 1000
    f.b.message(f.chat, sender=f.mom, date=at(1), tapback=(code, target, 0), attachments=[
        AttachmentSpec("sticker.heic", "image/heic", "public.heic", 2048, is_sticker=True)])
    r = read(f.b, tmp_path)
    (reaction,) = r.reactions
    assert reaction.kind is ReactionKind.STICKER
    assert [a.transfer_name for a in reaction.attachments] == ["sticker.heic"]
    assert reaction.attachments[0].is_sticker
    assert [m.guid for m in r.messages] == [target]


@pytest.mark.parametrize("schema", MODERN)
def test_reply_to_a_part(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    target = f.b.message(f.chat, sender=f.mom, date=at(0), text="tomatoes!",
                         attachments=[AttachmentSpec("IMG_2.HEIC", "image/heic", "public.heic")])
    reply = f.b.message(f.chat, from_me=True, date=at(1), reply_to=(target, 1), text="Wow")
    r = read(f.b, tmp_path)
    reply_ref = r.one(reply).reply_to
    assert reply_ref is not None and (reply_ref.guid, reply_ref.part) == (target, 1)
    assert r.problems == []


@pytest.mark.parametrize("schema", MODERN)
def test_edit_history(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    guid = f.b.message(f.chat, from_me=True, date=at(0), text="See you at 6:30",
                       edits=[(at(0), "See you at 6"), (at(1), "See you at 6:30")])
    r = read(f.b, tmp_path)
    message = r.one(guid)
    assert [(e.part, e.text, e.date) for e in message.edits] == [
        (0, "See you at 6", at(0)), (0, "See you at 6:30", at(1))]
    assert message.date_edited == at(1)
    assert message.text == "See you at 6:30"


@pytest.mark.parametrize("schema", MODERN)
def test_fully_unsent_is_an_event(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    guid = f.b.message(f.chat, from_me=True, date=at(0), text="oops", unsent_parts=[0],
                       date_retracted=at(1))
    r = read(f.b, tmp_path)
    message = r.one(guid)
    assert message.unsent_parts == (0,)
    assert message.kind is MessageKind.EVENT
    assert message.event is not None and message.event.kind is EventKind.FULLY_UNSENT
    assert message.date_retracted == at(1)


@pytest.mark.parametrize("schema", ALL)
@pytest.mark.parametrize(("style", "name"), [
    ("com.apple.MobileSMS.expressivesend.impact", "Slam"),
    ("com.apple.messages.effect.CKConfettiEffect", "Confetti"),
    ("com.apple.messages.effect.CKBrandNewEffect", "com.apple.messages.effect.CKBrandNewEffect"),
])
def test_bubble_and_screen_effects(schema: str, style: str, name: str, tmp_path: Path) -> None:
    f = family(schema)
    guid = f.b.message(f.chat, from_me=True, date=at(0), text="Surprise", effect=style)
    assert read(f.b, tmp_path).one(guid).effect == name


@pytest.mark.parametrize("schema", ALL)
def test_sticker_message_with_source(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    guid = f.b.message(f.chat, sender=f.mom, date=at(0), attachments=[AttachmentSpec(
        "sticker.heic", "image/heic", "public.heic", 4096, is_sticker=True,
        sticker_bundle="com.apple.Animoji.StickersApp.MessagesExtension")])
    (attachment,) = read(f.b, tmp_path).one(guid).attachments
    assert attachment.is_sticker and attachment.sticker_source == "Memoji"


def test_genmoji_description(tmp_path: Path) -> None:
    f = family("ios18")
    guid = f.b.message(f.chat, sender=f.mom, date=at(0), attachments=[AttachmentSpec(
        "genmoji.heic", "image/heic", "public.heic", is_sticker=True,
        sticker_bundle="com.apple.messages.genmoji", emoji_description="a cat in a hat")])
    (attachment,) = read(f.b, tmp_path).one(guid).attachments
    assert (attachment.sticker_source, attachment.description) == ("Genmoji", "a cat in a hat")


@pytest.mark.parametrize("schema", ALL)
def test_audio_message_kept_and_expired(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    audio = f.b.message(f.chat, sender=f.mom, date=at(0), audio=True, attachments=[
        AttachmentSpec("Audio Message.caf", None, "com.apple.coreaudio-format", 9000,
                       transcription="call me back")])
    kept = f.b.message(f.chat, from_me=True, date=at(1), item_type=5)
    expired = f.b.message(f.chat, sender=f.mom, date=at(2), audio=True, audio_expired=True,
                          attachments=[AttachmentSpec("Audio Message.caf", None,
                                                      "com.apple.coreaudio-format",
                                                      no_path=True)])
    r = read(f.b, tmp_path)
    assert r.one(audio).is_audio_message and not r.one(audio).audio_expired
    assert r.one(audio).attachments[0].transcription == "call me back"
    assert r.one(audio).attachments[0].uti == "com.apple.coreaudio-format"
    kept_event = r.one(kept).event
    assert kept_event is not None and kept_event.kind is EventKind.AUDIO_KEPT
    assert r.one(expired).audio_expired


@pytest.mark.parametrize("schema", ALL)
def test_link_preview(schema: str, tmp_path: Path) -> None:
    from coldtexts.fixtures.typedstream_writer import encode_url_payload

    f = family(schema)
    url = "https://example.com/pie"
    guid = f.b.message(f.chat, sender=f.mom, date=at(0), text=url,
                       balloon_bundle_id="com.apple.messages.URLBalloonProvider",
                       payload_data=encode_url_payload(url=url, title="Apple Pie",
                                                       summary="Lattice top",
                                                       site="Example"))
    message = read(f.b, tmp_path).one(guid)
    assert message.kind is MessageKind.APP
    assert message.link_preview is not None
    assert (message.link_preview.title, message.link_preview.site_name) == ("Apple Pie",
                                                                             "Example")


@pytest.mark.parametrize("schema", ALL)
def test_app_message_described_in_words(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    guid = f.b.message(f.chat, sender=f.mom, date=at(0), balloon_bundle_id=(
        "com.apple.messages.MSMessageExtensionBalloonPlugin:0000000000:"
        "com.apple.PassbookUIService.PeerPaymentMessagesExtension"),
        payload_data=app_payload("Apple Cash", "Sent $25 with Apple Cash."))
    r = read(f.b, tmp_path)
    message = r.one(guid)
    assert message.kind is MessageKind.APP and message.app is not None
    assert message.app.bundle_id == "com.apple.PassbookUIService.PeerPaymentMessagesExtension"
    assert "Sent $25 with Apple Cash." in message.app.description
    assert r.problems == []


@pytest.mark.parametrize("schema", ALL)
@pytest.mark.parametrize(("bundle", "kind"), [
    ("com.apple.Handwriting.HandwritingProvider", "handwriting"),
    ("com.apple.DigitalTouchBalloonProvider", "digital_touch"),
])
def test_handwriting_and_digital_touch_keep_raw_payload(schema: str, bundle: str, kind: str,
                                                        tmp_path: Path) -> None:
    f = family(schema)
    payload = b"\x08\x01\x12\x05hello\x1a\x02\x08\x01"
    guid = f.b.message(f.chat, sender=f.mom, date=at(0), balloon_bundle_id=bundle,
                       payload_data=payload)
    message = read(f.b, tmp_path).one(guid)
    assert message.app is not None
    assert (message.app.kind, message.app.raw_payload) == (kind, payload)


Event = Callable[[Family], str]


@pytest.mark.parametrize("schema", ALL)
@pytest.mark.parametrize(("make", "kind", "target", "title"), [
    (lambda f: f.b.message(f.group, from_me=True, date=at(0), item_type=2,
                           group_title="Cousins"), EventKind.RENAMED, None, "Cousins"),
    (lambda f: f.b.message(f.group, from_me=True, date=at(0), item_type=1,
                           other_handle=f.alex), EventKind.MEMBER_ADDED, ALEX, None),
    (lambda f: f.b.message(f.group, sender=f.mom, date=at(0), item_type=1,
                           group_action_type=1, other_handle=f.alex),
     EventKind.MEMBER_REMOVED, ALEX, None),
    (lambda f: f.b.message(f.group, sender=f.alex, date=at(0), item_type=3),
     EventKind.MEMBER_LEFT, None, None),
    (lambda f: f.b.message(f.group, sender=f.alex, date=at(0), item_type=3,
                           group_action_type=1), EventKind.PHOTO_CHANGED, None, None),
    (lambda f: f.b.message(f.group, sender=f.alex, date=at(0), item_type=3,
                           group_action_type=2), EventKind.PHOTO_REMOVED, None, None),
    (lambda f: f.b.message(f.group, sender=f.mom, date=at(0), item_type=4),
     EventKind.LOCATION_STARTED, None, None),
    (lambda f: f.b.message(f.group, sender=f.mom, date=at(0), item_type=4, share_status=1),
     EventKind.LOCATION_STOPPED, None, None),
    (lambda f: f.b.message(f.group, sender=f.mom, date=at(0), item_type=6),
     EventKind.SHAREPLAY, None, None),
])
def test_group_events(schema: str, make: Event, kind: EventKind, target: str | None,
                      title: str | None, tmp_path: Path) -> None:
    f = family(schema)
    guid = make(f)
    message = read(f.b, tmp_path).one(guid)
    assert message.kind is MessageKind.EVENT and message.event is not None
    assert (message.event.kind, message.event.target, message.event.title) == (kind, target,
                                                                                 title)


@pytest.mark.parametrize("schema", ALL)
@pytest.mark.parametrize(("service", "attachments", "expected"), [
    ("iMessage", False, "iMessage"), ("SMS", False, "SMS"), ("SMS", True, "MMS"),
    ("RCS", False, "RCS"), ("iMessageLite", False, "Satellite"), ("Carrier X", False, "Carrier X"),
])
def test_services(schema: str, service: str, attachments: bool, expected: str,
                  tmp_path: Path) -> None:
    if service == "iMessageLite" and schema != "ios18":
        pytest.skip("satellite messages exist from iOS 18")
    f = family(schema)
    files = [AttachmentSpec("IMG.JPG", "image/jpeg", "public.jpeg")] if attachments else []
    guid = f.b.message(f.chat, sender=f.mom, date=at(0), text="hello", service=service,
                       attachments=files)
    assert read(f.b, tmp_path).one(guid).service == expected


@pytest.mark.parametrize("schema", ALL)
def test_failed_send(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    bad = f.b.message(f.chat, from_me=True, date=at(0), text="not sent", error=4)
    good = f.b.message(f.chat, from_me=True, date=at(1), text="sent")
    r = read(f.b, tmp_path)
    assert r.one(bad).failed and not r.one(good).failed


@pytest.mark.parametrize("schema", MODERN)
def test_recently_deleted_recovered_into_chat(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    guid = f.b.message(f.chat, sender=f.mom, date=at(0), text="call Grandma", recoverable=True)
    r = read(f.b, tmp_path)
    assert r.one(guid).deleted_on_device
    assert r.one(guid).chat_guids == ("iMessage;-;" + MOM,)
    assert r.problems == []


@pytest.mark.parametrize("schema", ALL)
def test_orphan_kept_and_reported(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    guid = f.b.message(None, sender=f.mom, date=at(0), text="no chat")
    r = read(f.b, tmp_path)
    assert r.one(guid).chat_guids == () and r.one(guid).text == "no chat"
    assert [(p.kind, p.guid) for p in r.problems] == [("orphan", guid)]


@pytest.mark.parametrize("schema", ALL)
def test_message_in_two_chats_is_read_once(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    guid = f.b.message([f.chat, f.group], sender=f.mom, date=at(0), text="twice")
    r = read(f.b, tmp_path)
    assert [m.guid for m in r.messages] == [guid]
    assert len(r.one(guid).chat_guids) == 2


@pytest.mark.parametrize("schema", ALL)
def test_attachments_in_body_order(schema: str, tmp_path: Path) -> None:
    f = family(schema)
    files = [AttachmentSpec(f"IMG_{i}.HEIC", "image/heic", "public.heic", 100 + i)
             for i in range(3)]
    guid = f.b.message(f.chat, sender=f.mom, date=at(0), text="three photos", attachments=files)
    message = read(f.b, tmp_path).one(guid)
    assert [a.transfer_name for a in message.attachments] == ["IMG_0.HEIC", "IMG_1.HEIC",
                                                              "IMG_2.HEIC"]
    assert [p.attachment_guid for p in message.parts[:3]] == [a.guid for a in message.attachments]
    assert message.attachments[0].filename is not None
    assert message.attachments[0].filename.startswith("~/Library/SMS/Attachments/")
    assert message.attachments[1].total_bytes == 101


def test_ios18_formatting_mentions_and_links(tmp_path: Path) -> None:
    f = family("ios18")
    guid = f.b.message(f.group, sender=f.alex, date=at(0), segments=[
        BodySegment("Mom", mention=MOM), BodySegment(" look "),
        BodySegment("here", link="https://example.com/x"), BodySegment(" now", bold=True),
        BodySegment("!", effect=9)])
    message = read(f.b, tmp_path).one(guid)
    runs = message.parts[0].runs
    assert message.text == "Mom look here now!"
    assert [r.mention for r in runs if r.mention] == [MOM]
    assert [r.link for r in runs if r.link] == ["https://example.com/x"]
    assert [r.text for r in runs if r.bold] == [" now"]
    assert [r.effect for r in runs if r.effect] == ["Shake"]


def test_dates_in_seconds_read_like_nanoseconds(tmp_path: Path) -> None:
    b = SmsDbBuilder(schema="ios12", seconds_dates=True)
    mom = b.handle(MOM)
    guid = b.message(b.chat([mom]), sender=mom, date=at(0), text="old phone", date_read=at(5))
    message = read(b, tmp_path).one(guid)
    assert (message.date, message.date_read) == (at(0), at(5))


def test_poll_and_vote(tmp_path: Path) -> None:
    f = family("ios18")
    poll = f.b.message(f.group, sender=f.alex, date=at(0), balloon_bundle_id=(
        "com.apple.messages.MSMessageExtensionBalloonPlugin:0000000000:com.apple.messages.Polls"),
        payload_data=app_payload("Polls", "Lasagna or tacos?"))
    vote = f.b.message(f.group, sender=f.mom, date=at(1), tapback=(4000, poll, 0))
    r = read(f.b, tmp_path)
    assert r.one(poll).app is not None and r.one(poll).kind is MessageKind.APP
    vote_ref, vote_app = r.one(vote).reply_to, r.one(vote).app
    assert vote_ref is not None and vote_ref.guid == poll
    assert vote_app is not None and vote_app.kind == "poll_vote"
    assert r.reactions == []


@pytest.mark.parametrize("text", ["hello", "caf\u00e9 \U0001f600 \U0001f468\u200d\U0001f469",
                                  "line one\nline two", " "])
@pytest.mark.parametrize("part", [0, 2])
def test_single_run_fast_path_equals_the_general_walk(text: str, part: int) -> None:
    from coldtexts.fixtures.typedstream_writer import encode_attributed_body
    from coldtexts.messages.attributed import body_parts
    from coldtexts.messages.reader_rows import single_text_part
    from coldtexts.messages.typedstream import decode_attributed_body, utf16_length

    body = decode_attributed_body(encode_attributed_body(
        text, [(utf16_length(text), {"__kIMMessagePartAttributeName": part})]))
    general = body_parts(body, [])
    assert single_text_part(body) is not None
    assert (single_text_part(body),) == general.parts and general.text == body.text


def test_fast_path_declines_anything_richer() -> None:
    from coldtexts.fixtures.typedstream_writer import encode_attributed_body
    from coldtexts.messages.reader_rows import single_text_part
    from coldtexts.messages.typedstream import decode_attributed_body

    bold = decode_attributed_body(encode_attributed_body(
        "hi", [(2, {"__kIMMessagePartAttributeName": 0, "__kIMTextBoldAttributeName": 1})]))
    two = decode_attributed_body(encode_attributed_body(
        "hi", [(1, {"__kIMMessagePartAttributeName": 0}),
               (1, {"__kIMMessagePartAttributeName": 1})]))
    placeholder = decode_attributed_body(encode_attributed_body(
        "\ufffc", [(1, {"__kIMMessagePartAttributeName": 0})]))
    assert single_text_part(bold) is None and single_text_part(two) is None
    assert single_text_part(placeholder) is None


@pytest.mark.parametrize("schema", ALL)
def test_attachments_follow_the_body_when_the_join_order_differs(schema: str,
                                                                 tmp_path: Path) -> None:
    from coldtexts.fixtures.typedstream_writer import encode_attributed_body

    f = family(schema)
    files = [AttachmentSpec(f"IMG_{i}.HEIC", "image/heic", "public.heic", guid=f"GUID-{i}")
             for i in range(2)]
    body = encode_attributed_body("\ufffc\ufffc", [
        (1, {"__kIMMessagePartAttributeName": 0, "__kIMFileTransferGUIDAttributeName": "GUID-1"}),
        (1, {"__kIMMessagePartAttributeName": 1, "__kIMFileTransferGUIDAttributeName": "GUID-0"}),
    ])
    guid = f.b.message(f.chat, sender=f.mom, date=at(0), attachments=files,
                       attributed_body=body)
    message = read(f.b, tmp_path).one(guid)
    assert [a.guid for a in message.attachments] == ["GUID-1", "GUID-0"]
    assert [p.attachment_guid for p in message.parts] == ["GUID-1", "GUID-0"]


@pytest.mark.parametrize("block_rows", [1, 2, 4])
def test_a_message_in_two_chats_is_one_message_across_blocks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_rows: int) -> None:
    """Messages are handled in blocks (their lookups made together); a message's rows
    (one per chat) are folded first, so they make one message with both chats wherever
    the blocks fall, and so do tapbacks."""
    f = family("ios18")
    both = [f.chat, f.group]
    guids = [f.b.message(both if i % 2 else f.chat, sender=f.mom, date=T0 + timedelta(minutes=i),
                         text=f"message {i}") for i in range(7)]
    f.b.message(both, sender=f.alex, date=T0 + timedelta(minutes=8),
                tapback=(2000, guids[1], 0))
    monkeypatch.setattr("coldtexts.messages.reader.BLOCK_ROWS", block_rows)
    r = read(f.b, tmp_path)
    chats = (f.b.chat_guid(f.chat), f.b.chat_guid(f.group))
    assert [m.guid for m in r.messages] == guids
    assert [m.chat_guids for m in r.messages] == [chats if i % 2 else chats[:1] for i in range(7)]
    assert [x.chat_guids for x in r.reactions] == [chats]
