"""`coldtexts backups`: list the backups on this computer and under each --root."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from coldtexts.backup.locate import BackupInfo, default_roots, find_backups, unreadable_roots
from coldtexts.fsutil import human_size


def _describe(info: BackupInfo) -> str:
    when = info.last_backup.astimezone().strftime("%Y-%m-%d %H:%M") if info.last_backup else "?"
    state = info.state if info.problem is None else f"{info.state}: {info.problem}"
    return (f"{info.device_name or '(unnamed device)'}  {info.product_type or '?'}  "
            f"iOS {info.ios_version or '?'}\n"
            f"  UDID {info.udid}\n"
            f"  last backup {when}, {'encrypted' if info.encrypted else 'NOT encrypted'}, "
            f"{human_size(info.size_bytes)}, {state}\n"
            f"  {info.path}")


@click.command()
@click.option("--root", "roots", multiple=True, type=click.Path(path_type=Path),
              help="Also look in this folder (a backup, or a folder of backups); repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def backups(roots: tuple[Path, ...], as_json: bool) -> None:
    """List iPhone backups: device, model, iOS, UDID, date, encryption, size, state."""
    found = find_backups(list(roots))
    if as_json:
        click.echo(json.dumps([b.to_json() for b in found], indent=2, ensure_ascii=False))
        return
    for hint in unreadable_roots(list(roots)):
        click.echo(f"coldtexts: {hint}", err=True)
    if not found:
        searched = [*default_roots(), *roots]
        where = ", ".join(str(p) for p in searched) or "nowhere"
        hint = ("" if default_roots() or roots else
                " On Linux, pass the folder idevicebackup2 wrote to with --root.")
        click.echo(f"No backups found (searched: {where}).{hint}", err=True)
        sys.exit(0)
    click.echo("\n\n".join(_describe(b) for b in found))
