"""From a decoded attributedBody to the model's body parts (smsdb.md §2, §4.2).

A message body is a sequence of parts (bubbles): text, attachments (U+FFFC) and the app
balloon (U+FFFD). `__kIMMessagePartAttributeName` numbers them; tapbacks, replies and edits
refer to those numbers. Run lengths are UTF-16 code units and are converted to Python
string indices here (emoji outside the BMP take two units but one `str` character).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from coldtexts.messages.fastbuild import fast_builder
from coldtexts.messages.models import Part, PartKind, TextRun, new_part, new_text_run
from coldtexts.messages.typedstream import (
    AttributedString,
    AttributeRun,
    NSURLValue,
    utf16_length,
)

ATTACHMENT_CHAR = "\ufffc"
APP_CHAR = "\ufffd"

PART_KEY = "__kIMMessagePartAttributeName"
GUID_KEY = "__kIMFileTransferGUIDAttributeName"
TRANSCRIPTION_KEY = "IMAudioTranscription"
MENTION_KEY = "__kIMMentionConfirmedMention"
LINK_KEY = "__kIMLinkAttributeName"
EFFECT_KEY = "__kIMTextEffectAttributeName"
BOLD_KEY = "__kIMTextBoldAttributeName"
ITALIC_KEY = "__kIMTextItalicAttributeName"
UNDERLINE_KEY = "__kIMTextUnderlineAttributeName"
STRIKETHROUGH_KEY = "__kIMTextStrikethroughAttributeName"

_PLACEHOLDERS = re.compile("([\ufffc\ufffd])")

_STYLE_KEYS = frozenset({MENTION_KEY, LINK_KEY, EFFECT_KEY, BOLD_KEY, ITALIC_KEY, UNDERLINE_KEY,
                         STRIKETHROUGH_KEY})

#: iOS 18 text animations (smsdb.md §3.6).
TEXT_EFFECTS: dict[int, str] = {
    4: "Ripple", 5: "Big", 6: "Bloom", 8: "Nod", 9: "Shake", 10: "Jitter", 11: "Small",
    12: "Explode",
}


@dataclass(frozen=True, slots=True)
class BodyInfo:
    parts: tuple[Part, ...]
    text: str  # the text parts joined by newlines, without placeholders
    transcriptions: dict[str, str] = field(default_factory=dict)  # attachment guid -> text
    mentions: tuple[str, ...] = ()
    unplaced_attachments: tuple[str, ...] = ()  # attachment guids no placeholder claimed


new_body_info = fast_builder(BodyInfo)


def effect_name(value: object) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value == int(value):
        return TEXT_EFFECTS.get(int(value), f"Effect {int(value)}")
    return None


def _utf16_slices(text: str, lengths: Sequence[int]) -> Iterator[str]:
    """Cut `text` into consecutive pieces of the given UTF-16 lengths."""
    if len(lengths) == 1:
        yield text
        return
    if utf16_length(text) == len(text):  # no characters outside the BMP
        start = 0
        for length in lengths:
            yield text[start : start + length]
            start += length
        return
    units = text.encode("utf-16-le", "surrogatepass")
    if not _splits_a_pair(units, lengths):  # cut the UTF-16 itself, in C
        start = 0
        for length in lengths:
            end = start + 2 * length
            yield units[start:end].decode("utf-16-le", "surrogatepass")
            start = end
        return
    position = 0
    owed = 0  # units already consumed by a pair split across a run boundary
    for length in lengths:
        units_seen = owed
        start = position
        while units_seen < length and position < len(text):
            units_seen += 2 if ord(text[position]) > 0xFFFF else 1
            position += 1
        owed = units_seen - length if units_seen > length else 0
        yield text[start:position]


def _splits_a_pair(units: bytes, lengths: Sequence[int]) -> bool:
    """Whether a run boundary falls inside a surrogate pair (then the character goes
    whole to the earlier run, which slicing the UTF-16 would not do)."""
    end = 0
    for length in lengths:
        end += 2 * length
        if end + 1 < len(units) and 0xDC <= units[end + 1] <= 0xDF:  # a low surrogate
            return True
    return False


class _PartBuilder:
    def __init__(self, attachment_guids: Sequence[str]) -> None:
        self.parts: list[Part] = []
        self.pending_runs: list[TextRun] = []
        self.pending_index: int | None = None
        self.available = list(attachment_guids)
        self.transcriptions: dict[str, str] = {}
        self.mentions: list[str] = []

    def flush(self) -> None:
        if self.pending_runs and self.pending_index is not None:
            self.parts.append(new_part(self.pending_index, PartKind.TEXT,
                                       tuple(self.pending_runs)))
        self.pending_runs = []
        self.pending_index = None

    def claim_guid(self, guid: object) -> str | None:
        if isinstance(guid, str) and guid:
            if guid in self.available:
                self.available.remove(guid)
            return guid
        return self.available.pop(0) if self.available else None

    def add_attachment(self, index: int, attributes: Mapping[str, object]) -> None:
        self.flush()
        guid = self.claim_guid(attributes.get(GUID_KEY))
        transcript = attributes.get(TRANSCRIPTION_KEY)
        if guid is not None and isinstance(transcript, str) and transcript:
            self.transcriptions[guid] = transcript
        self.parts.append(Part(index, PartKind.ATTACHMENT, attachment_guid=guid))

    def add_app(self, index: int) -> None:
        self.flush()
        self.parts.append(Part(index, PartKind.APP))

    def add_text(self, index: int, text: str, attributes: Mapping[str, object]) -> None:
        if self.pending_index is not None and self.pending_index != index:
            self.flush()
        self.pending_index = index
        self.pending_runs.append(_text_run(text, attributes, self.mentions))

    def add_piece(self, index: int, text: str, attributes: Mapping[str, object]) -> None:
        """A run's text, split at placeholders (a run normally holds one or none)."""
        if ATTACHMENT_CHAR not in text and APP_CHAR not in text:
            self.add_text(index, text, attributes)
            return
        for piece in _PLACEHOLDERS.split(text):
            if piece == ATTACHMENT_CHAR:
                self.add_attachment(index, attributes)
            elif piece == APP_CHAR:
                self.add_app(index)
            elif piece:
                self.add_text(index, piece, attributes)

    def result(self) -> BodyInfo:
        self.flush()
        plain = "\n".join(part.text for part in self.parts if part.kind is PartKind.TEXT)
        return new_body_info(tuple(self.parts), plain, self.transcriptions, tuple(self.mentions),
                             tuple(self.available))


