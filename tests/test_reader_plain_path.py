"""The reader's fast paths give exactly what the general ones give.

messages() reads most rows through a narrow query and RowConverter.plain_message; a row
with anything more is flagged by SQL and re-read in full. These tests check the flag never
misses a value Python would act on, and that both paths build equal Messages.
"""

from __future__ import annotations

import sqlite3
from dataclasses import FrozenInstanceError, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apsw
import pytest

from coldtexts.fixtures.smsdb_builder import build_showcase
from coldtexts.messages.fastbuild import fast_builder
from coldtexts.messages.models import (
    Attachment,
    Message,
    MessageKind,
    Part,
    PartKind,
    TextRun,
    new_message,
    new_part,
    new_text_run,
)
from coldtexts.messages.reader import SmsDatabase
from coldtexts.messages.reader_query import F, P, _nonempty, _nonzero, _outside

TRICKY_VALUES: list[object] = [
    None, 0, 1, -1, 0.0, -0.0, 0.5, 1e-300, 2**63 - 1, -(2**63), "", "0", "abc", " ",
    "\x00", "\x00a", b"", b"\x00", 2, 3, 2.0, 4000, "2"]


@pytest.mark.parametrize("binding", ["sqlite3", "apsw"])  # the plain query runs on apsw
@pytest.mark.parametrize("affinity", ["INTEGER", "TEXT", "BLOB", "", "NUMERIC", "REAL"])
def test_sql_truth_matches_python(affinity: str, binding: str) -> None:
    connection: Any = (sqlite3.connect(":memory:") if binding == "sqlite3"
                       else apsw.Connection(":memory:"))
    connection.execute(f"CREATE TABLE t (v {affinity})")
    for value in TRICKY_VALUES:
        connection.execute("INSERT INTO t VALUES (?)", (value,))
    rows = connection.execute(
        f"SELECT v, {_nonzero('v')}, {_nonempty('v')}, {_outside('v', (0, 2, 3))} "
        "FROM t ORDER BY ROWID")
    for value, nonzero, nonempty, outside in rows:
        # The value as Python sees it after the column's affinity converted it: never
        # missed when true; flagged though false (only slower) just where documented.
        assert bool(nonzero) == (bool(value) or value in ("", b"")), (affinity, value)
        assert bool(nonempty) == (bool(value) or value in (0, b"")), (affinity, value)
        assert bool(outside) == (value not in {None, 0, 2, 3}), (affinity, value)


def test_plain_path_equals_general_path_on_the_showcase(tmp_path: Path) -> None:
    for schema in ("ios12", "ios16", "ios18"):
        path = tmp_path / f"{schema}.db"
        build_showcase(path, schema)
        with SmsDatabase.open(path) as db:
            fast = list(db.messages())
            fast_problems = list(db.problems)
        with SmsDatabase.open(path) as db:
            general = list(_all_through_general_path(db))
            assert fast == general, schema
            assert fast_problems == db.problems, schema
        assert any(m.kind is MessageKind.MESSAGE for m in fast)


def _all_through_general_path(db: SmsDatabase) -> list[Message]:
    """Every row built by RowConverter.message from its full row, flagged or not."""
    plain_sql = db.schema.plain_message_select()
    built = []
    for row, chats, deleted in db._grouped_rows(plain_sql, P["chat_id"],
                                                db._deleted_column(P)):
        full = db._full_row(row[0])
        assert full[F["ROWID"]] == row[P["ROWID"]]
        built.append(db._converter.message(full, chats, deleted))
    return built


def test_fast_builders_equal_the_dataclass_constructors() -> None:
    when = datetime(2024, 1, 2, tzinfo=UTC)
    run = new_text_run("hi", bold=True)
    assert run == TextRun("hi", bold=True) and type(run) is TextRun
    part = new_part(0, PartKind.TEXT, (run,))
    assert part == Part(0, PartKind.TEXT, (TextRun("hi", bold=True),))
    message = new_message("g", 1, ("c",), MessageKind.MESSAGE, False, "+1", "SMS", when,
                          text="hi", parts=(part,))
    expected = Message("g", 1, ("c",), MessageKind.MESSAGE, False, "+1", "SMS", when,
                       text="hi", parts=(part,))
    assert message == expected and hash(run) == hash(TextRun("hi", bold=True))
    assert [getattr(message, f.name) for f in fields(Message)] == [
        getattr(expected, f.name) for f in fields(Message)]
    assert message.extra == {} and message.extra is not new_message(
        "g", 1, (), MessageKind.MESSAGE, False, None, "SMS", when).extra
    with pytest.raises(FrozenInstanceError):
        message.text = "changed"  # type: ignore[misc]
    assert replace(message, text="x").text == "x"


def test_fast_builder_refuses_a_class_without_slots() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Loose:
        value: int

    with pytest.raises(TypeError):
        fast_builder(Loose)
    assert fast_builder(Attachment)("g", None, None, None, None, None) == Attachment(
        "g", None, None, None, None, None)


def test_cached_one_run_equals_decoding() -> None:
    from coldtexts.fixtures.typedstream_writer import encode_attributed_body
    from coldtexts.messages.typedstream import (
        cached_one_run,
        clear_cache,
        decode_attributed_body,
        utf16_length,
    )

    part = "__kIMMessagePartAttributeName"
    clear_cache()
    texts = ["hello", "café \U0001f600 again", "x" * 300, "second part"]
    blobs = [encode_attributed_body(t, [(utf16_length(t), {part: 1})]) for t in texts]
    assert cached_one_run(blobs[0]) is None  # nothing cached yet
    decode_attributed_body(blobs[0])  # learns the shape
    for text, blob in zip(texts, blobs, strict=True):
        found = cached_one_run(blob)
        body = decode_attributed_body(blob)
        if found is not None:
            assert found == (body.text, body.runs[0].attributes) and found[0] == text
    assert cached_one_run(blobs[1]) is not None
    bold = encode_attributed_body("ab", [(1, {part: 0, "__kIMTextBoldAttributeName": 1}),
                                         (1, {part: 0})])
    decode_attributed_body(bold)
    assert cached_one_run(bold) is None  # two runs: not a one-run shape
    assert cached_one_run(blobs[0][:-3]) is None  # damaged: left to the decoder
    clear_cache()


def test_a_value_starting_with_nul_still_takes_the_general_path(tmp_path: Path) -> None:
    """SQLite's length() stops at a NUL: the flag must not miss such a subject."""
    from coldtexts.fixtures.smsdb_builder import SmsDbBuilder

    b = SmsDbBuilder(schema="ios18")
    mom = b.handle("+15555550101")
    guid = b.message(b.chat([mom]), sender=mom, date=datetime(2024, 1, 2, tzinfo=UTC),
                     text="hi", subject="\x00Re: hi")
    with SmsDatabase.open(b.write(tmp_path / "sms.db")) as db:
        (message,) = db.messages()
    assert message.guid == guid and message.subject == "\x00Re: hi"
