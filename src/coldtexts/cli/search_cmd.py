"""`coldtexts search ARCHIVE QUERY`: find messages, and the page that shows each."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from coldtexts.archive.search import SearchFilters
from coldtexts.config import load_config, system_zone_name
from coldtexts.errors import ColdtextsError, ConfigError
from coldtexts.search import (
    EmptyQueryError,
    clean_text,
    format_hit,
    hit_to_json,
    search_archive,
)

DAY = click.DateTime(formats=["%Y-%m-%d"])


@click.command("search")
@click.argument("archive", type=click.Path(file_okay=False, path_type=Path))
@click.argument("query", nargs=-1, required=True)
@click.option("--sender", help="Only messages from this name, number or email ('me' for yours).")
@click.option("--conversation", help="Only this conversation (name, number, email or folder).")
@click.option("--since", type=DAY, help="Only messages on or after this day (YYYY-MM-DD).")
@click.option("--until", type=DAY, help="Only messages on or before this day (YYYY-MM-DD).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True,
              help="At most this many matches, newest first.")
@click.option("--timezone", help="Time zone the archive was rendered in (default: the zone "
              "its last run recorded, else the config file's, else this computer's).")
@click.option("--json", "as_json", is_flag=True, help="Print the matches as a JSON array.")
def search(archive: Path, query: tuple[str, ...], sender: str | None,
           conversation: str | None, since: datetime | None, until: datetime | None,
           limit: int, timezone: str | None, as_json: bool) -> None:
    """Search the archive's messages.

    QUERY words must all appear; "an exact phrase" in quotes (quote it for the shell
    too: '"birthday cake"'); birth* for words starting so; cake OR pie; cake NOT pie.
    Each match shows the path, inside ARCHIVE, of the HTML page that shows it.
    """
    zone_name = timezone or _archive_zone(archive) or _configured_zone() or system_zone_name()
    zone = _zone(zone_name)
    first, last = _day(since), _day(until)
    if first and last and first > last:
        raise click.UsageError("--since is after --until; swap the dates.")
    filters = SearchFilters(sender=clean_text(sender) if sender else None,
                            conversation=clean_text(conversation) if conversation else None,
                            since=first, until=last,
                            timezone=zone_name, limit=limit)
    try:
        hits = search_archive(archive, " ".join(query), filters)
    except EmptyQueryError as exc:
        raise click.UsageError("QUERY has no words to search for.") from exc
    if as_json:
        click.echo(json.dumps([hit_to_json(h) for h in hits], indent=2, ensure_ascii=False))
        return
    if not hits:
        click.echo("No messages match.", err=True)
        return
    click.echo("\n\n".join(format_hit(h, zone) for h in hits))
    more = " (the limit; use --limit for more)" if len(hits) == limit else ""
    click.echo(f"{len(hits)} match{'es' if len(hits) != 1 else ''}{more}", err=True)


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise click.BadParameter(f"{name!r} is not a time zone; use an IANA name such as "
                                 "Europe/Paris.", param_hint="--timezone") from exc


def _archive_zone(archive: Path) -> str | None:
    """The zone the archive's last run rendered in (recorded in its run report)."""
    import sqlite3

    from coldtexts.archive.store import STORE_NAME, open_read_only

    store = Path(archive) / STORE_NAME
    if not store.is_file():
        return None
    try:
        conn = open_read_only(store)
        try:
            row = conn.execute("SELECT report FROM runs WHERE report IS NOT NULL "
                               "ORDER BY id DESC LIMIT 1").fetchone()
        finally:
            conn.close()
        zone = json.loads(row[0]).get("timezone") if row else None
    except (sqlite3.Error, ValueError, AttributeError, ColdtextsError):
        return None
    return zone if isinstance(zone, str) else None


def _configured_zone() -> str | None:
    """The default config file's time zone; a broken config does not stop a search."""
    try:
        config = load_config(None)
    except ConfigError:
        return None
    return config.timezone if config else None
