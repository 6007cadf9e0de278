"""`coldtexts schedule`: print or write the monthly job for this platform's scheduler."""

from __future__ import annotations

from pathlib import Path

import click

from coldtexts.config import default_config_path, load_config
from coldtexts.errors import ConfigError
from coldtexts.fsutil import atomic_write_bytes, make_private_dir
from coldtexts.schedule import (
    PLATFORMS,
    current_platform,
    instructions,
    render,
    spec_for,
    task_scheduler_bytes,
)


@click.command("schedule")
@click.option("--print", "print_", is_flag=True,
              help="Print the scheduler definition on stdout (instructions on stderr).")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path),
              help="Write the definition file(s) into this folder instead.")
@click.option("--platform", type=click.Choice(PLATFORMS),
              help="Scheduler to write for (default: this computer's).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Config file the job will use (default: the per-user config file).")
def schedule(print_: bool, output: Path | None, platform: str | None,
             config_path: Path | None) -> None:
    """Print the monthly job (launchd, systemd/cron, Task Scheduler) for your config."""
    if not print_ and output is None:
        raise click.UsageError("Pass --print to show the job, or --output FOLDER to save it.")
    config = load_config(config_path)
    if config is None:
        raise ConfigError(
            f"No config file at {default_config_path()}; create one with `coldtexts init` "
            "or pass --config FILE."
        )
    chosen = platform or current_platform()
    files = render(spec_for(config, chosen), chosen)
    if output is not None:
        _write(files, output)
    else:
        _print(files)
    click.echo(instructions(chosen), err=True)


def _print(files: dict[str, str]) -> None:
    many = len(files) > 1
    for name, text in files.items():
        if many:
            click.echo(f"### {name}")
        click.echo(text, nl=not text.endswith("\n"))
        if many:
            click.echo()


def _write(files: dict[str, str], folder: Path) -> None:
    make_private_dir(folder)
    for name, text in files.items():
        data = task_scheduler_bytes(text) if name.endswith(".xml") else text.encode("utf-8")
        atomic_write_bytes(folder / name, data, mode=0o644)
        click.echo(f"wrote {folder / name}", err=True)
