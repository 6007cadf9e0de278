"""`coldtexts init`: write the config file from a few questions (or options), then show
the monthly job for this computer's scheduler.

Every question has an option, so init also runs without a terminal; there, a missing
answer is an error naming the option, never a prompt that would hang.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from coldtexts.backup.locate import COMPLETE, BackupInfo, find_backups
from coldtexts.backup.secrets import ENV_PASSWORD, KEYRING_SERVICE
from coldtexts.config import config_text, default_config_path, write_config
from coldtexts.schedule import current_platform, instructions, render, spec_for

PASSWORD_CHOICES = ("file", "keyring", "env")


def can_prompt() -> bool:
    """Ask questions only when a person can answer them."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _missing(option: str, what: str) -> click.UsageError:
    return click.UsageError(
        f"No terminal to ask {what}; pass {option} (every question has an option)."
    )


@click.command("init")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the config (default: the per-user config file).")
@click.option("--backup-root", "backup_roots", multiple=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="A folder holding backups, if not the usual one (repeatable).")
@click.option("--device", help="The device (name or UDID) whose newest backup to archive.")
@click.option("--archive", type=click.Path(file_okay=False, path_type=Path),
              help="The archive folder (created by the first export).")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path),
              help="A file (mode 600) holding the backup password.")
@click.option("--keyring", "use_keyring", is_flag=True,
              help="The password (or derived key) is kept in the OS keyring.")
@click.option("--password-env", is_flag=True,
              help=f"The scheduled job sets {ENV_PASSWORD} itself.")
@click.option("--force", is_flag=True, help="Replace an existing config file.")
def init(config_path: Path | None, backup_roots: tuple[Path, ...], device: str | None,
         archive: Path | None, password_file: Path | None, use_keyring: bool,
         password_env: bool, force: bool) -> None:
    """Create the config file for monthly, unattended exports."""
    target = (config_path or default_config_path()).expanduser().absolute()
    if target.exists() and not force:
        raise click.UsageError(f"{target} exists; pass --force to replace it.")
    interactive = can_prompt()
    roots = tuple(r.expanduser().absolute() for r in backup_roots)
    backups = find_backups(list(roots), include_defaults=not roots)
    chosen_device = _device(device, backups, interactive)
    archive_dir = _archive(archive, interactive)
    password = _password_source(password_file, use_keyring, password_env, interactive, target)
    values: dict[str, object] = {
        "device": chosen_device,
        "backup_roots": [str(r) for r in roots] or None,
        "archive": str(archive_dir),
        "formats": ["html", "pdf", "txt", "jsonl"],
        **password,
        "max_backup_age_days": 45,
    }
    text = config_text(values, COMMENTS)
    config = write_config(target, text)
    click.echo(f"Wrote {target}", err=True)
    _password_advice(password, backups, chosen_device)
    platform = current_platform()
    click.echo("\nTo run it monthly, after the monthly backup:\n", err=True)
    for name, snippet in render(spec_for(config, platform), platform).items():
        click.echo(f"### {name}")
        click.echo(snippet, nl=not snippet.endswith("\n"))
    click.echo(instructions(platform), err=True)


COMMENTS = {
    "device": "Whose backups: the newest complete backup of this device is archived.",
    "backup_roots": "Folders searched for backups (the usual folder when absent).",
    "archive": "The archive folder: copy it to cold storage, check it with `coldtexts verify`.",
    "formats": "Any of html, pdf, txt, jsonl.",
    "password_file": "A file holding only the backup password; `chmod 600` it.",
    "keyring": "Read the password (or the derived key) from the OS keyring.",
    "remember_key": "Save the derived key after a successful unlock (faster monthly runs).",
    "max_backup_age_days": "Warn when the newest backup is older (false: never).",
}


