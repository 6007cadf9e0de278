"""The README is the user guide: every command, every export option and every exit code
in it is checked against the code, so the two cannot drift apart."""

from __future__ import annotations

import re

import click
import pytest

from coldtexts.cli import cli
from coldtexts.errors import exit_codes
from conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_is_documented(name: str) -> None:
    assert f"coldtexts {name}" in README


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help(name: str) -> None:
    command = cli.commands[name]
    assert command.help or command.short_help, f"{name} has no help text"


def _export_options() -> list[str]:
    command = cli.commands["export"]
    return sorted(opt for param in command.params if isinstance(param, click.Option)
                  for opt in param.opts if opt.startswith("--"))


@pytest.mark.parametrize("option", _export_options())
def test_every_export_option_is_documented(option: str) -> None:
    assert re.search(rf"`{re.escape(option)}[ `=]", README), option


def test_exit_code_table_matches_the_code() -> None:
    table = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", README, flags=re.MULTILINE))
    assert {int(code): meaning for code, meaning in table.items()} == exit_codes()


def test_quick_start_commands_are_the_makefile_targets() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make sample" in README and "make test" in README
    assert re.search(r"^sample:", makefile, flags=re.MULTILINE)
    assert re.search(r"^test:", makefile, flags=re.MULTILINE)
    assert ci.strip().splitlines()[-1] == "make test"
