"""Scheduling snippets: parsed by the parsers each scheduler's format has, and the CLI."""

from __future__ import annotations

import configparser
import plistlib
import re
import shlex
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from coldtexts.cli import cli
from coldtexts.config import Config
from coldtexts.schedule import (
    EXAMPLES,
    TASK_NS,
    ScheduleSpec,
    cron_line,
    example_files,
    launchd_plist,
    spec_for,
    systemd_service,
    systemd_timer,
    task_scheduler_bytes,
    task_scheduler_xml,
)

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples" / "schedule"
TRICKY = ScheduleSpec(command=("/opt/my tools/python", "-m", "coldtexts"),
                      config="/home/a b/100% sure/config.toml", log="/home/a b/run log.txt",
                      password_from_env=True)


def systemd_sections(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(text)
    return parser


def test_committed_examples_are_the_generated_ones() -> None:
    for name, data in example_files().items():
        assert (EXAMPLES_DIR / name).read_bytes() == data, f"regenerate examples/schedule/{name}"


def test_launchd_plist_parses_and_runs_monthly() -> None:
    for spec in (EXAMPLES["macos"], TRICKY):
        agent = plistlib.loads(launchd_plist(spec).encode("utf-8"))
        assert agent["ProgramArguments"] == [*spec.command, "export", "--config", spec.config]
        assert agent["StartCalendarInterval"] == {"Day": 2, "Hour": 9, "Minute": 30}
        assert agent["StandardOutPath"] == spec.log == agent["StandardErrorPath"]
        assert all(Path(a).is_absolute() for a in agent["ProgramArguments"][:1])
    assert "password_file" in launchd_plist(TRICKY)


def test_systemd_units_parse_with_a_monthly_calendar() -> None:
    service = systemd_sections(systemd_service(EXAMPLES["linux"]))
    assert service.sections() == ["Unit", "Service"]
    assert service["Service"]["Type"] == "oneshot"
    assert shlex.split(service["Service"]["ExecStart"]) == list(EXAMPLES["linux"].argv)
    timer = systemd_sections(systemd_timer(EXAMPLES["linux"]))
    assert timer.sections() == ["Unit", "Timer", "Install"]
    calendar = timer["Timer"]["OnCalendar"]
    assert re.fullmatch(r"\*-\*-(0[1-9]|1\d|2[0-8]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d", calendar)
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_systemd_exec_start_quotes_spaces_and_percent() -> None:
    text = systemd_service(TRICKY)
    exec_start = systemd_sections(text)["Service"]["ExecStart"]
    # systemd unquotes like a shell for "..." and turns %% into %.
    assert [a.replace("%%", "%") for a in shlex.split(exec_start)] == list(TRICKY.argv)
    assert "#EnvironmentFile=" in text


def test_cron_line_has_five_fields_and_survives_sh() -> None:
    for spec in (EXAMPLES["linux"], TRICKY):
        [line] = [x for x in cron_line(spec).splitlines() if not x.startswith("#")]
        fields = line.split(None, 5)
        minute, hour, day, month, weekday = fields[:5]
        assert (minute, hour, day, month, weekday) == ("30", "9", "2", "*", "*")
        command = fields[5].replace("\\%", "%")
        words = shlex.split(command)
        assert words[: len(spec.argv)] == list(spec.argv)
        assert words[len(spec.argv):] == [">>", spec.log, "2>&1"]
    assert "%" not in cron_line(TRICKY).replace("\\%", "")


def test_task_scheduler_xml_parses_with_a_monthly_trigger() -> None:
    for spec in (EXAMPLES["windows"], TRICKY):
        data = task_scheduler_bytes(task_scheduler_xml(spec))
        assert data[:2] in (b"\xff\xfe", b"\xfe\xff")  # UTF-16 with a BOM, as declared
        root = ET.fromstring(data)
        ns = {"t": TASK_NS}
        assert root.tag == f"{{{TASK_NS}}}Task"
        day = root.find("t:Triggers/t:CalendarTrigger/t:ScheduleByMonth/t:DaysOfMonth/t:Day", ns)
        assert day is not None and day.text == "2"
        months = root.find("t:Triggers/t:CalendarTrigger/t:ScheduleByMonth/t:Months", ns)
        assert months is not None and len(months) == 12
        command = root.find("t:Actions/t:Exec/t:Command", ns)
        arguments = root.find("t:Actions/t:Exec/t:Arguments", ns)
        assert command is not None and command.text == spec.command[0]
        assert arguments is not None and arguments.text is not None
        assert arguments.text.endswith(
            f'--config "{spec.config}"' if " " in spec.config else f"--config {spec.config}")
        start = root.find("t:Settings/t:StartWhenAvailable", ns)
        assert start is not None and start.text == "true"


def test_spec_from_config_uses_this_python_and_absolute_paths(tmp_path: Path) -> None:
    config = Config(source=tmp_path / "config.toml", keyring=True)
    spec = spec_for(config, "linux")
    assert spec.command == (sys.executable, "-m", "coldtexts")
    assert spec.config == str(tmp_path / "config.toml")
    assert spec.password_from_env is False
    assert spec_for(Config(source=tmp_path / "c.toml"), "linux").password_from_env is True


# -- the command ---------------------------------------------------------------------------
@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    path.write_text(f'archive = "{tmp_path / "A"}"\npassword_file = "{tmp_path / "pw"}"\n',
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("platform", ["macos", "linux", "windows"])
def test_schedule_print_for_each_platform(config_file: Path, platform: str) -> None:
    result = CliRunner().invoke(cli, ["schedule", "--print", "--platform", platform,
                                      "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert str(config_file) in result.stdout
    assert sys.executable in result.stdout
    if platform == "macos":
        plistlib.loads(result.stdout.encode("utf-8"))  # stdout is exactly the plist
    if platform == "linux":
        assert "### coldtexts.timer" in result.stdout and "OnCalendar=" in result.stdout
    assert result.stderr  # the instructions


def test_schedule_output_writes_files(config_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "jobs"
    result = CliRunner().invoke(cli, ["schedule", "--output", str(out), "--platform", "windows",
                                      "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    ET.fromstring((out / "coldtexts-task.xml").read_bytes())


def test_schedule_without_a_config_says_to_run_init() -> None:
    result = CliRunner().invoke(cli, ["schedule", "--print"])
    assert result.exit_code == 50
    assert "coldtexts init" in result.stderr


def test_schedule_needs_print_or_output(config_file: Path) -> None:
    result = CliRunner().invoke(cli, ["schedule", "--config", str(config_file)])
    assert result.exit_code == 2 and "--print" in result.output
