"""Regenerate tests/data/archive_v1.db: a store at schema m001 (before message_fts).

Built with today's ingest, then taken back to m001 exactly as m001 left a store: the
m002 table dropped and its row removed from _migrations. Run from the repository root:
    .venv/bin/python tests/data/make_archive_v1.py
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from test_archive_factory import conversation, edited, message, run_once, source  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "Archive"
        conv = conversation(7, name="Book club")
        first = [message("v1-a", conv, 0, "Chapter 3 by Friday"),
                 message("v1-b", conv, 1, "Deal", from_me=True)]
        run_once(root, [conv], first, src=source(0))
        run_once(root, [conv], [edited(first[0], "Chapter 4 by Friday")], src=source(30))
        conn = sqlite3.connect(root / "coldtexts.db")
        conn.execute("DROP TABLE message_fts")
        conn.execute("DELETE FROM _migrations WHERE name = 'm002_message_fts'")
        conn.execute("PRAGMA user_version = 1")
        conn.commit()
        conn.execute("VACUUM")
        conn.close()
        shutil.copyfile(root / "coldtexts.db", HERE / "archive_v1.db")


if __name__ == "__main__":
    main()
