"""`coldtexts export`: archive a backup into an archive folder (the main job)."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import click

from coldtexts.config import load_config, merge
from coldtexts.errors import ColdtextsError
from coldtexts.options import ALL_FORMATS, ExportOptions
from coldtexts.progress import Progress, wants_progress
from coldtexts.report import RunReport, summary_line, write_json


def _formats(_ctx: click.Context, _param: click.Parameter,
             value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    unknown = [f for f in chosen if f not in ALL_FORMATS]
    if unknown or not chosen:
        raise click.BadParameter(f"choose from {', '.join(ALL_FORMATS)} (comma-separated)")
    return chosen


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use YYYY-MM-DD") from exc


PathArg = click.Path(path_type=Path)


@click.command()
@click.argument("backup", required=False, type=PathArg)
@click.option("--out", "archive", type=PathArg, help="The archive folder (created if needed).")
@click.option("--config", "config_path", type=PathArg,
              help="A TOML config file (default: the per-user coldtexts/config.toml, if any).")
@click.option("--formats", callback=_formats,
              help="Comma-separated: html,pdf,txt,jsonl (default all).")
@click.option("--timezone", help="IANA zone for times in the archive (default: the system's).")
@click.option("--since", callback=_day, help="Render only from this day (YYYY-MM-DD).")
@click.option("--until", callback=_day, help="Render only up to this day (YYYY-MM-DD).")
@click.option("--conversation", "conversations", multiple=True,
              help="Render only this conversation (name, number or email); repeatable.")
@click.option("--templates", "templates_dir", type=PathArg,
              help="A restyled copy of the templates folder.")
@click.option("--owner-name", help="How the owner is labelled (default: Me).")
@click.option("--password-file", type=PathArg, help="A file (mode 600) holding the password.")
@click.option("--password-stdin", is_flag=True, default=None,
              help="Read the password from the first line of standard input.")
@click.option("--keyring", "use_keyring", is_flag=True, default=None,
              help="Look the password (or a saved derived key) up in the OS keyring.")
@click.option("--key-file", type=PathArg,
              help="A file (mode 600) with a derived key saved by --remember-key file.")
@click.option("--remember-key", type=click.Choice(["keyring", "file"]),
              help="Save the derived key so later runs skip the slow key derivation.")
@click.option("--no-input", is_flag=True, help="Never prompt, even on a terminal.")
@click.option("--max-backup-age", "max_backup_age_days", type=click.IntRange(min=1),
              help="Warn when the backup is older than this many days (default 45).")
@click.option("--report", "report_path", type=PathArg,
              help="Also write the run report here (JSON).")
@click.option("--dry-run", is_flag=True, default=None,
              help="Do everything in memory and say what would be rendered; write nothing.")
@click.option("--verbose", "-v", is_flag=True, default=None,
              help="Print every render-or-skip decision with its reason.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display, even on a terminal.")
def export(backup: Path | None, archive: Path | None, config_path: Path | None,
           no_input: bool, quiet: bool, **options: object) -> None:
    """Archive the Messages in BACKUP (a backup folder) into the --out folder.

    Runs again and again into the same folder: each run adds what is new and never removes
    what an earlier run archived.
    """
    started = datetime.now(UTC)
    opts: ExportOptions | None = None
    try:
        opts = _options(backup, archive, config_path, no_input, options)
        from coldtexts.pipeline import run_export  # imported late: keeps `--help` fast

        with Progress.open(wants_progress(quiet=quiet)) as progress:
            report, render = run_export(opts, progress=progress)
    except ColdtextsError as exc:
        # Schedulers read stdout and the report: a failed run says so in both.
        failed = RunReport(started=started, finished=datetime.now(UTC), outcome="failed",
                           exit_code=exc.exit_code, error=exc.message,
                           archive=str(opts.archive if opts else archive or ""),
                           backup=str(opts.backup if opts else backup or ""))
        if opts is not None and opts.report_path is not None:
            write_json(failed, opts.report_path)
        click.echo(summary_line(failed))
        raise
    for warning in report.warnings:
        click.echo(f"coldtexts: warning: {warning}", err=True)
    if render is not None and (opts.verbose or opts.dry_run):
        for decision in render.decisions:
            line = f"  {decision.reason.value:<32} {decision.path}"
            click.echo(line + (f"  (failed: {decision.error})" if decision.error else ""))
    if opts.report_path is not None:
        write_json(report, opts.report_path)
    click.echo(summary_line(report))
    sys.exit(report.exit_code)


def _options(backup: Path | None, archive: Path | None, config_path: Path | None,
             no_input: bool, options: dict[str, object]) -> ExportOptions:
    """The config file's values, overridden by every option given on the command line."""
    config = load_config(config_path)
    secret_keys = {"password_file", "password_stdin", "use_keyring", "key_file", "remember_key"}
    overrides = {k: v for k, v in options.items() if k not in secret_keys}
    secrets = {k: v for k, v in options.items() if k in secret_keys and v is not None}
    if no_input:
        secrets["interactive"] = False
    overrides.update({"backup": backup, "archive": archive})
    opts = merge(config, {**overrides, **secrets})
    if not sys.stdin.isatty() and opts.secrets.interactive:
        opts = replace(opts, secrets=replace(opts.secrets, interactive=False))
    return opts
