"""Full-text search over an archive's store (message_fts, SQLite FTS5), read-only.

The query is FTS5 syntax (words, "exact phrases", OR, NOT, prefix*); a query FTS5
cannot parse is searched for as plain words instead. Each hit carries the
archive-relative link of the HTML page that shows the message.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from .plan import load_metas, load_names, title_of
from .store import STORE_NAME, from_us, open_read_only, to_us
from .volumes import split_volumes


@dataclass(frozen=True, slots=True)
class SearchHit:
    guid: str
    conversation: str  # the conversation's title
    slug: str
    sender: str
    date: datetime  # UTC
    snippet: str  # matched words between [ and ]
    page: str  # archive-relative: conversations/<slug>/<volume>.html#m-<guid>


@dataclass(frozen=True, slots=True)
class SearchFilters:
    sender: str | None = None  # a name, number or email; "me" for the owner
    conversation: str | None = None  # a title, folder name, number or email
    since: date | None = None
    until: date | None = None
    timezone: str = "UTC"  # for the dates above and for finding each message's volume
    limit: int = 50


def search(root: Path, query: str, filters: SearchFilters | None = None) -> list[SearchHit]:
    filters = filters or SearchFilters()
    conn = open_read_only(root / STORE_NAME)
    try:
        return _Search(conn, filters).run(query)
    finally:
        conn.close()


class _Search:
    def __init__(self, conn: sqlite3.Connection, filters: SearchFilters) -> None:
        self._conn = conn
        self._filters = filters
        self._zone = ZoneInfo(filters.timezone)
        self._names = load_names(conn)
        self._metas = {m.id: m for m in load_metas(conn)}
        self._volume_of: dict[int, dict[str, str]] = {}

    def run(self, query: str) -> list[SearchHit]:
        sql, params = self._sql()
        try:
            rows = self._conn.execute(sql, [query, *params]).fetchall()
        except sqlite3.OperationalError:  # not valid FTS5 syntax: search the words
            words = " ".join('"' + w.replace('"', '""') + '"' for w in query.split())
            rows = self._conn.execute(sql, [words or '""', *params]).fetchall()
        return [self._hit(*row) for row in rows]

    def _sql(self) -> tuple[str, list[object]]:
        where = ["message_fts MATCH ?"]
        params: list[object] = []
        f = self._filters
        if f.since is not None:
            where.append("m.date >= ?")
            params.append(to_us(datetime.combine(f.since, time(), self._zone)))
        if f.until is not None:
            where.append("m.date < ?")
            params.append(to_us(datetime.combine(f.until + timedelta(days=1), time(),
                                                 self._zone)))
        if f.sender is not None:
            handles = self._sender_handles(f.sender)
            if f.sender.casefold() == "me":
                where.append("m.sender IS NULL")
            else:
                where.append(f"m.sender IN ({','.join('?' * len(handles))})")
                params.extend(handles)
        if f.conversation is not None:
            ids = self._conversation_ids(f.conversation)
            where.append(f"m.conversation_id IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        sql = ("SELECT m.guid, m.conversation_id, m.sender, m.date, "
               "snippet(message_fts, 0, '[', ']', '…', 12) FROM message_fts "
               "JOIN messages m ON m.id = message_fts.rowid WHERE " + " AND ".join(where)
               + " ORDER BY m.date DESC LIMIT ?")
        return sql, [*params, f.limit]

    def _sender_handles(self, wanted: str) -> list[str]:
        key = wanted.casefold()
        return [h for h, n in self._names.items() if key in (h.casefold(), n.casefold())] + [
            wanted]

    def _conversation_ids(self, wanted: str) -> list[int]:
        key = wanted.casefold()
        found = []
        for meta in self._metas.values():
            keys = {meta.slug, meta.identifier, title_of(meta, self._names), *meta.aliases,
                    *meta.participants}
            if key in {k.casefold() for k in keys}:
                found.append(meta.id)
        return found or [-1]

    def _hit(self, guid: str, cid: int, sender: str | None, when: int,
             snippet: str) -> SearchHit:
        meta = self._metas[cid]
        key = self._volumes(cid).get(guid, "")
        return SearchHit(
            guid=guid, conversation=title_of(meta, self._names), slug=meta.slug,
            sender="Me" if sender is None else self._names.get(sender, sender),
            date=from_us(when), snippet=snippet,
            page=f"conversations/{meta.slug}/{key}.html#m-{guid}",
        )

    def _volumes(self, cid: int) -> dict[str, str]:
        if cid not in self._volume_of:
            rows = self._conn.execute(
                "SELECT guid, date FROM messages WHERE conversation_id = ? ORDER BY date, guid",
                (cid,),
            ).fetchall()
            volumes = split_volumes([d for _, d in rows], self._zone)
            self._volume_of[cid] = {rows[i][0]: v.ref.key for v in volumes
                                    for i in range(v.start, v.stop)}
        return self._volume_of[cid]
