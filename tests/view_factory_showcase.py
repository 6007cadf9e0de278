"""The showcase conversation's messages: one of every kind the exporters draw.

Split from view_factory.py to keep both short; import through view_factory.
"""

from __future__ import annotations

from dataclasses import replace

from coldtexts.messages.models import (
    AppMessage,
    DeletedPart,
    EditRevision,
    EventKind,
    GroupEvent,
    LinkPreview,
    MessageKind,
    Part,
    PartKind,
    ReactionKind,
    ReplyRef,
    Service,
    TextRun,
)
from coldtexts.view import MessageView, ReactionView, ReplyView, RevisionView
from view_factory import (
    XSS_IMG,
    XSS_SCRIPT,
    at,
    attachment,
    attachment_message,
    attachment_view,
    guid,
    message,
    missing_view,
    text_parts,
    view,
)

MOM, DAD, LI, AMIRA = "+15551230001", "dad@example.com", "+8613800138000", "+971501234567"
CLOUD_ONLY = "the phone had not downloaded this attachment (it may be in iCloud only)"


def _event(label: str, month: int, day: int, sender: str | None, event: GroupEvent,
           text: str) -> MessageView:
    msg = message(label, at(2024, month, day, 15), sender, kind=MessageKind.EVENT, event=event)
    return view(msg, event_text=text)


def _basics() -> list[MessageView]:
    hello = message("hello", at(2024, 1, 5, 14, 2), MOM, "Good morning sweetheart! ☀️")
    rich = message("rich", at(2024, 1, 5, 14, 3), DAD, "Call me at 555-0100 or see "
                   "https://example.com/plan @Mom", parts=(Part(0, PartKind.TEXT, (
                       TextRun("Call me", bold=True), TextRun(" at "),
                       TextRun("555-0100", link="tel:5550100"), TextRun(" or see "),
                       TextRun("https://example.com/plan", link="https://example.com/plan"),
                       TextRun(" "), TextRun("@Mom", mention=MOM),
                       TextRun(" now", italic=True, effect="Shake"))),))
    mine = message("mine", at(2024, 1, 5, 14, 10), None, "On my way!\nTwo lines, too.",
                   effect="Slam", date_read=at(2024, 1, 5, 14, 11))
    sms_in = message("sms-in", at(2024, 1, 5, 16), MOM, "Sent as a text message",
                     service=Service.SMS)
    sms_out = message("sms-out", at(2024, 1, 5, 16, 1), None, "Green bubble reply",
                      service=Service.SMS)
    rcs = message("rcs", at(2024, 1, 5, 16, 2), DAD, "RCS chat message", service=Service.RCS)
    sat = message("sat", at(2024, 1, 6, 3), DAD, "Hiking, no signal — via satellite",
                  service=Service.SATELLITE)
    loved = [ReactionView(ReactionKind.LOVE, "❤️", "Dad", False, 0),
             ReactionView(ReactionKind.LAUGH, "😂", "Me", True, 0),
             ReactionView(ReactionKind.EMOJI, "🎉", "李伟", False, 0)]
    return [view(hello, reactions=tuple(loved)), view(rich), view(mine), view(sms_in),
            view(sms_out), view(rcs), view(sat)]


def _escaping() -> list[MessageView]:
    xss = message("xss", at(2024, 1, 6, 14), "+15559990000", f"{XSS_SCRIPT} and {XSS_IMG}",
                  subject="<b>subject</b>")
    return [MessageView(xss, sender_name="<i>+1 (555) 999-0000</i>")]


def _scripts() -> list[MessageView]:
    return [view(message("emoji", at(2024, 1, 7, 14), MOM, "😀🎂🐶👍🏽")),
            view(message("cjk", at(2024, 1, 7, 14, 5), LI, "你好，明天见！日本語もOK")),
            view(message("arabic", at(2024, 1, 7, 14, 6), AMIRA, "مرحبا، كيف حالك اليوم؟"))]


def _attachments() -> list[MessageView]:
    multi = attachment_message("photos", at(2024, 1, 20, 18), MOM, (
        attachment_view("photo-heic"), attachment_view("photo-jpeg")), "From the beach 🏖️",
        reactions=(ReactionView(ReactionKind.LIKE, "👍", "Me", True, 1),
                   ReactionView(ReactionKind.LOVE, "❤️", "Dad", False, 2)))
    png = attachment_message("png", at(2024, 1, 20, 18, 5), None, (attachment_view("photo-png"),))
    video = attachment_message("video", at(2024, 1, 20, 18, 6), DAD, (attachment_view("video"),))
    voice_view = attachment_view("voice", transcription="Hi, it's Mom, call me back")
    voice = attachment_message("voice", at(2024, 1, 20, 18, 7), MOM, (voice_view,))
    voice = replace(voice, message=replace(voice.message, is_audio_message=True))
    song = attachment_message("song", at(2024, 1, 20, 18, 8), DAD, (attachment_view("song"),))
    pdf = attachment_message("pdf", at(2024, 1, 20, 18, 9), None, (attachment_view("pdf"),),
                             "Here is the boarding pass")
    gone = attachment_message("missing", at(2024, 1, 20, 18, 10), MOM, (
        missing_view("photo-heic", CLOUD_ONLY),), "Did this one arrive?")
    sticker = attachment_message("sticker", at(2024, 1, 20, 18, 11), LI, (attachment_view(
        "sticker", sticker_source="Genmoji", description="a cat wearing sunglasses"),))
    expired = message("expired", at(2024, 1, 20, 18, 12), MOM, "", is_audio_message=True,
                      audio_expired=True)
    return [multi, png, video, voice, song, pdf, gone, sticker, view(expired)]


