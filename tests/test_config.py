"""The config file: parsing, refusals, defaults per platform, backup choice, merging."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from coldtexts.backup.locate import COMPLETE, IN_PROGRESS, BackupInfo
from coldtexts.config import (
    Config,
    config_text,
    default_config_path,
    load_config,
    merge,
    select_backup,
    write_config,
)
from coldtexts.errors import BackupIncompleteError, ConfigError, NotABackupError


def FakeBackup(path: Path, udid: str, name: str | None, last: datetime | None,
               state: str = COMPLETE, problem: str | None = None) -> BackupInfo:
    return BackupInfo(path=path, udid=udid, device_name=name, product_type="iPhone15,2",
                      ios_version="17.5", last_backup=last, encrypted=True, size_bytes=1,
                      state=state, problem=problem)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_full_file_is_parsed(tmp_path: Path) -> None:
    path = write(tmp_path, """
device = "Anna's iPhone"
backup_roots = ["~/Backups"]
archive = "~/Archives/Messages"
formats = ["HTML", "pdf", "html"]
timezone = "Europe/Paris"
since = 2020-01-01
until = "2024-12-31"
conversations = ["Mom", "+15551234567"]
max_backup_age_days = 40
password_file = "~/.config/coldtexts/password"
report = "/tmp/report.json"
""")
    config = load_config(path)
    assert config is not None
    home = Path.home()
    assert config.device == "Anna's iPhone"
    assert config.backup_roots == (home / "Backups",)
    assert config.archive == home / "Archives" / "Messages"
    assert config.formats == ("html", "pdf")
    assert (config.since, config.until) == (date(2020, 1, 1), date(2024, 12, 31))
    assert config.conversations == ("Mom", "+15551234567")
    assert config.max_backup_age_days == 40
    assert config.password_file == home / ".config" / "coldtexts" / "password"


@pytest.mark.parametrize("key", ["password", "Password", "passphrase"])
def test_a_password_in_the_file_is_refused_with_the_alternatives(tmp_path: Path,
                                                                  key: str) -> None:
    path = write(tmp_path, f'{key} = "hunter2"\narchive = "/a"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message and "password_file" in message and "keyring" in message
    assert "hunter2" not in message
    assert err.value.exit_code == 50


@pytest.mark.parametrize(("text", "fragment"), [
    ("archiv = '/a'", "unknown key 'archiv'"),
    ("archive = 'relative/folder'", "absolute path"),
    ("formats = ['docx']", "'docx' is not a format"),
    ("timezone = 'Mars/Olympus'", "not a time zone"),
    ("since = 'last year'", "2024-01-31"),
    ("max_backup_age_days = 0", "whole number of days"),
    ("keyring = 'yes'", "true or false"),
    ("archive = [", "not valid TOML"),
    ("backup = '/b'\ndevice = 'X'", "keep one"),
    ("since = 2024-01-02\nuntil = 2024-01-01", "'since' is after 'until'"),
])
def test_bad_values_name_the_file_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert fragment in str(err.value)
    assert str(path) in str(err.value)


def test_max_age_false_disables_the_warning(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "max_backup_age_days = false"))
    assert config is not None and config.max_backup_age_days is None


def test_missing_explicit_file_is_an_error_but_missing_default_is_none(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    assert load_config(None) is None


def test_default_file_is_read_from_xdg(tmp_path: Path) -> None:
    default = default_config_path()
    default.parent.mkdir(parents=True)
    default.write_text('archive = "/srv/a"\n', encoding="utf-8")
    config = load_config(None)
    assert config is not None and config.archive == Path("/srv/a")


def test_default_location_per_platform() -> None:
    assert default_config_path("linux", {"HOME": "/h", "XDG_CONFIG_HOME": "/x"}) == Path(
        "/x/coldtexts/config.toml")
    assert default_config_path("linux", {"HOME": "/h"}) == Path("/h/.config/coldtexts/config.toml")
    assert default_config_path("darwin", {"HOME": "/Users/a"}) == Path(
        "/Users/a/Library/Application Support/coldtexts/config.toml")
    win = default_config_path("win32", {"HOME": "/h", "APPDATA": "/appdata"})
    assert win == Path("/appdata/coldtexts/config.toml")


# -- select_backup -------------------------------------------------------------------------
def backups(tmp_path: Path) -> list[FakeBackup]:
    return [
        FakeBackup(tmp_path / "A1", "UDID-A", "Anna's iPhone", datetime(2024, 1, 2)),
        FakeBackup(tmp_path / "A2", "UDID-A2", "Anna's iPhone", datetime(2024, 3, 2)),
        FakeBackup(tmp_path / "A3", "UDID-A3", "Anna's iPhone", datetime(2024, 4, 2),
                   state=IN_PROGRESS, problem="backup in progress"),
        FakeBackup(tmp_path / "B", "UDID-B", "Ben's iPad", datetime(2024, 5, 1)),
    ]


def test_device_by_name_means_its_newest_complete_backup(tmp_path: Path) -> None:
    config = Config(source=tmp_path / "c.toml", device="anna's iphone")
    assert select_backup(config, backups(tmp_path)) == tmp_path / "A2"


def test_device_by_udid(tmp_path: Path) -> None:
    config = Config(source=tmp_path / "c.toml", device="UDID-A")
    assert select_backup(config, backups(tmp_path)) == tmp_path / "A1"


def test_unknown_or_unusable_device_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotABackupError, match="devices seen: Anna's iPhone, Ben's iPad"):
        select_backup(Config(source=tmp_path, device="Carl"), backups(tmp_path))
    with pytest.raises(BackupIncompleteError, match="backup in progress") as err:
        select_backup(Config(source=tmp_path, device="UDID-A3"), backups(tmp_path))
    assert err.value.exit_code == 11


# -- merge ---------------------------------------------------------------------------------
def test_command_line_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
backup = "{tmp_path / 'B'}"
archive = "{tmp_path / 'Archive'}"
formats = ["html"]
timezone = "Europe/Paris"
keyring = true
""")
    config = load_config(path)
    options = merge(config, {"formats": ("txt", "jsonl"), "archive": None,
                             "password_file": tmp_path / "pw"})
    assert options.backup == tmp_path / "B"
    assert options.archive == tmp_path / "Archive"
    assert options.formats == ("txt", "jsonl")
    assert options.timezone == "Europe/Paris"
    assert options.secrets.use_keyring is True
    assert options.secrets.password_file == tmp_path / "pw"


