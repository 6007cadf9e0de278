"""The monthly flow through the CLI: init writes the config, export runs from it without a
terminal (one summary line, report, private log free of the password and message text),
search finds what was archived, and a second run adds nothing."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from coldtexts.cli import cli
from coldtexts.fixtures.backup_writer import BackupFile, write_backup
from coldtexts.fixtures.smsdb_builder_showcase import build_showcase_database

PASSWORD = "monthly-test-password-7f3a"
UDID = "00008110-00AABBCCDDEEFF01"
TEXT = "Good morning sweetheart! Are you coming for dinner on Sunday?"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("monthly")
    build_showcase_database(base / "sms.db", "ios18")
    roots = base / "Backup"
    # No attachment files in the backup: the run is a partial success (exit 3).
    write_backup(roots / UDID, [BackupFile("HomeDomain", "Library/SMS/sms.db",
                                           base / "sms.db", 4)],
                 password=PASSWORD, udid=UDID, device_name="Sam's iPhone",
                 backup_date=datetime.now(UTC).replace(microsecond=0), dpic=10, iterations=10)
    password_file = base / "password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    return {"base": base, "roots": roots, "password": password_file,
            "config": base / "conf" / "config.toml", "archive": base / "Archive"}


def cli_run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_init_then_unattended_exports_then_search(setup: dict[str, Path]) -> None:
    config, archive = str(setup["config"]), setup["archive"]
    code, _, err = cli_run("init", "--config", config, "--backup-root", str(setup["roots"]),
                           "--device", "Sam's iPhone", "--archive", str(archive),
                           "--password-file", str(setup["password"]))
    assert code == 0, err

    report_path = setup["base"] / "report.json"
    code, out, err = cli_run("export", "--config", config, "--formats", "txt,jsonl",
                             "--report", str(report_path))
    assert code == 3, err  # partial: the backup holds no attachment files
    [line] = out.splitlines()  # one summary line on stdout
    assert line.startswith("coldtexts: archived ") and " new messages in 4 conversations" in line
    report = json.loads(report_path.read_text("utf-8"))
    assert report["exit_code"] == code and report["totals"]["new"] > 10
    assert report["backup"] == str(setup["roots"] / UDID)
    assert {"unlock", "ingest", "render", "render txt", "render jsonl"} <= set(report["timings"])
    assert "render html" not in report["timings"]  # only the formats asked for
    assert report["timings"]["render txt"] <= report["timings"]["render"]
    assert report["totals"]["attachments_missing"] > 0
    assert f"{report['totals']['attachments_missing']} attachments missing" in line

    [log] = (archive / "logs").iterdir()
    raw = log.read_bytes()
    assert PASSWORD.encode() not in raw and b"sweetheart" not in raw
    if os.name == "posix":
        assert log.stat().st_mode & 0o777 == 0o600

    code, out, err = cli_run("search", str(archive), "sweetheart", "--timezone", "UTC")
    assert code == 0, err
    assert "[sweetheart]" in out and "conversations/" in out and ".html#m-" in out

    code, out, err = cli_run("export", "--config", config, "--formats", "txt,jsonl")
    assert code == 3, err
    assert out.startswith("coldtexts: archived 0 new messages")
