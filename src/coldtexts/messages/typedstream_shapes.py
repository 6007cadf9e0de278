"""The run cache's templates: bodies of a shape seen before, read without the decoder.

Two messages of the same shape (a bold first word, a photo, text then a photo) have the
same bytes after their text except in a few places: each run's length, and each
attachment's transfer GUID. Decoding the typedstream a second time would give the same
runs with only those values changed, because neither kind of value enters the decoder's
tables: a length is a plain integer, and a GUID is a short unshared string read on the
decoder's fast path. So the first decode cuts its bytes at those places (the decoder
records where they lie, _State.run_lengths and short_strings), and a later body whose bytes
match every piece around the cuts is read by filling in its own values. Anything else,
or a body whose values do not add up, is left to the decoder (tests compare both).

Costs, measured on the reader benchmark's bodies: a bold first word 26 µs to decode,
about 6 µs from its template; a photo's body 75 µs to decode, about 12 µs from its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from coldtexts.messages.typedstream_model import (
    AttributedString,
    AttributeRun,
    new_attribute_run,
)
from coldtexts.messages.typedstream_wire import _END, _FIRST_REF, _INT16, _INT32, _State

TRANSFER_KEY = "__kIMFileTransferGUIDAttributeName"
_LENGTH = -1  # a slot holding a run length; a slot k >= 0 holds run k's transfer GUID
_MAX_SHAPES_PER_KEY = 8

# (bytes before the text, bytes from the text's end to the first run length) -> shapes
SHAPES: dict[tuple[bytes, bytes], list[Shape]] = {}


@dataclass(frozen=True, slots=True)
class Shape:
    """The bytes after a body's first run length, cut into `literals` around `slots`
    (len(literals) == len(slots) + 1), and the runs' class and attributes."""

    literals: tuple[bytes, ...]
    slots: tuple[int, ...]
    class_name: str
    attributes: tuple[Mapping[str, object], ...]


def remember(key: tuple[bytes, bytes], data: bytes, first_length_end: int, st: _State,
             body: AttributedString) -> bool:
    """Keep the template of a body of more than one run, or of one with a transfer GUID,
    when the decoder recorded every place it varies; False when it was not kept."""
    if len(st.run_lengths) != len(body.runs) or st.run_lengths[0][1] != first_length_end:
        return False
    cuts = [(start, end, _LENGTH) for start, end in st.run_lengths[1:]]
    cuts += _guid_cuts(st, body, first_length_end)
    if not cuts:
        return False
    cuts.sort()
    literals, slots, pos = [], [], first_length_end
    for start, end, slot in cuts:
        literals.append(data[pos:start])
        slots.append(slot)
        pos = end
    literals.append(data[pos:])
    shapes = SHAPES.setdefault(key, [])
    if len(shapes) >= _MAX_SHAPES_PER_KEY:
        return False
    shapes.append(Shape(tuple(literals), tuple(slots), body.class_name,
                        tuple(run.attributes for run in body.runs)))
    return True


def _guid_cuts(st: _State, body: AttributedString, after: int) -> list[tuple[int, int, int]]:
    """Where each run's transfer GUID lies, for GUIDs the template can fill in safely: read
    on the decoder's fast path (a short string, then the object's end), and found nowhere
    else in the runs, so that filling in one place changes everything it should."""
    everything = repr(body.runs)
    cuts = []
    for index, run in enumerate(body.runs):
        guid = run.attributes.get(TRANSFER_KEY)
        if not isinstance(guid, str) or not guid or everything.count(repr(guid)) != 1:
            continue
        places = [(head, end) for head, end, text in st.short_strings
                  if text == guid and head > after and st.data[end] == _END]
        if len(places) == 1:
            cuts.append((places[0][0], places[0][1], index))
    return cuts


def filled(shapes: list[Shape], data: bytes, pos: int, first_length: int
           ) -> tuple[str, tuple[AttributeRun, ...], int] | None:
    """(class, runs, total length) of the body in `data` whose first run length ends at
    `pos`, from the first of `shapes` it matches; None when none does."""
    for shape in shapes:
        values = _values(shape, data, pos)
        if values is None:
            continue
        lengths, guids = values
        lengths.insert(0, first_length)
        runs = []
        for index, attributes in enumerate(shape.attributes):
            guid = guids.get(index)
            if guid is not None:
                attributes = {**attributes, TRANSFER_KEY: guid}
            runs.append(new_attribute_run(lengths[index], attributes))
        return shape.class_name, tuple(runs), sum(lengths)
    return None


def _values(shape: Shape, data: bytes, pos: int) -> tuple[list[int], dict[int, str]] | None:
    """The run lengths and GUIDs in `data` at `shape`'s slots, if its literals all match."""
    lengths: list[int] = []
    guids: dict[int, str] = {}
    size = len(data)
    literals = shape.literals
    for index, slot in enumerate(shape.slots):
        literal = literals[index]
        if not data.startswith(literal, pos):
            return None
        pos += len(literal)
        if pos >= size:
            return None
        head = data[pos]
        if slot == _LENGTH:  # an unsigned typedstream integer, read as the decoder reads it
            if head < 0x80 or head >= _FIRST_REF:
                lengths.append(head)
                pos += 1
                continue
            width = 2 if head == _INT16 else 4 if head == _INT32 else 0
            if not width or pos + 1 + width > size:
                return None
            lengths.append(int.from_bytes(data[pos + 1 : pos + 1 + width], "little"))
            pos += 1 + width
        else:  # a short string: its length byte, its UTF-8 (the object's end follows)
            end = pos + 1 + head
            if head >= 0x80 or end > size:
                return None
            try:
                guids[slot] = data[pos + 1 : end].decode("utf-8")
            except UnicodeDecodeError:
                return None
            pos = end
    if len(data) - pos != len(literals[-1]) or not data.startswith(literals[-1], pos):
        return None
    return lengths, guids
