"""`coldtexts verify ARCHIVE` and `coldtexts status ARCHIVE [--json]`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from coldtexts.archive import ArchiveStatus
from coldtexts.archive import status as archive_status
from coldtexts.archive import verify as archive_verify
from coldtexts.errors import ArchiveDamagedError
from coldtexts.fsutil import human_size

MAX_PROBLEM_LINES = 50

_ARCHIVE = click.Path(file_okay=False, path_type=Path)


@click.command()
@click.argument("archive", type=_ARCHIVE)
def verify(archive: Path) -> None:
    """Check every file of ARCHIVE against its MANIFEST.sha256.

    Lists files that are missing, changed or not in the manifest, and exits with code 31
    when anything is wrong.
    """
    result = archive_verify(archive)
    if result.ok:
        click.echo(f"{archive}: all {result.checked} files match MANIFEST.sha256.")
        return
    for line in result.problems[:MAX_PROBLEM_LINES]:
        click.echo(line)
    hidden = len(result.problems) - MAX_PROBLEM_LINES
    if hidden > 0:
        click.echo(f"… and {hidden} more")
    raise ArchiveDamagedError(
        f"{archive} does not match its manifest: {len(result.missing)} missing, "
        f"{len(result.changed)} changed, {len(result.unexpected)} unexpected of "
        f"{result.checked} files; restore those files from a copy of the archive."
    )


@click.command()
@click.argument("archive", type=_ARCHIVE)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(archive: Path, as_json: bool) -> None:
    """Show what ARCHIVE holds: conversations, messages, attachments, sources, last run."""
    info = archive_status(archive)
    if as_json:
        click.echo(json.dumps(info.to_json(), indent=2, ensure_ascii=False))
        return
    for line in describe(info):
        click.echo(line)


def describe(info: ArchiveStatus) -> list[str]:
    span = "no messages yet"
    if info.first_message and info.last_message:
        span = f"{info.first_message:%Y-%m-%d} to {info.last_message:%Y-%m-%d}"
    lines = [
        f"Archive:        {info.root}",
        f"Conversations:  {info.conversations}",
        f"Messages:       {info.messages} ({span}); "
        f"{info.messages_no_longer_on_device} no longer on the phone",
        f"Attachments:    {info.attachments_present} stored, "
        f"{info.attachments_missing} missing",
        f"Size:           {human_size(info.bytes)}",
        f"Failed outputs: {info.outputs_failed}"
        + (" (rendered again on the next run)" if info.outputs_failed else ""),
        f"Sources:        {len(info.sources)} backup(s)",
    ]
    for src in info.sources:
        lines.append(f"  {src.backup_date:%Y-%m-%d %H:%M} UTC  {src.device_name or '?'} "
                     f"(iOS {src.ios_version or '?'}, {src.udid})")
    if info.last_run is None:
        lines.append("Last run:       none recorded")
    else:
        lines.append(f"Last run:       {info.last_run.started:%Y-%m-%d %H:%M} UTC, "
                     f"{info.last_run.outcome or 'did not finish'}")
    return lines