def _threads() -> list[MessageView]:
    question = message("question", at(2024, 2, 2, 20), DAD, "Who is bringing dessert?")
    answer = message("answer", at(2024, 2, 2, 20, 5), None, "I will bring pie 🥧",
                     reply_to=ReplyRef(question.guid, 0))
    lost = message("lost-reply", at(2024, 2, 2, 20, 6), MOM, "Replying to something old",
                   reply_to=ReplyRef(guid("not-archived"), 0))
    edited = message(
        "edited", at(2024, 2, 3, 13), None, "Dinner at 7 tonight",
        date_edited=at(2024, 2, 3, 13, 2),
        edits=(EditRevision(0, at(2024, 2, 3, 13), "Dinner at 6 tonight"),
               EditRevision(0, at(2024, 2, 3, 13, 2), "Dinner at 7 tonight")))
    unsent = message(
        "unsent", at(2024, 2, 3, 14), DAD, "Keep this part", unsent_parts=(1,),
        date_retracted=at(2024, 2, 3, 14, 1),
        parts=(Part(0, PartKind.TEXT, (TextRun("Keep this part"),)),
               Part(1, PartKind.RETRACTED)))
    changed = message("changed", at(2024, 2, 4, 9), MOM, "Text as it reads now")
    sticker_tb = ReactionView(ReactionKind.STICKER, "sticker", "李伟", False, 0,
                              attachment_view("tapback-sticker"))
    return [
        view(question),
        view(answer, reply_to=ReplyView(question.guid, 0, "Dad", question.text,
                                        f"2024.html#m-{question.guid}"),
             reactions=(sticker_tb,)),
        view(lost, reply_to=ReplyView(guid("not-archived"), 0, "", "", None)),
        view(edited, revisions=(RevisionView(0, at(2024, 2, 3, 13), "Dinner at 6 tonight",
                                             "edited"),)),
        view(unsent, revisions=(RevisionView(1, at(2024, 2, 3, 14, 1), "oops wrong chat",
                                             "unsent"),)),
        view(changed, revisions=(RevisionView(None, None, "Text as it read before",
                                              "changed between backups"),)),
    ]


def _apps_and_flags() -> list[MessageView]:
    url = "https://news.example.org/story?id=1&x=<2>"
    link = message("link", at(2024, 3, 1, 17), DAD, url, kind=MessageKind.APP,
                   link_preview=LinkPreview(
                       url=url, title="A <very> good story", summary="What happened & why",
                       site_name="Example News", item_type="article",
                       image_attachment_guid=attachment("preview-image").guid),
                   attachments=(attachment("preview-image"),))
    pay = message("pay", at(2024, 3, 1, 17, 5), None, kind=MessageKind.APP,
                  app=AppMessage("com.apple.messages.MSMessageExtensionBalloonPlugin:0000000000:"
                                 "com.apple.PassbookUIService.PeerPaymentMessagesExtension",
                                 "apple_pay", "Sent $25 with Apple Pay.", app_name="Apple Pay",
                                 fields=(("Amount", "$25.00"),)))
    deleted = message("deleted", at(2024, 3, 2, 12), MOM, "In Recently Deleted",
                      deleted_on_device=True)
    gone = message("gone", at(2024, 3, 2, 12, 1), None, "No longer on the phone")
    failed = message("failed", at(2024, 3, 2, 12, 2), None, "This did not send", failed=True)
    kept_part = message("kept-part", at(2024, 3, 2, 12, 3), MOM, "Still on the phone",
                        deleted_parts=(DeletedPart(1, "iMessage;-;+15551230001",
                                                   at(2024, 3, 2, 18),
                                                   "Deleted <b>part</b> kept"),))
    confetti = message("confetti", at(2024, 3, 3, 0, 30), AMIRA, "Happy birthday!",
                       effect="Confetti")
    return [
        view(link, attachments=(attachment_view("preview-image"),)),
        view(pay), view(deleted),
        view(gone, no_longer_on_device=at(2024, 6, 1, 9)),
        view(failed), view(kept_part), view(confetti),
    ]


def _events() -> list[MessageView]:
    return [
        _event("renamed", 1, 4, DAD, GroupEvent(EventKind.RENAMED, DAD, title="Family"),
               "Dad named the conversation “Family”"),
        _event("added", 1, 4, None, GroupEvent(EventKind.MEMBER_ADDED, None, True, target=LI),
               "You added 李伟"),
    ]


def showcase_messages_2024() -> tuple[MessageView, ...]:
    views = (_events() + _basics() + _escaping() + _scripts() + _attachments() + _threads()
             + _apps_and_flags())
    return tuple(sorted(views, key=lambda v: (v.message.date, v.message.guid)))


def showcase_messages_2025() -> tuple[MessageView, ...]:
    return (view(message("new-year", at(2025, 1, 1, 5), MOM, "Happy New Year! 🎆")),
            view(message("new-year-reply", at(2025, 1, 1, 5, 3), None, "You too ❤️",
                         service=Service.SMS)),
            view(message("left", at(2025, 1, 2, 15), AMIRA, kind=MessageKind.EVENT,
                         event=GroupEvent(EventKind.MEMBER_LEFT, AMIRA)),
                 event_text="أميرة left the conversation"))


__all__ = ["showcase_messages_2024", "showcase_messages_2025", "text_parts"]
