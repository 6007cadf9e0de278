"""coldtexts.bplist reads binary plists exactly as plistlib does: same values and types,
shared objects shared, and every damaged plist refused as plistlib refuses it."""

from __future__ import annotations

import plistlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coldtexts import bplist

FAST = settings(deadline=None, max_examples=300,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.binary(max_size=40),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(0, 2**64 - 1).map(plistlib.UID),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=20),
                            st.dictionaries(st.text(max_size=12), inner, max_size=20)),
    max_leaves=60)


def _same(blob: bytes) -> None:
    """bplist.loads(blob) is plistlib.loads(blob), or both raise the same error."""
    try:
        want: Any = plistlib.loads(blob)
    except Exception as exc:  # whatever plistlib raises is the answer
        with pytest.raises(type(exc)):
            bplist.loads(blob)
        return
    got = bplist.loads(blob)
    assert repr(got) == repr(want)  # repr: equal NaNs, cycles and types alike
    assert type(got) is type(want)


@FAST
@given(values)
def test_generated_plists_read_as_plistlib_reads_them(value: Any) -> None:
    blob = plistlib.dumps({"root": value}, fmt=plistlib.FMT_BINARY, sort_keys=False)
    assert bplist._Reader(blob).root() == plistlib.loads(blob)  # the fast path, not a fallback
    _same(blob)


@FAST
@given(values, st.data())
def test_damaged_plists_fail_or_read_as_plistlib_does(value: Any, data: st.DataObject) -> None:
    blob = bytearray(plistlib.dumps([value, value], fmt=plistlib.FMT_BINARY))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(blob) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "trailer"]))
        if action == "flip":
            blob[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del blob[at:]
            if not blob:
                return
        else:  # the trailer's sizes, counts and offsets
            blob[-min(len(blob), data.draw(st.integers(1, 32)))] = data.draw(st.integers(0, 255))
    _same(bytes(blob))


def test_shared_objects_and_cycles_are_kept() -> None:
    shared = {"a": [1, 2]}
    blob = plistlib.dumps([shared, shared], fmt=plistlib.FMT_BINARY)
    got = bplist.loads(blob)
    assert got == [shared, shared] and got[0] is got[1]
    # An array holding itself (object 0 refers to object 0), as a damaged archive might.
    cyclic = (b"bplist00\xa1\x00\x08" + bytes(6) + b"\x01\x01" + (1).to_bytes(8, "big")
              + (0).to_bytes(8, "big") + (10).to_bytes(8, "big"))
    loop = bplist.loads(cyclic)
    assert loop[0] is loop
    _same(cyclic)


def test_xml_and_nonsense_go_to_plistlib() -> None:
    _same(plistlib.dumps({"k": [1, "two"]}, fmt=plistlib.FMT_XML))
    _same(b"bplist00")
    _same(b"bplist00" + bytes(40))
    _same(b"not a plist at all")


def test_real_plists(realdata: Path) -> None:
    files = sorted((realdata / "plists").iterdir())
    assert len(files) >= 10
    for path in files:
        blob = path.read_bytes()
        assert bplist._Reader(blob).root() == plistlib.loads(blob), path.name


@pytest.mark.parametrize("token", [0x4F, 0x5F, 0x6F])  # data, ASCII, UTF-16
def test_a_size_past_the_end_is_refused(token: int) -> None:
    body = bytes([token, 0x12]) + (1000).to_bytes(4, "big") + b"abc"  # says 1000, has 3
    blob = (b"bplist00" + body + bytes([8]) + bytes(6) + b"\x01\x01"
            + (1).to_bytes(8, "big") + (0).to_bytes(8, "big")
            + (8 + len(body)).to_bytes(8, "big"))
    with pytest.raises(plistlib.InvalidFileException):
        plistlib.loads(blob)
    with pytest.raises(ValueError, match="truncated"):
        bplist._Reader(blob).root()
    _same(blob)
