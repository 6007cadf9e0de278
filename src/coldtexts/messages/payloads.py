"""`message.payload_data`: link previews and app balloons described in words (smsdb.md §3.4,
§5.1). Offline only: nothing here touches the network."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote_to_bytes, urlsplit

from coldtexts.errors import UndecodableError
from coldtexts.messages.models import AppMessage, LinkPreview
from coldtexts.messages.plists import apple_date, unarchive_keyed
from coldtexts.messages.typedstream import NSURLValue

URL_PROVIDER = "com.apple.messages.URLBalloonProvider"
HANDWRITING = "com.apple.Handwriting.HandwritingProvider"
DIGITAL_TOUCH = "com.apple.DigitalTouchBalloonProvider"
FITNESS_RECEIVER = "$(kIMTranscriptPluginBreadcrumbTextReceiverIdentifier)"
POLLS = "com.apple.messages.Polls"

#: parsed bundle id -> (kind, words used when the payload says nothing better)
APP_KINDS: dict[str, tuple[str, str]] = {
    "com.apple.PassbookUIService.PeerPaymentMessagesExtension": ("apple_pay", "Apple Pay"),
    "com.apple.SafetyMonitorApp.SafetyMonitorMessages": ("check_in", "Check In"),
    "com.apple.findmy.FindMyMessagesApp": ("find_my", "Find My location"),
    "com.apple.mobileslideshow.PhotosMessagesApp": ("slideshow", "Photos"),
    "com.apple.ActivityMessagesApp.MessagesExtension": ("fitness", "Fitness"),
    "com.apple.messages.Polls": ("poll", "Poll"),
}

#: Digital Touch kinds (field 1 of the protobuf BaseMessage).
TOUCH_KINDS: dict[int, str] = {1: "tap", 3: "heartbeat", 4: "sketch", 7: "kiss", 8: "fireball"}

CHECK_IN_TYPES: dict[str, str] = {"1": "timer started"}


@dataclass(frozen=True, slots=True)
class PayloadInfo:
    link_preview: LinkPreview | None
    app: AppMessage | None


def parse_balloon_bundle_id(raw: str) -> str:
    """`com.apple.messages.MSMessageExtensionBalloonPlugin:TEAMID:com.example.app` ->
    `com.example.app`; other ids unchanged."""
    parts = raw.split(":")
    if len(parts) >= 3 and parts[0].endswith("MSMessageExtensionBalloonPlugin"):
        return ":".join(parts[2:])
    return raw


def parse_payload(bundle_id: str | None, blob: bytes, *, text: str = "") -> PayloadInfo:
    """What a balloon shows. Raises UndecodableError when the payload cannot be read."""
    bundle = parse_balloon_bundle_id(bundle_id) if bundle_id else ""
    if bundle == HANDWRITING:
        return PayloadInfo(None, AppMessage(bundle, "handwriting", "Handwritten message",
                                            raw_payload=bytes(blob) if blob else None))
    if bundle == DIGITAL_TOUCH:
        return PayloadInfo(None, _digital_touch(bundle, blob))
    root = unarchive_keyed(blob, "payload_data")
    if not isinstance(root, dict):
        raise UndecodableError("the payload_data does not hold a dictionary")
    metadata = root.get("richLinkMetadata", root.get("metadata"))
    if isinstance(metadata, dict) and (bundle in ("", URL_PROVIDER) or "an" not in root):
        preview = _link_preview(metadata)
        return PayloadInfo(preview, _url_override(bundle or URL_PROVIDER, metadata, preview))
    return PayloadInfo(None, _template_app(bundle or "unknown", root, text, bytes(blob)))


# -- link previews --------------------------------------------------------------------
def _url_string(value: object) -> str | None:
    if isinstance(value, NSURLValue):
        return value.absolute or None
    if isinstance(value, dict):
        return _url_string(value.get("URL"))
    if isinstance(value, str) and value:
        return value
    return None


def _text(value: object) -> str | None:
    """A shown string, with Apple's no-break spaces ("Check\xa0In") made plain."""
    if not isinstance(value, str):
        return None
    return value.replace("\xa0", " ").strip() or None


def _link_preview(metadata: dict[str, Any]) -> LinkPreview:
    return LinkPreview(
        url=_url_string(metadata.get("URL")) or _url_string(metadata.get("originalURL")),
        original_url=_url_string(metadata.get("originalURL")),
        title=_text(metadata.get("title")),
        summary=_text(metadata.get("summary")),
        site_name=_text(metadata.get("siteName")),
        item_type=_text(metadata.get("itemType")),
    )


