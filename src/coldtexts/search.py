"""`coldtexts search`: the user's query made safe for FTS5, and the hits made readable.

The archive (coldtexts.archive.search) runs the query against its message_fts table and
says which page shows each hit. This module turns what a person types into an FTS5
expression that cannot fail to parse:

    birthday cake        both words (AND)
    "birthday cake"      the exact phrase
    birth*               words starting with "birth"
    cake OR pie          either word; AND, OR and NOT work in capitals between terms
    cake NOT pie         cake without pie (NOT needs a term on each side)
    a dangling OR, stray quotes, colons, brackets: ignored or searched as plain words

Every term is passed as a quoted FTS5 string, so punctuation and column names in the
input are text to find, never syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from coldtexts.archive.search import SearchFilters, SearchHit, search

OPERATORS = frozenset({"AND", "OR", "NOT"})
# A "phrase" (closed, or running to the end), else a run of non-space characters.
_TOKEN = re.compile(r'"([^"]*)"?(\*?)|(\S+)')


class EmptyQueryError(ValueError):
    """The query has nothing to search for."""


@dataclass(frozen=True, slots=True)
class _Term:
    text: str
    prefix: bool = False

    def fts(self) -> str:
        return '"' + self.text.replace('"', '""') + '"' + ("*" if self.prefix else "")


def fts_query(user_query: str) -> str:
    """An FTS5 MATCH expression for what the user typed (see the module doc)."""
    items: list[_Term | str] = []
    user_query = clean_text(user_query)
    for match in _TOKEN.finditer(user_query):
        phrase, star, word = match.groups()
        if word is None:
            if phrase.strip():
                items.append(_Term(phrase.strip(), prefix=bool(star)))
        elif word in OPERATORS:
            items.append(word)
        else:
            term = _word(word)
            if term is not None:
                items.append(term)
    return _join(items)


def clean_text(text: str) -> str:
    """Lone surrogates (undecodable bytes in argv) cannot reach SQLite as UTF-8: make them
    U+FFFD. A NUL would end an FTS5 string early: make it a space."""
    text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text.replace("\x00", " ")


def _word(word: str) -> _Term | None:
    stem = word.rstrip("*")
    word = word.replace('"', "")
    stem = stem.replace('"', "")
    if not stem.strip("*"):
        return None  # only stars
    return _Term(stem, prefix=len(stem) < len(word))


def _join(items: list[_Term | str]) -> str:
    """Operators only between two terms (of a run like "AND NOT" the last one counts);
    a leading or trailing one is dropped; a query of operators only searches the words."""
    terms = [i for i in items if isinstance(i, _Term)]
    if not terms:
        terms = [_Term(i) for i in items if isinstance(i, str)]
        if not terms:
            raise EmptyQueryError("nothing to search for")
        return " ".join(t.fts() for t in terms)
    out: list[str] = []
    pending: str | None = None
    for item in items:
        if isinstance(item, str):
            pending = item if out else None
            continue
        if pending is not None:
            out.append(pending)
            pending = None
        out.append(item.fts())
    return " ".join(out)


def search_archive(archive: Path, user_query: str,
                   filters: SearchFilters | None = None) -> list[SearchHit]:
    """Search an archive for what the user typed (raises EmptyQueryError for nothing)."""
    return search(archive, fts_query(user_query), filters)


# -- showing hits --------------------------------------------------------------------------
def format_hit(hit: SearchHit, zone: ZoneInfo) -> str:
    """Two lines: when, who, where; then the matching words in context and the page."""
    when = hit.date.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    snippet = " ".join(hit.snippet.split())
    return f"{when}  {hit.conversation} — {hit.sender}\n    {snippet}\n    {hit.page}"


def hit_to_json(hit: SearchHit) -> dict[str, object]:
    return {
        "guid": hit.guid, "conversation": hit.conversation, "folder": hit.slug,
        "sender": hit.sender, "date": hit.date.isoformat(), "snippet": hit.snippet,
        "page": hit.page,
    }


def local_datetime(hit: SearchHit, zone: ZoneInfo) -> datetime:
    return hit.date.astimezone(zone)
