"""Real attributedBody blobs (from real devices) read through a built sms.db.

Each blob from realdata/typedstream is stored as a message's attributedBody with `text`
NULL, the way iOS 16+ writes rows; the reader must give back the blob's text (without
its placeholders) or, for the malformed ones, keep the message and report it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coldtexts.fixtures.smsdb_builder import SmsDbBuilder
from coldtexts.messages.models import PartKind
from coldtexts.messages.reader import SmsDatabase

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_real_bodies_read_through_the_reader(realdata: Path, tmp_path: Path) -> None:
    folder = realdata / "typedstream"
    expected = json.loads((folder / "expected.json").read_text())
    b = SmsDbBuilder(schema="ios18")
    mom = b.handle("+15555550101")
    chat = b.chat([mom])
    guids = {name: b.message(chat, sender=mom, date=T0 + timedelta(minutes=i), text=None,
                             attributed_body=(folder / name).read_bytes())
             for i, name in enumerate(sorted(expected))}
    with SmsDatabase.open(b.write(tmp_path / "sms.db")) as db:
        messages = {m.guid: m for m in db.messages()}
        problems = {p.guid for p in db.problems if p.kind == "undecodable_body"}
    assert len(messages) == len(expected)
    for name, want in expected.items():
        message = messages[guids[name]]
        if "error" in want:
            assert message.body_undecodable and guids[name] in problems, name
            assert message.text == "", name
            continue
        assert not message.body_undecodable, name
        visible = want["text"].replace("\ufffc", "").replace("\ufffd", "")
        text_parts = [p.text for p in message.parts if p.kind is PartKind.TEXT]
        # Parts are joined by newlines in Message.text; compare without them.
        assert "".join(text_parts).replace("\n", "") == visible.replace("\n", ""), name
        assert message.text.replace("\n", "") == visible.replace("\n", ""), name
        placeholders = want["text"].count("\ufffc")
        assert sum(p.kind is PartKind.ATTACHMENT for p in message.parts) == placeholders, name
