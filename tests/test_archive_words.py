"""Events and tapbacks in words; attachment kinds and stored-file extensions."""

from __future__ import annotations

import pytest

from coldtexts.archive.attachments import attachment_kind, blob_path, extension
from coldtexts.archive.words import event_text, reaction_emoji
from coldtexts.messages.models import EventKind, GroupEvent, ReactionKind

NAMES = {"+15550001": "Mom", "alex@example.com": "Alex"}


def _name(handle: str) -> str:
    return NAMES.get(handle, handle)


@pytest.mark.parametrize(("event", "expected"), [
    (GroupEvent(EventKind.RENAMED, actor="alex@example.com", title="Family"),
     "Alex named the conversation “Family”"),
    (GroupEvent(EventKind.RENAMED, actor_is_me=True), "You removed the conversation name"),
    (GroupEvent(EventKind.MEMBER_ADDED, actor="+15550001", target="alex@example.com"),
     "Mom added Alex"),
    (GroupEvent(EventKind.MEMBER_REMOVED, actor_is_me=True, target="+15550009"),
     "You removed +15550009"),
    (GroupEvent(EventKind.MEMBER_LEFT, actor_is_me=True), "You left the conversation"),
    (GroupEvent(EventKind.LOCATION_STARTED, actor="+15550001"), "Location sharing started"),
    (GroupEvent(EventKind.PHOTO_CHANGED, actor="+15550001"), "Mom changed the group photo"),
    (GroupEvent(EventKind.AUDIO_KEPT, actor="+15550001", detail="from Alex"),
     "Mom kept an audio message (from Alex)"),
    (GroupEvent(EventKind.UNKNOWN, detail="Something new happened"), "Something new happened"),
    (GroupEvent(EventKind.UNKNOWN), "Conversation event"),
])
def test_events_in_words(event: GroupEvent, expected: str) -> None:
    assert event_text(event, _name) == expected


def test_tapbacks() -> None:
    assert reaction_emoji(ReactionKind.LOVE, None) == "❤️"
    assert reaction_emoji(ReactionKind.EMPHASIZE, "ignored") == "‼️"
    assert reaction_emoji(ReactionKind.EMOJI, "🎉") == "🎉"
    assert reaction_emoji(ReactionKind.STICKER, None) == "sticker"
    assert reaction_emoji(ReactionKind.UNKNOWN, None) == "?"


@pytest.mark.parametrize(("mime", "uti", "sticker", "kind"), [
    ("image/heic", None, False, "image"),
    (None, "public.heic", False, "image"),
    ("video/quicktime", None, False, "video"),
    (None, "com.apple.quicktime-movie", False, "video"),
    ("audio/x-caf", None, False, "audio"),
    (None, "com.apple.coreaudio-format", False, "audio"),
    ("image/png", None, True, "sticker"),
    ("application/pdf", "com.adobe.pdf", False, "file"),
    (None, None, False, "file"),
])
def test_attachment_kinds(mime: str | None, uti: str | None, sticker: bool, kind: str) -> None:
    assert attachment_kind(mime, uti, sticker) == kind


def test_extensions_are_safe() -> None:
    assert extension("IMG_0001.HEIC", "image/heic") == "heic"
    assert extension("~/Library/SMS/Attachments/ab/12/X/Audio Message.caf", None) == "caf"
    assert extension("no-extension", "image/jpeg") == "jpg"
    assert extension("evil.../../../x", None) == "bin"
    assert extension("weird.ext with space", "application/pdf") == "pdf"
    assert extension(None, None) == "bin"
    sha = "ab" + "0" * 62
    assert blob_path(sha, "jpg") == f"attachments/ab/{sha}.jpg"


def test_index_summary_says_what_a_textless_message_is() -> None:
    from dataclasses import replace

    from coldtexts.archive.words import message_summary
    from coldtexts.messages.models import AppMessage, Attachment, LinkPreview
    from test_archive_factory import conversation, message

    base = replace(message("g1", conversation(0), 0, "hello"), text="")
    assert message_summary(replace(base, text="hello"), _name) == "hello"
    photo = Attachment("a1", "~/Library/SMS/Attachments/a/b/G/IMG_1.HEIC", "IMG_1.HEIC",
                       "image/heic", "public.heic", 10)
    assert message_summary(replace(base, attachments=(photo,)), _name) == "Photo"
    sticker = replace(photo, is_sticker=True)
    assert message_summary(replace(base, attachments=(sticker,)), _name) == "Sticker"
    pdf = replace(photo, mime_type="application/pdf", transfer_name="menu.pdf")
    assert message_summary(replace(base, attachments=(pdf,)), _name) == "Attachment: menu.pdf"
    app = AppMessage("com.apple.PassbookUIService", "apple_pay", "Sent $25 with Apple Cash.")
    assert message_summary(replace(base, app=app), _name) == "Sent $25 with Apple Cash."
    preview = LinkPreview("https://example.com/pie", title="Apple Pie")
    assert message_summary(replace(base, link_preview=preview), _name) == "Apple Pie"
    event = GroupEvent(EventKind.MEMBER_ADDED, actor="+15555550101", target="+15555550103")
    assert message_summary(replace(base, event=event), _name) == \
        event_text(event, _name)
    assert message_summary(base, _name) == ""
