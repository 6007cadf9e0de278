"""message_summary_info and payload_data: real samples and encoder-built ones."""

from __future__ import annotations

import plistlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from coldtexts.errors import UndecodableError
from coldtexts.fixtures.typedstream_writer import (
    NSURLValue,
    encode_app_payload,
    encode_keyed_archive,
    encode_summary_info,
    encode_url_payload,
)
from coldtexts.messages.plists import (
    parse_balloon_bundle_id,
    parse_payload,
    parse_summary_info,
    unarchive_keyed,
)

PLUGIN = "com.apple.messages.MSMessageExtensionBalloonPlugin:0000000000:"
URL_PROVIDER = "com.apple.messages.URLBalloonProvider"


def test_real_edit_history(realdata: Path) -> None:
    info = parse_summary_info((realdata / "plists/edited_message_Edited.plist").read_bytes())
    assert [edit.text for edit in info.edits] == [
        "First message  ", "Edit 1", "Edit 2", "Edited message"]
    assert {edit.part for edit in info.edits} == {0}
    dates = [edit.date for edit in info.edits]
    assert dates == sorted(dates) and dates[0] == datetime(2022, 11, 19, 1, 17, 54, 272551,
                                                           tzinfo=UTC)
    assert info.unsent_parts == () and info.edited_parts == (0,)


def test_real_edit_to_link_and_back(realdata: Path) -> None:
    to_link = parse_summary_info(
        (realdata / "plists/edited_message_EditedToLink.plist").read_bytes())
    assert [(e.part, e.text) for e in to_link.edits] == [
        (1, "here we go!"), (1, "https://github.com/ReagentX/imessage-exporter/issues/10")]
    assert to_link.part_count == 2
    back = parse_summary_info(
        (realdata / "plists/edited_message_EditedToLinkAndBack.plist").read_bytes())
    assert len(back.edits) == 3 and back.edits[-1].text.startswith("And edit it back")


def test_real_unsent_message(realdata: Path) -> None:
    info = parse_summary_info((realdata / "plists/edited_message_Deleted.plist").read_bytes())
    assert info.unsent_parts == (0,) and info.edits == ()


def test_real_link_preview(realdata: Path) -> None:
    result = parse_payload(URL_PROVIDER, (realdata / "plists/url_message_URL.plist").read_bytes())
    assert result.app is None and result.link_preview is not None
    assert result.link_preview.title == "Christopher Sardegna"
    assert result.link_preview.url == "https://chrissardegna.com/"
    assert result.link_preview.original_url == "https://chrissardegna.com"


@pytest.mark.parametrize(("name", "bundle", "kind", "words"), [
    ("app_message_ApplePayRecurring.plist",
     "com.apple.PassbookUIService.PeerPaymentMessagesExtension", "apple_pay",
     "Sending you $1 weekly starting Nov 18, 2023"),
    ("app_message_CheckinTimer.plist", "com.apple.SafetyMonitorApp.SafetyMonitorMessages",
     "check_in", "Check In: Timer Started"),
    ("app_message_FindMy.plist", "com.apple.findmy.FindMyMessagesApp", "find_my",
     "Started Sharing Location"),
    ("app_message_Slideshow.plist", "com.apple.mobileslideshow.PhotosMessagesApp",
     "slideshow", "Home - 37 Photos"),
])
def test_real_app_messages(realdata: Path, name: str, bundle: str, kind: str,
                           words: str) -> None:
    result = parse_payload(PLUGIN + bundle, (realdata / "plists" / name).read_bytes())
    assert result.app is not None and result.link_preview is None
    assert (result.app.bundle_id, result.app.kind, result.app.description) == (
        bundle, kind, words)


def test_real_check_in_and_slideshow_details(realdata: Path) -> None:
    check_in = parse_payload(PLUGIN + "com.apple.SafetyMonitorApp.SafetyMonitorMessages",
                             (realdata / "plists/app_message_CheckinTimer.plist").read_bytes())
    assert check_in.app is not None
    fields = dict(check_in.app.fields)
    assert fields["messageType"] == "timer started"
    assert fields["sendDate"].startswith("2023-10-14T20:54:29")
    assert check_in.app.app_name == "Check In" and check_in.app.url is None
    slides = parse_payload(PLUGIN + "com.apple.mobileslideshow.PhotosMessagesApp",
                           (realdata / "plists/app_message_Slideshow.plist").read_bytes())
    assert slides.app is not None
    assert slides.app.url == "https://share.icloud.com/photos/1337h4x0r_jk#Home"


def test_real_freeform_collaboration(realdata: Path) -> None:
    result = parse_payload(
        URL_PROVIDER, (realdata / "plists/collaboration_message_Freeform.plist").read_bytes())
    assert result.app is not None and result.app.kind == "collaboration"
    assert result.app.app_name == "Freeform" and "Freeform" in result.app.description
    assert result.link_preview is not None
    assert result.link_preview.url == "https://www.icloud.com/freeform/REDACTED#Untitled"


def test_encoded_summary_info_round_trips() -> None:
    first = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    later = datetime(2024, 5, 1, 12, 3, 30, tzinfo=UTC)
    blob = encode_summary_info({1: [(first, "helo"), (later, "hello 👋")]}, unsent_parts=[0],
                               part_count=2)
    info = parse_summary_info(blob)
    assert [(e.part, e.date, e.text) for e in info.edits] == [
        (1, first, "helo"), (1, later, "hello 👋")]
    assert info.unsent_parts == (0,) and info.part_count == 2


