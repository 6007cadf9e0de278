"""Which former texts to keep when two backups hold different versions of one message.

The archive keeps every text a message ever had: when a later version differs from an
earlier one (an edit, an unsend, a change between backups), the earlier text is kept as
a revision unless the device's own edit history already holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from coldtexts.messages.models import Message

from .store import to_us

UNSENT = "unsent"
EDITED = "edited"
CHANGED = "changed between backups"


@dataclass(frozen=True, slots=True)
class RevisionRow:
    part: int | None
    date: int | None
    text: str
    origin: str


def revisions_between(earlier: Message, later: Message) -> list[RevisionRow]:
    """Texts of `earlier` that `later` (the current version) no longer shows."""
    known = {later.text} | {edit.text for edit in later.edits}
    rows: list[RevisionRow] = []
    for edit in earlier.edits:  # device edit history the later backup no longer carries
        if edit.text and edit.text not in known:
            rows.append(RevisionRow(edit.part, to_us(edit.date), edit.text, EDITED))
            known.add(edit.text)
    if earlier.text and earlier.text not in known:
        rows.append(_text_revision(earlier, later))
    return rows


def _text_revision(earlier: Message, later: Message) -> RevisionRow:
    newly_unsent = sorted(set(later.unsent_parts) - set(earlier.unsent_parts))
    retracted = later.date_retracted is not None and earlier.date_retracted is None
    if newly_unsent or retracted:
        when = later.date_retracted
        part = newly_unsent[0] if newly_unsent else None
        return RevisionRow(part, to_us(when) if when else None, earlier.text, UNSENT)
    edited = later.date_edited
    return RevisionRow(None, to_us(edited) if edited else None, earlier.text, CHANGED)