def _text_run(text: str, attributes: Mapping[str, object], mentions: list[str]) -> TextRun:
    """One run of text with its styles; a confirmed mention is added to `mentions`."""
    if _STYLE_KEYS.isdisjoint(attributes):  # the usual run: plain text
        return new_text_run(text)
    mention = attributes.get(MENTION_KEY)
    if isinstance(mention, str) and mention:
        if mention not in mentions:
            mentions.append(mention)
    else:
        mention = None
    return new_text_run(
        text,
        bool(_flag(attributes.get(BOLD_KEY))),
        bool(_flag(attributes.get(ITALIC_KEY))),
        bool(_flag(attributes.get(UNDERLINE_KEY))),
        bool(_flag(attributes.get(STRIKETHROUGH_KEY))),
        effect_name(attributes.get(EFFECT_KEY)),
        _link(attributes.get(LINK_KEY)),
        mention,
    )


def _flag(value: object) -> bool:
    return value is not None and value is not False and value != 0


def _link(value: object) -> str | None:
    if isinstance(value, NSURLValue):
        return value.absolute
    if isinstance(value, str) and value:
        return value
    return None


def body_parts(body: AttributedString, attachment_guids: Sequence[str]) -> BodyInfo:
    """The parts of a decoded attributedBody; attachments without a GUID attribute take the
    next unused entry of `attachment_guids` (the message's attachments in order)."""
    if len(body.runs) == 1:  # most messages: one plain run of text
        simple = _single_text_part(body.text, body.runs[0].attributes, attachment_guids)
        if simple is not None:
            return simple
    pieces = _utf16_slices(body.text, [run.length for run in body.runs])
    if ATTACHMENT_CHAR not in body.text and APP_CHAR not in body.text:
        return _text_only_parts(body.runs, pieces, attachment_guids)
    builder = _PartBuilder(attachment_guids)
    index = 0
    for run, piece in zip(body.runs, pieces, strict=True):
        part = run.attributes.get(PART_KEY)
        if isinstance(part, int) and not isinstance(part, bool) and part >= 0:
            index = part
        builder.add_piece(index, piece, run.attributes)
    return builder.result()


def _text_only_parts(runs: Sequence[AttributeRun], pieces: Iterator[str],
                     attachment_guids: Sequence[str]) -> BodyInfo:
    """What _PartBuilder makes of runs without placeholders (formatted text, links, data
    detectors), without its per-piece dispatch: consecutive runs of one part index make
    one text part."""
    parts: list[Part] = []
    texts: list[str] = []  # each part's text, for the plain text
    mentions: list[str] = []
    pending: list[TextRun] = []
    pending_index = index = 0
    for run, piece in zip(runs, pieces, strict=True):
        attributes = run.attributes
        part = attributes.get(PART_KEY)
        if isinstance(part, int) and not isinstance(part, bool) and part >= 0:
            index = part
        if pending and pending_index != index:
            parts.append(new_part(pending_index, PartKind.TEXT, tuple(pending)))
            texts.append("".join(r.text for r in pending))
            pending = []
        pending_index = index
        pending.append(_text_run(piece, attributes, mentions))
    if pending:
        parts.append(new_part(pending_index, PartKind.TEXT, tuple(pending)))
        texts.append("".join(r.text for r in pending))
    return new_body_info(tuple(parts), texts[0] if len(texts) == 1 else "\n".join(texts), {},
                         tuple(mentions), tuple(attachment_guids))


def _single_text_part(text: str, attributes: Mapping[str, object],
                      attachment_guids: Sequence[str]) -> BodyInfo | None:
    """The BodyInfo of a one-run body without styles or placeholders, built directly."""
    if not text or not _STYLE_KEYS.isdisjoint(attributes):
        return None
    if ATTACHMENT_CHAR in text or APP_CHAR in text:
        return None
    part = attributes.get(PART_KEY, 0)
    index = part if isinstance(part, int) and not isinstance(part, bool) and part >= 0 else 0
    return new_body_info((new_part(index, PartKind.TEXT, (new_text_run(text),)),), text, {}, (),
                         tuple(attachment_guids))


def plain_text_parts(text: str, attachment_guids: Sequence[str]) -> BodyInfo:
    """Parts of a row with `text` but no attributedBody: split at the placeholders."""
    builder = _PartBuilder(attachment_guids)
    index = 0
    for piece in _PLACEHOLDERS.split(text):
        if piece == ATTACHMENT_CHAR:
            builder.add_attachment(index, {})
        elif piece == APP_CHAR:
            builder.add_app(index)
        elif piece:
            builder.add_text(index, piece, {})
            builder.flush()
        else:
            continue
        index += 1
    return builder.result()
