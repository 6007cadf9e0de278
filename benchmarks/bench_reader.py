"""sms.db reader benchmark: streaming throughput and peak memory on a large database.

    .venv/bin/python benchmarks/bench_reader.py [--messages 1000000] [--keep DIR]
        [--repeat 3]

Builds an iOS 18-style sms.db with a realistic mix: most rows carry their own attributedBody
(about half with `text` NULL, as iOS 16+ writes them), with emoji and formatting, ~6 %
tapbacks, ~5 % attachments, replies, edits, link previews and group events, over 300
chats. The build is not measured. Reading runs in a fresh process (peak RSS is a per-
process high-water mark) and does what the exporter does: conversations(), messages()
(attributedBody decoded on every row that has one) and reactions().

messages() reads a large database in two processes (messages/reader_parallel.py); the
benchmark times that and a read in one process (`messages(parallel=False)`), alternating
`--repeat` times in one run, and reports the medians side by side.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import Measurement, machine_info, markdown_table, run_isolated
from coldtexts.fixtures.smsdb_builder_schema import ddl
from coldtexts.fixtures.typedstream_writer import (
    encode_attributed_body,
    encode_summary_info,
    encode_url_payload,
)
from coldtexts.messages.dates import to_apple_nanoseconds
from coldtexts.messages.typedstream import utf16_length

START = datetime(2015, 1, 1, tzinfo=UTC)
WORDS = ("see", "you", "soon", "ok", "thanks", "love", "that", "sounds", "good", "where",
         "are", "we", "meeting", "tonight", "photos", "call", "me", "when", "happy",
         "birthday", "🎉", "on", "my", "way", "café", "😂", "dinner", "at", "7?")
PART = "__kIMMessagePartAttributeName"
CHATS = 300


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 18)))


def _body(text: str, formatted: bool) -> bytes:
    """An attributedBody as Messages writes it; `formatted` adds a bold first word."""
    if formatted:  # iOS 18 formatting on some bodies: two runs
        cut = text.find(" ") + 1 or len(text)
        head, tail = text[:cut], text[cut:]
        runs: list[tuple[int, dict[str, object]]] = [
            (utf16_length(head), {PART: 0, "__kIMTextBoldAttributeName": 1})]
        if tail:
            runs.append((utf16_length(tail), {PART: 0}))
    else:
        runs = [(utf16_length(text), {PART: 0})]
    return encode_attributed_body(text, runs)


def build(path: Path, messages: int, seed: int = 7) -> dict[str, Any]:
    """Write the benchmark sms.db (not timed as part of reading)."""
    rng = random.Random(seed)
    started = time.perf_counter()
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    connection.executescript(ddl("ios18"))
    connection.executemany("INSERT INTO handle (ROWID, id, service) VALUES (?, ?, 'iMessage')",
                           [(i, f"+1555{i:07d}") for i in range(1, CHATS + 1)])
    connection.executemany(
        "INSERT INTO chat (ROWID, guid, style, chat_identifier, service_name, display_name) "
        "VALUES (?, ?, ?, ?, 'iMessage', '')",
        [(i, f"iMessage;-;+1555{i:07d}", 45, f"+1555{i:07d}") for i in range(1, CHATS + 1)])
    connection.executemany("INSERT INTO chat_handle_join VALUES (?, ?)",
                           [(i, i) for i in range(1, CHATS + 1)])
    edit_blob = encode_summary_info({0: [(START, "first"), (START, "second")]})
    link_blob = encode_url_payload("https://example.com/a", "A page", "About it", "Example")
    rows, joins, attachment_rows, attachment_joins = [], [], [], []
    when = to_apple_nanoseconds(START)
    last_guids: list[str] = []
    for rowid in range(1, messages + 1):
        when += rng.randint(1, 600) * 1_000_000_000
        chat = min(CHATS, int(rng.paretovariate(1.2)))
        from_me = rng.random() < 0.45
        guid = f"{rowid:08X}-0000-4000-8000-{rowid:012X}"
        text = _text(rng)  # every body unique, as on a real phone
        blob = _body(text, rowid % 7 == 0)
        row: dict[str, Any] = {"text": text if rowid % 2 else None, "attributedBody": blob}
        roll = rng.random()
        if roll < 0.06 and last_guids:
            row = {"text": f"Loved “{text[:20]}”", "attributedBody": None,
                   "associated_message_type": 2000 + rng.randint(0, 5),
                   "associated_message_guid": f"p:0/{rng.choice(last_guids)}"}
        elif roll < 0.11:
            attachment_rows.append((rowid, f"AT-{rowid:012X}",
                                    f"~/Library/SMS/Attachments/aa/00/AT-{rowid:012X}/IMG.HEIC",
                                    "image/heic", "public.heic", "IMG.HEIC", 100_000))
            attachment_joins.append((rowid, rowid))
            body = "\ufffc"
            row = {"text": None, "attributedBody": encode_attributed_body(body, [(1, {
                PART: 0, "__kIMFileTransferGUIDAttributeName": f"AT-{rowid:012X}"})]),
                   "cache_has_attachments": 1}
        elif roll < 0.13 and last_guids:
            row["thread_originator_guid"] = rng.choice(last_guids)
            row["thread_originator_part"] = "0:0:5"
        elif roll < 0.135:
            row.update({"text": None, "message_summary_info": edit_blob, "date_edited": when})
        elif roll < 0.145:
            row.update({"balloon_bundle_id": "com.apple.messages.URLBalloonProvider",
                        "payload_data": link_blob, "text": "https://example.com/a",
                        "attributedBody": None})
        elif roll < 0.15:
            row = {"item_type": 2, "group_title": "Renamed", "text": None,
                   "attributedBody": None}
        rows.append((rowid, guid, row.get("text"), row.get("attributedBody"),
                     0 if from_me else chat, when, int(from_me),
                     row.get("associated_message_type", 0), row.get("associated_message_guid"),
                     row.get("thread_originator_guid"), row.get("thread_originator_part"),
                     row.get("message_summary_info"), row.get("date_edited", 0),
                     row.get("balloon_bundle_id"), row.get("payload_data"),
                     row.get("item_type", 0), row.get("group_title"),
                     row.get("cache_has_attachments", 0)))
        joins.append((chat, rowid, when))
        last_guids.append(guid)
        if len(last_guids) > 50:
            last_guids.pop(0)
        if len(rows) >= 20_000:
            _flush(connection, rows, joins, attachment_rows, attachment_joins)
    _flush(connection, rows, joins, attachment_rows, attachment_joins)
    connection.commit()
    connection.close()
    return {"build_seconds": time.perf_counter() - started,
            "size_mb": path.stat().st_size / 1e6}


def _flush(connection: sqlite3.Connection, rows: list[Any], joins: list[Any],
           attachment_rows: list[Any], attachment_joins: list[Any]) -> None:
    connection.executemany(
        "INSERT INTO message (ROWID, guid, text, attributedBody, handle_id, date, is_from_me, "
        "associated_message_type, associated_message_guid, thread_originator_guid, "
        "thread_originator_part, message_summary_info, date_edited, balloon_bundle_id, "
        "payload_data, item_type, group_title, cache_has_attachments, service) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'iMessage')", rows)
    connection.executemany("INSERT INTO chat_message_join VALUES (?, ?, ?)", joins)
    connection.executemany(
        "INSERT INTO attachment (ROWID, guid, original_guid, filename, mime_type, uti, "
        "transfer_name, total_bytes) VALUES (?, ?, ?2, ?, ?, ?, ?, ?)", attachment_rows)
    connection.executemany("INSERT INTO message_attachment_join VALUES (?, ?)",
                           attachment_joins)
    for batch in (rows, joins, attachment_rows, attachment_joins):
        batch.clear()


def read_all(path: str, parallel: bool = True) -> dict[str, Any]:
    """The measured stage: everything the exporter reads, in one fresh process."""
    from coldtexts.messages.reader import SmsDatabase

    started, cpu = time.perf_counter(), time.process_time()
    with SmsDatabase.open(Path(path)) as db:
        conversations = sum(1 for _ in db.conversations())
        messages = sum(1 for _ in db.messages(parallel=parallel))
        reactions = sum(1 for _ in db.reactions())
        problems = len(db.problems)
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "conversations": conversations, "messages": messages, "reactions": reactions,
            "problems": problems}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the sms.db here and keep it")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs per mode")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="coldtexts-bench-reader-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sms.db"
    if args.keep and path.exists():
        with sqlite3.connect(path) as connection:  # the kept file's own size, not --messages
            args.messages = connection.execute("SELECT count(*) FROM message").fetchone()[0]
        print(f"reusing {path} ({args.messages:,} rows)", file=sys.stderr)
    else:
        built = build(path, args.messages)
        print(f"built {args.messages:,} rows ({built['size_mb']:.0f} MB) "
              f"in {built['build_seconds']:.0f} s", file=sys.stderr)
    runs: dict[str, list[Measurement]] = {"two processes": [], "one process": []}
    for _ in range(args.repeat):
        for label, parallel in (("two processes", True), ("one process", False)):
            runs[label].append(run_isolated("bench_reader:read_all",
                                            {"path": str(path), "parallel": parallel}))
            print(f"{label}: {runs[label][-1].seconds:.1f} s", file=sys.stderr)
    info = machine_info()
    print(f"machine: {info.get('cpu')}, {info.get('cores')} cores, Python {info['python']}")
    rows = []
    for label, measured in runs.items():
        # The median run (the upper of the middle two when --repeat is even): a whole run
        # is kept, not an average of runs, so its CPU and memory columns belong to it.
        m = sorted(measured, key=lambda x: x.seconds)[len(measured) // 2]
        total = m.result["messages"] + m.result["reactions"]
        rows.append([label, args.messages, m.result["messages"], m.result["reactions"],
                     m.seconds, total / m.seconds, m.result["messages"] / m.seconds,
                     m.result["cpu"], m.peak_rss_mb,
                     ", ".join(f"{x.seconds:.1f}" for x in measured)])
    # The worker is the forkserver's child, not this process's: CPU and peak RSS are the
    # run's process alone (in two processes the worker uses about as much beside it).
    print(markdown_table(
        ["reader", "rows in sms.db", "messages", "reactions", "seconds (median)", "rows/s",
         "messages/s", "CPU s of the run's process", "peak RSS MB of the run's process",
         "all runs (s)"], rows))
    two, one = (row[4] for row in rows)
    print(f"speed-up of two processes over one: {one / two:.2f}x")
    if not args.keep:
        path.unlink(missing_ok=True)
        folder.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