def test_merge_resolves_a_device_through_the_backups_given(tmp_path: Path) -> None:
    config = Config(source=tmp_path / "c.toml", device="Ben's iPad", archive=tmp_path / "A")
    options = merge(config, {}, backups=backups(tmp_path))
    assert options.backup == tmp_path / "B"
    assert options.max_backup_age_days == 45


def test_merge_without_an_archive_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--out FOLDER or set 'archive'"):
        merge(Config(source=tmp_path / "c.toml", backup=tmp_path), {})
    with pytest.raises(ConfigError, match="BACKUP folder or set 'backup'"):
        merge(None, {"archive": tmp_path})


def test_config_text_round_trips_awkward_values(tmp_path: Path) -> None:
    values: dict[str, object] = {
        "device": 'Anna\'s "work" iPhone \\ é 😀',
        "archive": str(tmp_path / 'Arch "ive"'),
        "formats": ["html", "txt"],
        "keyring": True,
        "since": date(2020, 2, 29),
        "max_backup_age_days": 30,
        "timezone": None,  # left out
    }
    target = tmp_path / "sub" / "config.toml"
    config = write_config(target, config_text(values, {"device": "whose backups"}))
    assert config.device == values["device"]
    assert config.archive == tmp_path / 'Arch "ive"'
    assert (config.formats, config.keyring, config.since) == (("html", "txt"), True,
                                                              date(2020, 2, 29))
    assert "timezone" not in target.read_text("utf-8")
    assert "# whose backups\ndevice = " in target.read_text("utf-8")
    assert load_config(target) == config


def test_write_config_refuses_what_load_would_refuse(tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    with pytest.raises(ConfigError, match="unknown key"):
        write_config(target, 'archiv = "/a"\n')
    assert not target.exists()


def test_the_committed_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "coldtexts.toml"
    config = load_config(example)
    assert config is not None
    assert config.device == "Anna's iPhone" and config.backup is None
    assert config.password_file == Path.home() / ".config" / "coldtexts" / "backup-password"
    assert config.formats == ("html", "pdf", "txt", "jsonl")


def test_a_backup_on_the_command_line_wins_over_the_configured_device(tmp_path: Path) -> None:
    config = Config(source=tmp_path / "c.toml", device="Nobody's phone", archive=tmp_path / "A",
                    backup_roots=(tmp_path / "no-such-root",))
    options = merge(config, {"backup": tmp_path / "given", "conversations": ()})
    assert options.backup == tmp_path / "given"  # the device was never looked up
    with pytest.raises(NotABackupError, match="Nobody's phone"):
        merge(config, {})  # looked up in the configured roots: nothing there