def _split(url: str) -> SplitResult:
    """urlsplit that never raises: a hostile payload may hold "http://[::1" (ValueError)."""
    try:
        return urlsplit(url)
    except ValueError:
        return urlsplit("")


def _host(url: str) -> str:
    try:
        return (_split(url).hostname or "").lower()
    except ValueError:
        return ""


def _url_override(bundle: str, metadata: dict[str, Any],
                  preview: LinkPreview) -> AppMessage | None:
    """Link previews that are really something else: music, App Store, Freeform, places."""
    url = preview.url or preview.original_url or ""
    host = _host(url)
    title = preview.title
    if isinstance(metadata.get("collaborationMetadata"), dict):
        app_name = _app_from_url(url) or "a shared document"
        words = f"Collaboration invitation: {title}" if title else f"Shared {app_name}"
        return AppMessage(bundle, "collaboration", words, app_name=_app_from_url(url), url=url)
    if host.endswith("music.apple.com"):
        return AppMessage(bundle, "music", f"Apple Music: {title or url}", app_name="Music",
                          url=url)
    if host.endswith(("apps.apple.com", "itunes.apple.com")) and "/app/" in url:
        return AppMessage(bundle, "app_store", f"App Store: {title or url}",
                          app_name="App Store", url=url)
    if host.endswith("maps.apple.com"):
        return AppMessage(bundle, "placemark", f"Location: {title or url}", app_name="Maps",
                          url=url)
    return None


def _app_from_url(url: str) -> str | None:
    path = _split(url).path.strip("/").split("/")
    if _host(url) == "www.icloud.com" and path and path[0]:
        return path[0].capitalize()  # /freeform/..., /notes/..., /pages/...
    return None


# -- MSMessageTemplateLayout apps ------------------------------------------------------
_CAPTION_KEYS = ("caption", "subcaption", "secondary-subcaption", "tertiary-subcaption",
                 "image-title", "image-subtitle")


def _template_app(bundle: str, root: dict[str, Any], text: str, blob: bytes) -> AppMessage:
    kind, default_words = APP_KINDS.get(bundle, ("app", ""))
    app_name = _text(root.get("an"))
    user_info = root.get("userInfo")
    captions: list[tuple[str, str]] = []
    if isinstance(user_info, dict):
        for key in _CAPTION_KEYS:
            value = _text(user_info.get(key))
            if value:
                captions.append((key, value))
    raw_url = _url_string(root.get("URL"))
    fields = list(captions)
    url = None
    if raw_url:
        parts = _split(raw_url)
        if parts.scheme in ("http", "https"):
            url = raw_url
        fields.extend(_query_fields(kind, parts.query))
    words = (_text(root.get("ldtext")) or " - ".join(value for _, value in captions[:2])
             or _placeholder_free(text) or default_words or f"{app_name or bundle} message")
    if kind == "check_in":
        words = words if words.lower().startswith("check") else f"Check In: {words}"
    if kind == "poll" and raw_url:
        poll = _poll_app(bundle, app_name, raw_url, blob)
        if poll is not None:
            return poll
    return AppMessage(bundle, kind, words, app_name=app_name, url=url,
                      fields=tuple(fields))


def _placeholder_free(text: str) -> str | None:
    cleaned = text.replace("\ufffc", "").replace("\ufffd", "").strip()
    if not cleaned or cleaned == FITNESS_RECEIVER:
        return None
    return cleaned


def _query_fields(kind: str, query: str) -> list[tuple[str, str]]:
    if kind != "check_in" or not query:
        return []
    fields: list[tuple[str, str]] = []
    for key, value in parse_qsl(query):
        if key == "messageType":
            fields.append(("messageType", CHECK_IN_TYPES.get(value, value)))
        elif key == "sendDate":
            try:
                sent = apple_date(float(value) - 978307200.0)  # sendDate is Unix seconds
            except ValueError:
                sent = None
            fields.append(("sendDate", sent.isoformat() if sent else value))
    return fields


# -- polls (iOS 26) ---------------------------------------------------------------------
# smsdb.md does not describe the poll payload beyond "NSKeyedArchiver". Public third-party
# code reads its `URL` as a `data:` URL holding JSON: a poll's title and
# `orderedPollOptions` (each an `optionIdentifier` and its text), or a vote row's `votes`
# (`voteOptionIdentifier`, `participantHandle`, `eventType`), at the top level or under
# `item`. Only what is found is described, and the raw payload is always kept.
PollOptions = dict[str, str]  # optionIdentifier -> text


