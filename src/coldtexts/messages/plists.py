"""The plist blobs of sms.db: `message_summary_info` (edits, unsent parts) and the
NSKeyedArchiver walker that `payload_data` decoding (payloads.py) is built on (smsdb.md §5).
"""

from __future__ import annotations

import math
import plistlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from coldtexts.errors import UndecodableError
from coldtexts.messages.models import EditRevision
from coldtexts.messages.typedstream import NSURLValue, decode_attributed_body

APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class SummaryInfo:
    edits: tuple[EditRevision, ...]  # by part, each part's versions oldest first
    unsent_parts: tuple[int, ...]
    edited_parts: tuple[int, ...] = ()  # `ep`
    part_count: int = 0  # size of `otr` (0 when absent)
    undecodable_versions: int = 0  # edit versions whose body could not be read (text "")


def load_plist(blob: bytes, what: str) -> Any:
    """plistlib.loads, with every failure as UndecodableError."""
    if not isinstance(blob, bytes | bytearray) or not blob:
        raise UndecodableError(f"the {what} is empty or not bytes")
    try:
        return plistlib.loads(bytes(blob))
    except Exception as exc:  # plistlib raises many kinds on damaged input
        raise UndecodableError(f"the {what} is not a readable property list") from exc


def apple_date(seconds: object) -> datetime | None:
    """Seconds since 2001-01-01 UTC to an aware datetime; None when absent or absurd."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    if not math.isfinite(seconds) or abs(seconds) > 1e11:
        return None
    return APPLE_EPOCH + timedelta(seconds=seconds)


def parse_summary_info(blob: bytes) -> SummaryInfo:
    """Edits (`ec`) and unsent parts (`rp`) of a message_summary_info plist."""
    info = load_plist(blob, "message_summary_info")
    if not isinstance(info, dict):
        raise UndecodableError("the message_summary_info is not a dictionary")
    edits: list[EditRevision] = []
    undecodable = 0
    history = info.get("ec")
    if isinstance(history, dict):
        for key, versions in sorted(history.items(), key=lambda item: _part_key(item[0])):
            part = _as_index(key)
            if part is None or not isinstance(versions, list):
                continue
            for version in versions:
                revision = _revision(part, version)
                if revision is None:
                    continue
                if revision.text == "" and isinstance(version, dict) and version.get("t"):
                    undecodable += 1
                edits.append(revision)
    otr = info.get("otr")
    return SummaryInfo(
        edits=tuple(edits),
        unsent_parts=_indexes(info.get("rp")),
        edited_parts=_indexes(info.get("ep")),
        part_count=len(otr) if isinstance(otr, dict) else 0,
        undecodable_versions=undecodable,
    )


def _part_key(key: object) -> int:
    index = _as_index(key)
    return index if index is not None else 1 << 30


def _as_index(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 10:
        return int(value)
    return None


def _indexes(value: object) -> tuple[int, ...]:
    if not isinstance(value, list):
        return ()
    found = (_as_index(item) for item in value)
    return tuple(index for index in found if index is not None)


def _revision(part: int, version: object) -> EditRevision | None:
    if not isinstance(version, dict):
        return None
    date = apple_date(version.get("d"))
    if date is None:
        return None
    body = version.get("t")
    text = ""
    if isinstance(body, bytes) and body:
        try:
            text = decode_attributed_body(body).text
        except UndecodableError:
            text = ""  # counted by the caller; the date and order still tell the story
    return EditRevision(part=part, date=date, text=text)


# -- NSKeyedArchiver ----------------------------------------------------------------------
_IN_PROGRESS = object()


def unarchive_keyed(blob: bytes, what: str = "payload") -> Any:
    """The root object of an NSKeyedArchiver plist as plain values: dicts (NS.keys /
    NS.objects), lists (NS.objects), str (NS.string), NSURLValue (NS.relative / NS.base),
    bytes (NS.data); other archived objects become dicts of their keys without `$class`."""
    archive = load_plist(blob, what)
    if not isinstance(archive, dict):
        raise UndecodableError(f"the {what} is not a keyed archive")
    objects = archive.get("$objects")
    top = archive.get("$top")
    if not isinstance(objects, list) or not isinstance(top, dict) or not top:
        raise UndecodableError(f"the {what} is not a keyed archive ($objects/$top missing)")
    root = top.get("root", next(iter(top.values())))
    return _Unarchiver(objects).value(root, 0)


class _Unarchiver:
    def __init__(self, objects: list[Any]) -> None:
        self.objects = objects
        self.done: dict[int, Any] = {}  # shared objects are resolved once

    def value(self, item: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise UndecodableError("the payload nests too deeply to be a real archive")
        if isinstance(item, plistlib.UID):
            return self.resolve(item.data, depth)
        if isinstance(item, dict):
            return self.dictionary(item, depth)
        if isinstance(item, list):
            return [self.value(element, depth + 1) for element in item]
        return item

    def resolve(self, index: int, depth: int) -> Any:
        if index in self.done:
            found = self.done[index]
            return None if found is _IN_PROGRESS else found  # a cycle is cut
        if not 0 <= index < len(self.objects):
            raise UndecodableError("the payload refers to an object it does not contain")
        raw = self.objects[index]
        if raw == "$null":
            return None
        self.done[index] = _IN_PROGRESS
        result = self.value(raw, depth + 1)
        self.done[index] = result
        return result

    def dictionary(self, item: dict[str, Any], depth: int) -> Any:
        if "NS.keys" in item and "NS.objects" in item:
            keys = self.value(item["NS.keys"], depth + 1)
            values = self.value(item["NS.objects"], depth + 1)
            if not isinstance(keys, list) or not isinstance(values, list):
                raise UndecodableError("the payload has a dictionary without key lists")
            return {_hashable(key): value for key, value in zip(keys, values, strict=False)}
        if "NS.objects" in item:
            items = self.value(item["NS.objects"], depth + 1)
            return items if isinstance(items, list) else []
        if "NS.string" in item:
            text = self.value(item["NS.string"], depth + 1)
            return text if isinstance(text, str) else None
        if "NS.relative" in item:
            relative = self.value(item["NS.relative"], depth + 1)
            base = self.value(item.get("NS.base"), depth + 1)
            if not isinstance(relative, str):
                return None
            return NSURLValue(relative, base if isinstance(base, NSURLValue) else None)
        if "NS.data" in item:
            data = self.value(item["NS.data"], depth + 1)
            return bytes(data) if isinstance(data, bytes | bytearray) else None
        return {key: self.value(value, depth + 1)
                for key, value in item.items() if key != "$class"}


def _hashable(key: Any) -> Any:
    try:
        hash(key)
    except TypeError:
        return repr(key)
    return key


# payload_data decoding lives in payloads.py (it builds on the walker above); re-exported
# here so callers find every plist decoder in one place.
from coldtexts.messages.payloads import (  # noqa: E402
    PayloadInfo,
    PollOptions,
    parse_balloon_bundle_id,
    parse_payload,
    payload_poll_content,
    poll_content,
    poll_options,
    vote_app,
)

__all__ = [
    "PayloadInfo",
    "PollOptions",
    "SummaryInfo",
    "parse_balloon_bundle_id",
    "parse_payload",
    "parse_summary_info",
    "payload_poll_content",
    "poll_content",
    "poll_options",
    "unarchive_keyed",
    "vote_app",
]
