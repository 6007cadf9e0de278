"""The thin command-line layer: parse options, call the library, map errors to exit codes.

Each command lives in its own module under coldtexts.cli and is registered in COMMANDS.
Library errors (coldtexts.errors) become one line on stderr and their exit code; nothing
here decides anything the library could.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import click

from coldtexts import __version__
from coldtexts.errors import EXIT_INTERNAL, ColdtextsError, exit_codes

#: (module, attribute) of every command; one line per command keeps merges trivial.
COMMANDS: list[tuple[str, str]] = [
    ("coldtexts.cli.backups_cmd", "backups"),
    ("coldtexts.cli.export_cmd", "export"),
    ("coldtexts.cli.archive_cmds", "verify"),
    ("coldtexts.cli.archive_cmds", "status"),
    ("coldtexts.cli.inspect_cmd", "inspect"),
    ("coldtexts.cli.init_cmd", "init"),
    ("coldtexts.cli.schedule_cmd", "schedule"),
    ("coldtexts.cli.search_cmd", "search"),
]


def _exit_code_epilog() -> str:
    lines = [f"  {code:>3}  {meaning}" for code, meaning in exit_codes().items()]
    return "Exit codes:\n\n\b\n" + "\n".join(lines)


class ColdtextsGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ColdtextsError as exc:
            click.echo(f"coldtexts: {exc.message}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("coldtexts: interrupted; nothing half-written was kept.", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("COLDTEXTS_DEBUG"):
                raise
            click.echo(
                f"coldtexts: internal error ({type(exc).__name__}: {exc}); this is a bug. "
                "Run again with COLDTEXTS_DEBUG=1 for details and report it.",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)


@click.group(cls=ColdtextsGroup, epilog=_exit_code_epilog())
@click.version_option(__version__, prog_name="coldtexts")
def cli() -> None:
    """Archive the Messages in a local iPhone backup as HTML, PDF/A and text."""


def _register() -> None:
    for module_name, attr in COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # command not built yet in this checkout
            raise
        cli.add_command(getattr(module, attr))


_register()


def main() -> None:
    cli.main(prog_name="coldtexts")


if __name__ == "__main__":
    main()