def poll_content(url: str) -> dict[str, Any] | None:
    """The JSON object a poll payload's `data:` URL holds (under `item` when wrapped)."""
    if not url.startswith("data:") or "," not in url:
        return None
    header, _, data = url[5:].partition(",")
    # The whole data first; then without a "?query", which third-party writers append.
    for text in dict.fromkeys((data, data.split("?", 1)[0])):
        raw = unquote_to_bytes(text)
        for candidate in ((_base64(raw),) if header.endswith(";base64") else
                          (raw, _base64(raw))):
            found = _json_object(candidate)
            if found is not None:
                item = found.get("item")
                return item if isinstance(item, dict) else found
    return None


def _json_object(data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        found = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):  # a hostile payload nests deep
        return None
    return found if isinstance(found, dict) else None


def _base64(data: bytes) -> bytes | None:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def poll_options(content: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(optionIdentifier, text) of each option of a poll definition, in order."""
    options = content.get("orderedPollOptions")
    found: list[tuple[str | None, str]] = []
    if not isinstance(options, list):
        return found
    for option in options:
        if not isinstance(option, dict):
            continue
        text = _text(option.get("text")) or _text(option.get("pollOptionText"))
        if text is not None:
            ident = option.get("optionIdentifier")
            found.append((ident if isinstance(ident, str) else None, text))
    return found


def _poll_app(bundle: str, app_name: str | None, url: str, blob: bytes) -> AppMessage | None:
    content = poll_content(url)
    if content is None:
        return None
    title = _text(content.get("title")) or _text(content.get("question"))
    options = poll_options(content)
    if title is None and not options:
        return None  # a vote or something else: described generically
    fields: list[tuple[str, str]] = []
    if title:
        fields.append(("Question", title))
    fields.extend((f"Option {number}", text) for number, (_, text) in enumerate(options, 1))
    creator = _text(content.get("creatorHandle"))
    if creator:
        fields.append(("Created by", creator))
    words = f"Poll: {title}" if title else "Poll"
    if options:
        words += " (" + ", ".join(text for _, text in options) + ")"
    return AppMessage(bundle, "poll", words, app_name=app_name, fields=tuple(fields),
                      raw_payload=blob)


def payload_poll_content(blob: bytes) -> dict[str, Any] | None:
    """The poll JSON of a poll or vote row's payload_data, None when it has none.
    Raises UndecodableError when the payload is not a keyed archive."""
    root = unarchive_keyed(blob, "payload_data")
    url = _url_string(root.get("URL")) if isinstance(root, dict) else None
    return poll_content(url) if url else None


def vote_app(blob: bytes, options: PollOptions) -> AppMessage | None:
    """A vote row (associated_message_type 4000) in words, its option identifiers named
    from the poll's `options` when known; None when the payload holds no votes."""
    content = payload_poll_content(blob)
    votes = poll_votes(content) if content is not None else []
    if not votes:
        return None
    said: list[str] = []
    fields: list[tuple[str, str]] = []
    for option, voter, event in votes:
        choice = options.get(option, f"option {option}") if option else "an option"
        verb = "voted for" if event in (None, "selected") else f"{event}:"
        said.append(f"{verb} \u201c{choice}\u201d" if option in options else f"{verb} {choice}")
        fields.append(("Vote", choice if event in (None, "selected") else f"{choice} ({event})"))
        if voter:
            fields.append(("Voter", voter))
    words = "; ".join(said)
    return AppMessage(POLLS, "poll_vote", words[:1].upper() + words[1:], fields=tuple(fields),
                      raw_payload=bytes(blob))


def poll_votes(content: dict[str, Any]) -> list[tuple[str | None, str | None, str | None]]:
    """(voteOptionIdentifier, participantHandle, eventType) of each vote in a vote row."""
    votes = content.get("votes")
    found: list[tuple[str | None, str | None, str | None]] = []
    if not isinstance(votes, list):
        return found
    for vote in votes:
        if isinstance(vote, dict):
            found.append(tuple(  # type: ignore[arg-type]
                value if isinstance(value, str) and value else None
                for value in (vote.get("voteOptionIdentifier"), vote.get("participantHandle"),
                              vote.get("eventType"))))
    return found


# -- protobuf balloons ---------------------------------------------------------------
def _digital_touch(bundle: str, blob: bytes) -> AppMessage:
    kind = _touch_kind(blob)
    words = f"Digital Touch message ({kind})" if kind else "Digital Touch message"
    return AppMessage(bundle, "digital_touch", words, raw_payload=bytes(blob) if blob else None)


def _touch_kind(blob: bytes) -> str | None:
    """Field 1 (varint) of the BaseMessage protobuf, when the payload starts with it."""
    if not blob or len(blob) < 2 or blob[0] != 0x08:
        return None
    value = blob[1]
    if value & 0x80:
        return None
    return TOUCH_KINDS.get(value)
