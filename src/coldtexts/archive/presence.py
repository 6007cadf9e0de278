"""Which messages are no longer on the phone, whatever order backups are ingested in.

A message is "no longer on the device as of D" when some phone that had it (a sighting:
the newest backup of that phone holding it) has a later *complete* backup, dated D,
that lacks it; D is the earliest such backup. It is on the device again when a later
backup of that phone holds it once more. Because the rule looks only at sightings and
sources, ingesting an older backup after a newer one gives the same flags as ingesting
them in date order.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

_COMPUTED = """
    SELECT g.message_id AS id, min(s.backup_date) AS gone
    FROM sightings g
    JOIN sources s ON s.udid = g.udid AND s.complete = 1 AND s.backup_date > g.last_date
    WHERE g.message_id IN (SELECT message_id FROM sightings WHERE udid = :udid)
    GROUP BY g.message_id
"""


@dataclass(frozen=True, slots=True)
class PresenceChanges:
    flagged: int
    cleared: int
    flagged_by_conversation: dict[int, int]


def mark_source_complete(conn: sqlite3.Connection, source_id: int) -> None:
    conn.execute("UPDATE sources SET complete = 1 WHERE id = ? AND complete = 0", (source_id,))


def refresh_presence(conn: sqlite3.Connection, udid: str) -> PresenceChanges:
    """Recompute the flags of every message a backup of `udid` ever held."""
    newly: dict[int, int] = dict(conn.execute(
        f"SELECT m.conversation_id, count(*) FROM messages m JOIN ({_COMPUTED}) AS c "
        f"ON m.id = c.id WHERE m.gone_as_of IS NULL GROUP BY m.conversation_id",
        {"udid": udid},
    ).fetchall())
    flagged = conn.execute(
        f"UPDATE messages SET gone_as_of = c.gone, gone_source = (SELECT min(id) FROM "
        f"sources WHERE backup_date = c.gone AND complete = 1) FROM ({_COMPUTED}) AS c "
        f"WHERE messages.id = c.id AND messages.gone_as_of IS NOT c.gone",
        {"udid": udid},
    ).rowcount
    cleared = conn.execute(
        f"UPDATE messages SET gone_as_of = NULL, gone_source = NULL "
        f"WHERE gone_as_of IS NOT NULL "
        f"AND id IN (SELECT message_id FROM sightings WHERE udid = :udid) "
        f"AND id NOT IN (SELECT id FROM ({_COMPUTED}))",
        {"udid": udid},
    ).rowcount
    return PresenceChanges(flagged, cleared, newly)
