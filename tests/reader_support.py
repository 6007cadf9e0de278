"""Helpers shared by the sms.db reader's tests."""

from __future__ import annotations

from pathlib import Path


def damage_message_pages(path: Path) -> None:
    """Overwrite most of three pages at 50, 60 and 70 % of the file: message rows there
    are damaged, while the schema and the first rows still read."""
    data = bytearray(path.read_bytes())
    for share in (0.5, 0.6, 0.7):
        at = int(len(data) * share) // 4096 * 4096
        data[at + 100 : at + 4000] = b"\xff" * 3900
    path.write_bytes(bytes(data))
