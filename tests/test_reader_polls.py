"""iOS 26 polls: the question and options of a poll balloon, and votes named by option.

smsdb.md does not describe the payload; these fixtures follow the third-party shape the
decoder reads (a keyed archive whose URL is `data:,<base64 JSON>`). Anything else keeps
the generic description, and the raw payload is kept either way."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coldtexts.fixtures.smsdb_builder import SmsDbBuilder
from coldtexts.fixtures.smsdb_builder_plist import app_payload, poll_payload, poll_vote_payload
from coldtexts.fixtures.typedstream_writer import encode_app_payload
from coldtexts.messages.models import Message, MessageKind
from coldtexts.messages.plists import parse_payload, poll_content
from coldtexts.messages.reader import SmsDatabase
from coldtexts.messages.typedstream import NSURLValue

POLLS = "com.apple.messages.MSMessageExtensionBalloonPlugin:0000000000:com.apple.messages.Polls"
T0 = datetime(2025, 10, 1, 18, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def read(b: SmsDbBuilder, tmp_path: Path) -> dict[str, Message]:
    with SmsDatabase.open(b.write(tmp_path / "sms.db")) as db:
        messages = {m.guid: m for m in db.messages()}
        assert not [p for p in db.problems if p.kind != "unknown_balloon"]
        return messages


def test_poll_question_options_and_votes(tmp_path: Path) -> None:
    b = SmsDbBuilder(schema="ios18")
    mom, alex = b.handle("+15555550101"), b.handle("+15555550102")
    group = b.chat([mom, alex], display_name="Family")
    payload = poll_payload("Sunday dinner?", [("opt-1", "Lasagna"), ("opt-2", "Tacos")],
                           creator="+15555550102")
    poll = b.message(group, sender=alex, date=at(0), balloon_bundle_id=POLLS,
                     payload_data=payload)
    vote = b.message(group, sender=mom, date=at(1), tapback=(4000, poll, 0),
                     balloon_bundle_id=POLLS,
                     payload_data=poll_vote_payload([("opt-2", "+15555550101", "selected")]))
    stray = b.message(group, sender=mom, date=at(2), tapback=(4000, "NOT-A-POLL", 0),
                      balloon_bundle_id=POLLS,
                      payload_data=poll_vote_payload([("opt-9", "+15555550101", "selected")]))
    messages = read(b, tmp_path)

    app = messages[poll].app
    assert messages[poll].kind is MessageKind.APP and app is not None
    assert (app.kind, app.description) == ("poll", "Poll: Sunday dinner? (Lasagna, Tacos)")
    assert app.fields == (("Question", "Sunday dinner?"), ("Option 1", "Lasagna"),
                          ("Option 2", "Tacos"), ("Created by", "+15555550102"))
    assert app.raw_payload == payload  # the layout is unverified: kept verbatim

    voted = messages[vote]
    assert voted.kind is MessageKind.APP and voted.app is not None
    assert (voted.app.kind, voted.app.description) == ("poll_vote", "Voted for \u201cTacos\u201d")
    assert voted.app.fields == (("Vote", "Tacos"), ("Voter", "+15555550101"))
    assert voted.reply_to is not None and voted.reply_to.guid == poll
    unknown = messages[stray].app
    assert unknown is not None and unknown.description == "Voted for option opt-9"


def test_generic_poll_payload_is_described_as_before(tmp_path: Path) -> None:
    b = SmsDbBuilder(schema="ios18")
    chat = b.chat([b.handle("+15555550101")])
    poll = b.message(chat, sender=1, date=at(0), balloon_bundle_id=POLLS,
                     payload_data=app_payload("Polls", "Lasagna or tacos?"))
    vote = b.message(chat, from_me=True, date=at(1), tapback=(4000, poll, 0))
    messages = read(b, tmp_path)
    app = messages[poll].app
    assert app is not None and (app.kind, app.description) == ("poll", "Lasagna or tacos?")
    assert app.raw_payload is None and app.fields == ()
    vote_app = messages[vote].app
    assert vote_app is not None and vote_app.description == "Voted in a poll"


def test_poll_json_variants() -> None:
    plain = {"title": "Ship it?", "orderedPollOptions": [
        {"optionIdentifier": "y", "pollOptionText": "Yes"},
        {"optionIdentifier": "n", "pollOptionText": "No"}]}
    encoded = base64.b64encode(json.dumps(plain).encode()).decode()
    for url in (f"data:,{encoded}", f"data:application/json;base64,{encoded}",
                "data:," + json.dumps(plain).replace(" ", "%20").replace('"', "%22")):
        assert poll_content(url) == plain, url
        blob = encode_app_payload({"an": "Polls", "URL": NSURLValue(url)})
        app = parse_payload("com.apple.messages.Polls", blob).app
        assert app is not None and app.description == "Poll: Ship it? (Yes, No)"
    assert poll_content("https://example.com/") is None
    assert poll_content("data:,not json at all") is None
    assert poll_content("data:,WzEsMl0=") is None  # JSON, but not an object


def test_a_vote_read_apart_from_its_poll_still_names_the_option(tmp_path: Path) -> None:
    """Two processes read chunks of dates out of order: a vote whose poll is in a chunk
    not read yet (or by the other process) looks the poll up, and reads the same."""
    from coldtexts.messages.dates import to_apple_nanoseconds

    b = SmsDbBuilder(schema="ios18")
    mom, alex = b.handle("+15555550101"), b.handle("+15555550102")
    group = b.chat([mom, alex], display_name="Family")
    poll = b.message(group, sender=alex, date=at(0), balloon_bundle_id=POLLS,
                     payload_data=poll_payload("Sunday dinner?",
                                               [("opt-1", "Lasagna"), ("opt-2", "Tacos")]))
    vote = b.message(group, sender=mom, date=at(1), tapback=(4000, poll, 0),
                     balloon_bundle_id=POLLS,
                     payload_data=poll_vote_payload([("opt-2", "+15555550101", "selected")]))
    bounds = [to_apple_nanoseconds(at(0)), to_apple_nanoseconds(at(1))]
    with SmsDatabase.open(b.write(tmp_path / "sms.db")) as db:
        (voted,) = list(db.messages_in_chunk(bounds, 1))  # the poll's chunk is never read
    assert voted.guid == vote and voted.app is not None
    assert voted.app.description == "Voted for \u201cTacos\u201d"
