"""A simulated year: twelve monthly backups of one phone (written with the project's backup
writer; each month new messages, last month's message edited, the message of three months
ago pruned from the phone) exported through the config file as unattended runs, with
the report, the exit codes, the warnings and the archive checked after each; plus the
months that go wrong (wrong password, unfinished backup, unencrypted, an older backup)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from coldtexts.cli import cli
from coldtexts.fixtures.backup_writer import BackupFile, write_backup
from coldtexts.fixtures.smsdb_builder import SmsDbBuilder

PASSWORD = "a-year-of-months-9c2e"
UDID = "00008110-00YEARYEARYEAR01"
MOM, ALEX = "+15555550101", "+15555550102"
NOW = datetime.now(UTC).replace(microsecond=0)
PER_MONTH = 4


def month_date(month: int) -> datetime:
    """Month 12 is this month; month 1 was eleven months ago."""
    return NOW - timedelta(days=30 * (12 - month))


def text_of(month: int, i: int) -> str:
    return f"month{month} note{i} zebra{month}x{i}"


def build_sms_db(path: Path, month: int) -> None:
    """The phone as backed up in `month`: messages of months 1..month, except that each
    month's note 0 is pruned three months later, and note 1 is edited the month after."""
    b = SmsDbBuilder(schema="ios18")
    mom, alex = b.handle(MOM), b.handle(ALEX)
    chats = (b.chat([mom]), b.chat([alex]))
    for m in range(1, month + 1):
        base = month_date(m) - timedelta(days=2)
        for i in range(PER_MONTH):
            if i == 0 and month - m >= 3:
                continue  # pruned from the phone
            when = base + timedelta(minutes=i)
            kwargs: dict[str, object] = {}
            text = text_of(m, i)
            if i == 1 and month > m:
                kwargs["edits"] = [(when, text), (when + timedelta(minutes=1), text + " edited")]
                text += " edited"
            b.message(chats[i % 2], date=when, text=text, guid=f"G-{m:02d}-{i}",
                      sender=mom if i % 2 == 0 else alex, **kwargs)  # type: ignore[arg-type]
    b.write(path)


def back_up(roots: Path, work: Path, month: int, *, password: str | None = PASSWORD,
            status: str = "finished", date: datetime | None = None) -> None:
    """Finder rewrites the same UDID folder every month."""
    build_sms_db(work / "sms.db", month)
    folder = roots / UDID
    shutil.rmtree(folder, ignore_errors=True)
    write_backup(folder, [BackupFile("HomeDomain", "Library/SMS/sms.db", work / "sms.db", 4)],
                 password=password, udid=UDID, device_name="Sam's iPhone",
                 backup_date=date or month_date(month), status=status, dpic=10, iterations=10)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def export(config: Path, report: Path) -> tuple[int, str, str, dict[str, object]]:
    report.unlink(missing_ok=True)
    code, out, err = run("export", "--config", str(config), "--formats", "txt,jsonl",
                         "--report", str(report))
    data = json.loads(report.read_text("utf-8")) if report.exists() else {}
    return code, out, err, data


def found(archive: Path, words: str) -> list[str]:
    code, out, err = run("search", str(archive), words, "--json", "--limit", "1000")
    assert code == 0, err
    return sorted(h["guid"] for h in json.loads(out))


def test_a_year_of_monthly_unattended_runs(tmp_path: Path) -> None:
    roots, work, archive = tmp_path / "Backup", tmp_path / "work", tmp_path / "Archive"
    work.mkdir()
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    config, report = tmp_path / "config.toml", tmp_path / "report.json"
    code, _, err = run("init", "--config", str(config), "--backup-root", str(roots),
                       "--device", "Sam's iPhone", "--archive", str(archive),
                       "--password-file", str(password_file))
    assert code == 0, err

    for month in range(1, 13):
        back_up(roots, work, month, password=None if month == 8 else PASSWORD)
        code, out, err, data = export(config, report)
        assert code == 0, (month, err)
        assert len(out.splitlines()) == 1 and out.startswith(
            f"coldtexts: archived {PER_MONTH} new messages in 2 conversations")
        totals = data["totals"]
        assert isinstance(totals, dict)
        expected = {"new": PER_MONTH, "edited": int(month >= 2),
                    "deleted_on_device": int(month >= 4), "attachments_missing": 0}
        assert {k: totals[k] for k in expected} == expected, month
        warnings = " ".join(data["warnings"])  # type: ignore[arg-type]
        assert ("days old" in warnings) is ((NOW - month_date(month)).days > 45), month
        assert ("not encrypted" in warnings) is (month == 8), month
        # Append-only: every message ever backed up is still searchable, pruned or not.
        assert len(found(archive, "zebra*")) == PER_MONTH * month
    assert found(archive, '"month1 note0"') == ["G-01-0"]  # pruned from the phone in month 4
    assert found(archive, "edited") == [f"G-{m:02d}-1" for m in range(1, 12)]

    # A month where things go wrong, one at a time, each with its own exit code.
    password_file.write_text("not the password\n", encoding="utf-8")
    code, out, err, data = export(config, report)
    # A failed unattended run still prints its one summary line, and says why on stderr.
    assert code == 20 and out.startswith("coldtexts: failed (exit 20)") and "\n" not in out[:-1]
    assert "password" in err.lower()
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")

    back_up(roots, work, 12, status="uploading", date=NOW)
    code, out, err, _ = export(config, report)
    assert code == 11 and out.startswith("coldtexts: failed (exit 11)") and "finish" in err

    back_up(roots, work, 6)  # an older backup than the newest archived
    code, out, err, data = export(config, report)
    assert code == 0, err
    assert out.startswith("coldtexts: archived 0 new messages")
    assert "older than the newest one already archived" in " ".join(data["warnings"])  # type: ignore[arg-type]
    assert len(found(archive, "zebra*")) == PER_MONTH * 12

    code, out, err = run("verify", str(archive))
    assert code == 0, err
