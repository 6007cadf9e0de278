"""Crash safety: SIGKILL a real export at random moments; a re-run must converge.

The subprocess performs two monthly runs (backup 1, then backup 2 with edits, an unsend,
deletions and new messages), each ingesting, storing attachments, rendering and
finishing. After every kill, a normal re-run must leave exactly the archive that one
uninterrupted run makes: the same files with the same hashes (the store and the run
report aside, which hold timestamps), and the same rows in the store.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from coldtexts.archive import Archive, verify
from coldtexts.messages.models import Conversation, Message
from test_archive_factory import (
    conversation,
    edited,
    exporters,
    message,
    photo,
    render_context,
    source,
)

HERE = Path(__file__).resolve().parent
CONVERSATIONS = 8
PER_CONVERSATION = 120
KILLS = 25


def _backup(number: int) -> tuple[list[Conversation], Iterator[Message]]:
    convs = [conversation(n) for n in range(CONVERSATIONS)]

    def messages() -> Iterator[Message]:
        for c, conv in enumerate(convs):
            for i in range(PER_CONVERSATION + (15 if number == 2 else 0)):
                base = message(f"m{c}-{i}", conv, i * 60 * 24 * 5, f"note {i} for {c}",
                               from_me=i % 2 == 0,
                               attachments=(photo(f"a{c}-{i}"),) if i % 10 == 0 else ())
                if number == 2 and i % 17 == 3:
                    continue  # deleted on the phone before backup 2
                if number == 2 and i % 13 == 5:
                    base = edited(base, f"note {i} for {c}, corrected")
                if number == 2 and i % 29 == 7:
                    base = dataclasses.replace(base, text="", parts=(), unsent_parts=(0,),
                                               date_retracted=base.date + timedelta(minutes=1))
                yield base
    return convs, messages()


def _store_attachments(archive: Archive, staging: Path) -> None:
    staging.mkdir(parents=True, exist_ok=True)
    for need in archive.attachments_needing_files():
        data = f"picture {need.guid}".encode() * 50
        extracted = staging / need.guid
        extracted.write_bytes(data)
        archive.store_attachment_file(need.guid, extracted, hashlib.sha256(data).hexdigest(),
                                      len(data))


def export(root: Path, staging: Path) -> None:
    """Both monthly runs, as the pipeline would do them."""
    for number, days in ((1, 0), (2, 30)):
        with Archive.open(root) as archive:
            convs, msgs = _backup(number)
            archive.ingest(archive.begin_source(source(days)), convs, msgs, [])
            _store_attachments(archive, staging)
            archive.render(exporters(), render_context(root))
            archive.finish_run("success", {"backup": number})


def _run_in_child(root: Path, staging: Path) -> subprocess.Popen[bytes]:
    code = ("import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
            "from test_archive_crash import export; export(Path(sys.argv[2]), Path(sys.argv[3]))")
    return subprocess.Popen([sys.executable, "-c", code, str(HERE), str(root), str(staging)])


def snapshot(root: Path) -> tuple[list[str], dict[str, list[tuple[object, ...]]]]:
    lines = [line for line in (root / "MANIFEST.sha256").read_text().splitlines()
             if not line.endswith("  coldtexts.db") and "  reports/" not in line]
    queries = {
        "messages": "SELECT guid, json, hash, version_date, gone_as_of FROM messages",
        "revisions": "SELECT message_guid, part, date, text, origin FROM revisions",
        "attachments": "SELECT guid, sha256, missing_reason FROM attachments",
        "conversations": "SELECT guid, slug, display_name FROM conversations",
        "renders": "SELECT path, content_digest, sha256, error FROM renders",
        "files": "SELECT path, sha256 FROM files WHERE path NOT LIKE 'reports/%'",
    }
    conn = sqlite3.connect(root / "coldtexts.db")
    try:
        rows = {name: sorted(conn.execute(sql).fetchall(), key=repr)
                for name, sql in queries.items()}
    finally:
        conn.close()
    return lines, rows


@pytest.mark.parametrize("kills", [
    pytest.param(3, id="3-kills"),
    pytest.param(KILLS, id=f"{KILLS}-kills", marks=pytest.mark.slow),  # about 30 s
])
def test_killed_runs_converge_to_the_uninterrupted_archive(tmp_path: Path, kills: int) -> None:
    reference = tmp_path / "reference"
    started = time.monotonic()
    child = _run_in_child(reference, tmp_path / "staging-ref")
    assert child.wait(timeout=120) == 0
    full = time.monotonic() - started
    expected = snapshot(reference)
    assert verify(reference).ok

    rng = random.Random(20261123)
    killed_mid_run = 0
    for attempt in range(kills):
        root = tmp_path / f"crash-{attempt}"
        staging = tmp_path / f"staging-{attempt}"
        child = _run_in_child(root, staging)
        # Within the first 70 % of a reference run's time: runs vary by machine load, and a
        # kill after the run finished would test nothing.
        time.sleep(rng.uniform(0.05, 0.7 * full))
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            killed_mid_run += 1
        child.wait()
        export(root, staging)  # the next normal run
        assert snapshot(root) == expected, f"attempt {attempt} did not converge"
        assert verify(root).ok
    assert killed_mid_run >= kills // 2  # most kills really landed mid-run
