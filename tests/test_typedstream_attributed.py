"""Body parts from decoded attributed bodies (real and encoder-built)."""

from __future__ import annotations

from pathlib import Path

from coldtexts.fixtures.typedstream_writer import NSURLValue, encode_attributed_body
from coldtexts.messages.attributed import body_parts, plain_text_parts
from coldtexts.messages.models import PartKind
from coldtexts.messages.typedstream import decode_attributed_body

PART = "__kIMMessagePartAttributeName"


def _real(realdata: Path, name: str) -> bytes:
    return (realdata / "typedstream" / name).read_bytes()


def test_multipart_attachments_and_text_in_order(realdata: Path) -> None:
    info = body_parts(decode_attributed_body(_real(realdata, "MultiPart")), [])
    kinds = [(part.index, part.kind) for part in info.parts]
    assert kinds == [(0, PartKind.ATTACHMENT), (1, PartKind.TEXT), (2, PartKind.ATTACHMENT),
                     (3, PartKind.TEXT), (4, PartKind.ATTACHMENT), (5, PartKind.TEXT)]
    assert info.parts[0].attachment_guid == "at_0_F0668F79-20C2-49C9-A87F-1B007ABB0CED"
    assert [p.text for p in info.parts if p.kind is PartKind.TEXT] == [
        "test 1", "test 2 ", "test 3"]


def test_mention_bold_underline_effects_and_links(realdata: Path) -> None:
    mention = body_parts(decode_attributed_body(_real(realdata, "Mention")), [])
    assert mention.mentions == ("+15558675309",)
    assert [(r.text, r.mention) for r in mention.parts[0].runs] == [
        ("Test ", None), ("Dad", "+15558675309"), (" ", None)]
    emoji = body_parts(decode_attributed_body(_real(realdata, "EmojiBoldUnderline")), [])
    runs = emoji.parts[0].runs
    assert [(r.text, r.bold, r.underline) for r in runs] == [
        ("🅱️", False, False), ("Bold", True, False), ("_", False, False),
        ("Underline", False, True)]
    effects = body_parts(decode_attributed_body(_real(realdata, "TextEffects")), [])
    named = [(r.text, r.effect) for r in effects.parts[0].runs if r.effect]
    assert named[:3] == [("Big", "Big"), ("small ", "Small"), ("shake", "Shake")]
    phone = body_parts(decode_attributed_body(_real(realdata, "0123456789")), [])
    assert {r.link for r in phone.parts[0].runs} == {"tel:0123456789"}
    styles = body_parts(decode_attributed_body(_real(realdata, "TextStyles")), [])
    flags = {r.text: (r.bold, r.underline, r.italic, r.strikethrough)
             for r in styles.parts[0].runs}
    assert flags["Bold"] == (True, False, False, False)
    assert flags["italic"] == (False, False, True, False)
    assert flags["strikethrough"] == (False, False, False, True)


def test_transcription_and_guid_fallback(realdata: Path) -> None:
    audio = body_parts(decode_attributed_body(_real(realdata, "Transcription")), ["other"])
    guid = "4C339597-EBBB-4978-9B87-521C0471A848"
    assert audio.parts[0].attachment_guid == guid
    assert audio.transcriptions == {guid: "This is a test"}
    assert audio.unplaced_attachments == ("other",)
    body = decode_attributed_body(encode_attributed_body(
        "\ufffc\ufffc", [(1, {PART: 0}), (1, {PART: 1, "__kIMFileTransferGUIDAttributeName":
                                              "B"})]))
    info = body_parts(body, ["A", "B"])
    assert [p.attachment_guid for p in info.parts] == ["A", "B"]
    assert info.unplaced_attachments == ()


def test_astral_characters_split_on_utf16_boundaries() -> None:
    text = "𝖍𝖊 😀x\ufffcend"
    runs = [(4, {PART: 0, "__kIMTextBoldAttributeName": 1}), (4, {PART: 0}),
            (1, {PART: 1}), (3, {PART: 2, "__kIMLinkAttributeName": NSURLValue("https://e.x/")})]
    info = body_parts(decode_attributed_body(encode_attributed_body(text, runs)), ["g"])
    assert [(p.index, p.kind) for p in info.parts] == [
        (0, PartKind.TEXT), (1, PartKind.ATTACHMENT), (2, PartKind.TEXT)]
    assert [(r.text, r.bold) for r in info.parts[0].runs] == [("𝖍𝖊", True), (" 😀x", False)]
    assert info.parts[2].runs[0].link == "https://e.x/"
    assert info.text == "𝖍𝖊 😀x\nend"


def test_app_placeholder_becomes_an_app_part() -> None:
    body = decode_attributed_body(encode_attributed_body("\ufffd", [(1, {PART: 0})]))
    assert [p.kind for p in body_parts(body, []).parts] == [PartKind.APP]


def test_plain_text_parts_split_at_placeholders() -> None:
    info = plain_text_parts("look\ufffcat this\ufffc", ["a", "b", "c"])
    assert [(p.index, p.kind, p.attachment_guid, p.text) for p in info.parts] == [
        (0, PartKind.TEXT, None, "look"), (1, PartKind.ATTACHMENT, "a", ""),
        (2, PartKind.TEXT, None, "at this"), (3, PartKind.ATTACHMENT, "b", "")]
    assert info.unplaced_attachments == ("c",) and info.text == "look\nat this"
    assert plain_text_parts("", []).parts == ()


def test_one_plain_run_fast_path_matches_the_model() -> None:
    from coldtexts.messages.models import Part, TextRun

    body = decode_attributed_body(encode_attributed_body("plain 😀", [(8, {PART: 2})]))
    info = body_parts(body, ["extra"])
    assert info.parts == (Part(2, PartKind.TEXT, (TextRun("plain 😀"),)),)
    assert info.text == "plain 😀" and info.unplaced_attachments == ("extra",)
    styled = decode_attributed_body(encode_attributed_body(
        "hey", [(3, {PART: 0, "__kIMTextItalicAttributeName": 1})]))
    assert body_parts(styled, []).parts[0].runs[0].italic is True
    empty = decode_attributed_body(encode_attributed_body("", []))
    assert body_parts(empty, []).parts == ()