def test_summary_info_with_undecodable_version_keeps_the_rest() -> None:
    blob = plistlib.dumps({"ec": {"0": [{"d": 1.0, "t": b"garbage"}, {"d": 2.0, "t": b""}],
                                  "x": []}, "rp": [1, "2", -3, "z"]}, fmt=plistlib.FMT_BINARY)
    info = parse_summary_info(blob)
    assert [e.text for e in info.edits] == ["", ""] and info.undecodable_versions == 1
    assert info.unsent_parts == (1, 2)


def test_encoded_url_payload_and_generic_app() -> None:
    preview = parse_payload(None, encode_url_payload(
        "https://example.org/a", "A title", "A summary", "Example")).link_preview
    assert preview is not None
    assert (preview.url, preview.title, preview.summary, preview.site_name) == (
        "https://example.org/a", "A title", "A summary", "Example")
    music = parse_payload(URL_PROVIDER, encode_url_payload(
        "https://music.apple.com/us/album/x/1", "Song")).app
    assert music is not None and (music.kind, music.description) == ("music", "Apple Music: Song")
    store = parse_payload(URL_PROVIDER, encode_url_payload(
        "https://apps.apple.com/us/app/x/id1", "Game")).app
    assert store is not None and store.kind == "app_store"
    game = parse_payload(PLUGIN + "com.gamepigeon.app", encode_app_payload({
        "an": "GamePigeon", "URL": NSURLValue("https://game.example/play?x=1"),
        "userInfo": {"caption": "Let's play 8 Ball", "subcaption": "Your move"}}))
    assert game.app is not None and game.app.kind == "app"
    assert game.app.description == "Let's play 8 Ball - Your move"
    assert game.app.app_name == "GamePigeon" and game.app.url == "https://game.example/play?x=1"
    bare = parse_payload("com.example.bare", encode_app_payload({"x": 1}), text="hi \ufffc")
    assert bare.app is not None and bare.app.description == "hi"


def test_protobuf_balloons_are_labelled_and_kept() -> None:
    heartbeat = b"\x08\x03\x1a\x05\x0d\x00\x00\xa0\x42"
    touch = parse_payload("com.apple.DigitalTouchBalloonProvider", heartbeat).app
    assert touch is not None and touch.description == "Digital Touch message (heartbeat)"
    assert touch.raw_payload == heartbeat
    odd = parse_payload("com.apple.DigitalTouchBalloonProvider", b"\x12\x00").app
    assert odd is not None and odd.description == "Digital Touch message"
    writing = parse_payload("com.apple.Handwriting.HandwritingProvider", b"\x0a\x01x").app
    assert writing is not None and writing.description == "Handwritten message"
    assert writing.raw_payload == b"\x0a\x01x"


def test_bundle_id_parsing() -> None:
    assert parse_balloon_bundle_id(PLUGIN + "com.apple.findmy.FindMyMessagesApp") == (
        "com.apple.findmy.FindMyMessagesApp")
    assert parse_balloon_bundle_id(URL_PROVIDER) == URL_PROVIDER


def test_keyed_archive_cycles_and_shared_objects() -> None:
    objects = ["$null", {"NS.keys": [plistlib.UID(2)], "NS.objects": [plistlib.UID(1)],
                         "$class": plistlib.UID(3)}, "self", {"$classname": "NSDictionary"}]
    blob = plistlib.dumps({"$top": {"root": plistlib.UID(1)}, "$objects": objects,
                           "$archiver": "NSKeyedArchiver", "$version": 100000},
                          fmt=plistlib.FMT_BINARY)
    assert unarchive_keyed(blob) == {"self": None}  # the cycle is cut
    assert unarchive_keyed(encode_keyed_archive({"a": [1, b"x", None]})) == {"a": [1, b"x", None]}


@pytest.mark.parametrize("blob", [b"", b"not a plist", plistlib.dumps([1, 2]),
                                  plistlib.dumps({"$top": {}, "$objects": []}),
                                  plistlib.dumps({"$top": {"root": plistlib.UID(9)},
                                                  "$objects": ["$null"]},
                                                 fmt=plistlib.FMT_BINARY)])
def test_bad_payloads_are_undecodable(blob: bytes) -> None:
    with pytest.raises(UndecodableError):
        parse_payload(URL_PROVIDER, blob)


def test_bad_summary_info_is_undecodable() -> None:
    with pytest.raises(UndecodableError):
        parse_summary_info(b"bplist00garbage")
    with pytest.raises(UndecodableError):
        parse_summary_info(plistlib.dumps([1]))


@pytest.mark.parametrize("url", ["http://[::1", "https://[not-ipv6]/x", "http://host:99999999/"])
def test_malformed_urls_in_payloads_are_kept_as_words_not_errors(url: str) -> None:
    """Found by the property test: urlsplit raises ValueError on a bracket left open."""
    from coldtexts.fixtures.typedstream_writer import encode_app_payload, encode_url_payload

    app = parse_payload("com.example.Game", encode_app_payload({"an": "Game", "ldtext": "Your move",
                                                                "URL": url}))
    assert app.app is not None and app.app.description == "Your move"
    preview = parse_payload("com.apple.messages.URLBalloonProvider",
                            encode_url_payload(url, "A title", "", ""))
    assert preview.link_preview is not None or preview.app is not None
