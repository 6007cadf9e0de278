"""`coldtexts init`: options only (no terminal), prompts on a terminal, refusals."""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from coldtexts.cli import cli, init_cmd
from coldtexts.config import load_config, merge
from coldtexts.fixtures.backup_writer import write_backup


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    root = tmp_path / "Backup"
    write_backup(root / "UDID-ANNA-OLD", [], password=None, udid="UDID-ANNA",
                 device_name="Anna's iPhone", backup_date=datetime(2026, 9, 1, tzinfo=UTC))
    write_backup(root / "UDID-ANNA", [], password=None, device_name="Anna's iPhone",
                 backup_date=datetime(2026, 11, 1, tzinfo=UTC))
    write_backup(root / "UDID-BEN", [], password=None, device_name="Ben's iPhone",
                 backup_date=datetime(2026, 10, 1, tzinfo=UTC))
    return root


def invoke(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["init", *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_every_answer_as_an_option_writes_a_private_valid_config(tmp_path: Path,
                                                                 backups: Path) -> None:
    target = tmp_path / "conf" / "config.toml"
    code, out, err = invoke("--config", str(target), "--backup-root", str(backups),
                            "--device", "Anna's iPhone", "--archive", str(tmp_path / "Arch"),
                            "--password-file", str(tmp_path / "pw"))
    assert code == 0, err
    data = tomllib.loads(target.read_text("utf-8"))
    assert data["device"] == "Anna's iPhone"
    assert data["backup_roots"] == [str(backups)]
    assert data["archive"] == str(tmp_path / "Arch")
    assert data["password_file"] == str(tmp_path / "pw")
    assert "password" not in data
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o600
    assert f"Wrote {target}" in err and "chmod 600" in err
    assert "### coldtexts.timer" in out or ".plist" in out or ".xml" in out  # the snippet
    assert str(target) in out
    # The written file drives an export: the device resolves to its newest backup.
    options = merge(load_config(target), {})
    assert options.backup == backups / "UDID-ANNA"
    assert options.secrets.password_file == tmp_path / "pw"


@pytest.mark.parametrize(("drop", "option"), [
    ("--device", "--device"), ("--archive", "--archive"),
    ("--password-file", "--password-file FILE, --keyring or --password-env"),
])
def test_without_a_terminal_a_missing_answer_is_an_error(tmp_path: Path, backups: Path,
                                                         drop: str, option: str) -> None:
    given = {"--device": "Anna's iPhone", "--archive": str(tmp_path / "A"),
             "--password-file": str(tmp_path / "pw")}
    del given[drop]
    args = [x for kv in given.items() for x in kv]
    target = tmp_path / "config.toml"
    code, _, err = invoke("--config", str(target), "--backup-root", str(backups), *args)
    assert code == 2
    assert "No terminal to ask" in err and option in err
    assert not target.exists()


def test_an_existing_config_needs_force(tmp_path: Path, backups: Path) -> None:
    target = tmp_path / "config.toml"
    target.write_text("# mine\n", encoding="utf-8")
    args = ["--config", str(target), "--device", "X", "--archive", str(tmp_path / "A"),
            "--keyring", "--backup-root", str(backups)]
    code, _, err = invoke(*args)
    assert code == 2 and "--force" in err
    assert target.read_text("utf-8") == "# mine\n"
    code, _, err = invoke(*args, "--force")
    assert code == 0, err
    config = load_config(target)
    assert config is not None and config.keyring and config.remember_key == "keyring"
    assert "keyring set coldtexts password:X" in err


def test_two_password_sources_are_refused(tmp_path: Path, backups: Path) -> None:
    code, _, err = invoke("--config", str(tmp_path / "c.toml"), "--device", "X",
                          "--archive", str(tmp_path / "A"), "--keyring", "--password-env",
                          "--backup-root", str(backups))
    assert code == 2 and "--keyring and --password-env" in err


def test_on_a_terminal_it_asks(tmp_path: Path, backups: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(init_cmd, "can_prompt", lambda: True)
    target = tmp_path / "config.toml"
    # Device 2 of the list (Ben's), the archive folder, then the environment.
    answers = f"2\n{tmp_path / 'Archive'}\nenv\n"
    code, out, err = invoke("--config", str(target), "--backup-root", str(backups),
                            input=answers)
    assert code == 0, err
    assert "1. Anna's iPhone [UDID-ANNA], 2026-11-01" in err  # newest backup per device
    assert "2. Ben's iPhone [UDID-BEN]" in err
    assert "UDID-ANNA-OLD" not in err
    config = load_config(target)
    assert config is not None
    assert config.device == "UDID-BEN"
    assert config.archive == tmp_path / "Archive"
    assert (config.password_file, config.keyring) == (None, False)
    assert "COLDTEXTS_PASSWORD" in err
    assert str(target) in out  # the schedule snippet runs this config