def _describe(b: BackupInfo) -> str:
    when = b.last_backup.strftime("%Y-%m-%d %H:%M") if b.last_backup else "date unknown"
    lock = "encrypted" if b.encrypted else "NOT encrypted"
    state = "" if b.state == COMPLETE else f", {b.problem or b.state}"
    return f"{b.device_name or '(unnamed)'} [{b.udid}], {when}, {lock}{state}"


def _device(device: str | None, backups: Sequence[BackupInfo], interactive: bool) -> str:
    if device:
        key = device.casefold()
        if backups and not any(key in (b.udid.casefold(), (b.device_name or "").casefold())
                               for b in backups):
            click.echo(f"Note: no backup of {device!r} was found yet; the export will look "
                       "for it each time it runs.", err=True)
        return device
    if not interactive:
        raise _missing("--device NAME_OR_UDID", "which device")
    devices = _newest_per_device(backups)
    if not devices:
        click.echo("No backups found in the usual folder (use --backup-root for another).",
                   err=True)
        return str(click.prompt("Device name or UDID")).strip()
    for number, backup in enumerate(devices, 1):
        click.echo(f"  {number}. {_describe(backup)}", err=True)
    pick = click.prompt("Which device", type=click.IntRange(1, len(devices)), default=1)
    return devices[pick - 1].udid


def _newest_per_device(backups: Sequence[BackupInfo]) -> list[BackupInfo]:
    def when(b: BackupInfo) -> float:
        return b.last_backup.timestamp() if b.last_backup else float("-inf")

    newest: dict[str, BackupInfo] = {}
    for b in backups:
        if b.udid not in newest or when(b) > when(newest[b.udid]):
            newest[b.udid] = b
    return list(newest.values())


def _archive(archive: Path | None, interactive: bool) -> Path:
    if archive is None:
        if not interactive:
            raise _missing("--archive FOLDER", "where the archive goes")
        default = Path.home() / "Documents" / "Messages archive"
        archive = Path(click.prompt("Archive folder", default=str(default)))
    return archive.expanduser().absolute()


def _password_source(password_file: Path | None, use_keyring: bool, password_env: bool,
                     interactive: bool, target: Path) -> dict[str, object]:
    given = [n for n, v in (("--password-file", password_file), ("--keyring", use_keyring),
                            ("--password-env", password_env)) if v]
    if len(given) > 1:
        raise click.UsageError(f"Choose one password source, not {' and '.join(given)}.")
    if not given:
        if not interactive:
            raise _missing("--password-file FILE, --keyring or --password-env",
                           "how the password is supplied")
        how = click.prompt("How will the backup password be supplied",
                           type=click.Choice(PASSWORD_CHOICES), default="file")
        if how == "file":
            password_file = Path(click.prompt(
                "Password file", default=str(target.parent / "backup-password")))
        use_keyring, password_env = how == "keyring", how == "env"
    if password_file is not None:
        return {"password_file": str(password_file.expanduser().absolute())}
    if use_keyring:
        return {"keyring": True, "remember_key": "keyring"}
    return {}  # the environment: nothing in the file


def _password_advice(password: dict[str, object], backups: Sequence[BackupInfo],
                     device: str) -> None:
    if "password_file" in password:
        path = Path(str(password["password_file"]))
        if not path.is_file():
            click.echo(f"Next: put the backup password alone in {path} and run "
                       f"`chmod 600 '{path}'`.", err=True)
        elif os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            click.echo(f"Warning: {path} can be read by other users; run "
                       f"`chmod 600 '{path}'`.", err=True)
    elif password.get("keyring"):
        udid = next((b.udid for b in backups
                     if device.casefold() in (b.udid.casefold(),
                                              (b.device_name or "").casefold())), device)
        click.echo("Next: run `coldtexts export` once in a terminal; it asks for the password "
                   "and saves the derived key in the keyring. Or store the password with: "
                   f"keyring set {KEYRING_SERVICE} password:{udid}", err=True)
    else:
        click.echo(f"The scheduled job must set {ENV_PASSWORD}; prefer a password file or "
                   "the keyring, which keep the password out of job definitions.", err=True)
