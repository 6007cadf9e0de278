"""The TOML configuration file: which backup, which archive, how the password arrives.

    backup_roots = ["~/Library/Application Support/MobileSync/Backup"]
    device = "Anna's iPhone"          # or a UDID, or: backup = "/path/to/<UDID>"
    archive = "~/Archives/Messages"
    formats = ["html", "pdf", "txt"]
    password_file = "~/.config/coldtexts/password"   # or key_file / keyring = true

The file never holds the password itself: a `password` key is refused with the reason.
Command-line options override the file (merge); a device named in the file means that
device's newest complete backup (select_backup).
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from coldtexts.backup.locate import COMPLETE
from coldtexts.errors import BackupIncompleteError, ConfigError, NotABackupError
from coldtexts.fsutil import atomic_write_text
from coldtexts.options import ALL_FORMATS, ExportOptions, SecretOptions

CONFIG_NAME = "config.toml"
APP_DIR = "coldtexts"

#: Keys that would put a secret in a plain file; refused with what to use instead.
SECRET_KEYS = frozenset({"password", "passphrase", "backup_password", "passwd", "pwd", "secret"})
PASSWORD_ADVICE = (
    "the config file must never hold the backup password; put it in a 0600 file named by "
    "password_file, save it in the OS keyring (keyring = true), or set COLDTEXTS_PASSWORD "
    "in the scheduled job's environment"
)


@dataclass(frozen=True, slots=True)
class Config:
    """A validated config file. Paths are expanded (~) and absolute."""

    source: Path  # the file it was read from, for messages
    backup: Path | None = None
    device: str | None = None  # a device name or UDID: its newest complete backup
    backup_roots: tuple[Path, ...] = ()
    archive: Path | None = None
    formats: tuple[str, ...] | None = None
    timezone: str | None = None
    owner_name: str | None = None
    since: date | None = None
    until: date | None = None
    conversations: tuple[str, ...] = ()
    max_backup_age_days: int | None = 45
    templates_dir: Path | None = None
    report: Path | None = None
    password_file: Path | None = None
    key_file: Path | None = None
    keyring: bool = False
    password_stdin: bool = False
    remember_key: str | None = None


class BackupLike(Protocol):
    """What select_backup reads of coldtexts.backup.locate.BackupInfo."""

    @property
    def path(self) -> Path: ...
    @property
    def udid(self) -> str: ...
    @property
    def device_name(self) -> str | None: ...
    @property
    def last_backup(self) -> datetime | None: ...
    @property
    def state(self) -> str: ...  # backup.locate's COMPLETE, IN_PROGRESS or DAMAGED
    @property
    def problem(self) -> str | None: ...


# -- where the file lives ------------------------------------------------------------------
def default_config_path(platform: str | None = None,
                        env: Mapping[str, str] | None = None) -> Path:
    """The per-user config file: XDG on Linux, Application Support on macOS, %APPDATA%."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or Path.home())
    if platform == "darwin":
        return home / "Library" / "Application Support" / APP_DIR / CONFIG_NAME
    if platform.startswith("win"):
        appdata = env.get("APPDATA")
        base = Path(appdata) if appdata else home / "AppData" / "Roaming"
        return base / APP_DIR / CONFIG_NAME
    xdg = env.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
    return base / APP_DIR / CONFIG_NAME


def system_zone_name() -> str:
    """The system's IANA zone name (the default for rendering and searching), else UTC."""
    key = getattr(datetime.now().astimezone().tzinfo, "key", None)
    if isinstance(key, str):
        return key
    tz = os.environ.get("TZ", "").lstrip(":")
    if "/" in tz and _is_zone(tz):
        return tz
    try:
        parts = Path("/etc/localtime").resolve().parts
    except OSError:
        parts = ()
    if "zoneinfo" in parts:
        name = "/".join(parts[parts.index("zoneinfo") + 1:])
        if _is_zone(name):
            return name
    return "UTC"


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# -- reading -------------------------------------------------------------------------------
def load_config(path: Path | None) -> Config | None:
    """Read `path`, or the default file when `path` is None (absent default: None).

    A path given explicitly must exist. Every problem is a ConfigError naming the file,
    the key and the fix.
    """
    explicit = path is not None
    file = Path(path).expanduser() if path is not None else default_config_path()
    if not file.is_file():
        if explicit:
            raise ConfigError(
                f"Config file {file} does not exist; check the path, or create one with "
                "`coldtexts init`."
            )
        return None
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file} is not valid TOML ({exc}); fix that line.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read config file {file} ({exc}); check it.") from exc
    return parse_config(data, file)


def parse_config(data: Mapping[str, Any], source: Path) -> Config:
    """Validate a parsed TOML table into a Config."""
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key.casefold() in SECRET_KEYS:
            raise ConfigError(f"{source}: key {key!r} refused: {PASSWORD_ADVICE}.")
        parser = _PARSERS.get(key)
        if parser is None:
            known = ", ".join(sorted(_PARSERS))
            raise ConfigError(
                f"{source}: unknown key {key!r}; remove it or use one of: {known}."
            )
        try:
            values[key] = parser(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: key {key!r}: {exc}.") from exc
    config = Config(source=source, **values)
    _check_consistency(config)
    return config


def _check_consistency(config: Config) -> None:
    where = config.source
    if config.backup is not None and config.device is not None:
        raise ConfigError(
            f"{where}: both 'backup' and 'device' are set; keep one (a backup folder, or the "
            "device whose newest backup to use)."
        )
    if config.since and config.until and config.since > config.until:
        raise ConfigError(f"{where}: 'since' is after 'until'; swap or fix the dates.")
    if config.password_stdin and (config.keyring or config.password_file or config.key_file):
        raise ConfigError(
            f"{where}: 'password_stdin' cannot be combined with another password source; "
            "keep one."
        )


# -- value parsers (each raises ValueError/TypeError with the fix) -------------------------
def _path(raw: object) -> Path:
    if not isinstance(raw, str) or not raw.strip():
        raise TypeError("expected a path as a non-empty string")
    path = Path(os.path.expandvars(raw)).expanduser()
    if not path.is_absolute():
        raise ValueError(f"{raw!r} is relative; write an absolute path (or start it with ~)")
    return path


def _text(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise TypeError("expected a non-empty string")
    return raw.strip()


def _bool(raw: object) -> bool:
    if not isinstance(raw, bool):
        raise TypeError("expected true or false")
    return raw


def _strings(raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise TypeError('expected a list of strings, e.g. ["Mom", "+15551234567"]')
    return tuple(x.strip() for x in raw)


def _paths(raw: object) -> tuple[Path, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise TypeError("expected a list of folder paths")
    return tuple(_path(x) for x in raw)


def _formats(raw: object) -> tuple[str, ...]:
    chosen = tuple(f.lower() for f in _strings(raw))
    unknown = [f for f in chosen if f not in ALL_FORMATS]
    if unknown or not chosen:
        raise ValueError(f"{unknown[0] if unknown else 'nothing'!r} is not a format; "
                         f"choose from {', '.join(ALL_FORMATS)}")
    return tuple(dict.fromkeys(chosen))


def _date(raw: object) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise ValueError("expected a date like 2024-01-31")


def _zone(raw: object) -> str:
    name = _text(raw)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not a time zone; use an IANA name such as "
                         "'Europe/Paris'") from exc
    return name


def _max_age(raw: object) -> int | None:
    if raw is False:
        return None  # the age warning switched off
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ValueError("expected a whole number of days (1 or more), or false to disable")
    return raw


def _remember(raw: object) -> str:
    value = _text(raw)
    if value not in ("keyring", "file"):
        raise ValueError("expected \"keyring\" or \"file\"")
    return value


_PARSERS: dict[str, Callable[[object], Any]] = {
    "backup": _path,
    "device": _text,
    "backup_roots": _paths,
    "archive": _path,
    "formats": _formats,
    "timezone": _zone,
    "owner_name": _text,
    "since": _date,
    "until": _date,
    "conversations": _strings,
    "max_backup_age_days": _max_age,
    "templates_dir": _path,
    "report": _path,
    "password_file": _path,
    "key_file": _path,
    "keyring": _bool,
    "password_stdin": _bool,
    "remember_key": _remember,
}


# -- writing (coldtexts init) -------------------------------------------------------------
def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | date):
        return str(value) if not isinstance(value, datetime) else value.date().isoformat()
    if isinstance(value, str | Path):
        # JSON string escapes (\\, \", \n, \uXXXX) are valid TOML basic-string escapes.
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to the config file")


def config_text(values: Mapping[str, object], comments: Mapping[str, str] | None = None) -> str:
    """TOML for `values` (keys as in the file), one key a line, each with its comment."""
    comments = comments or {}
    lines = ["# coldtexts configuration (see `coldtexts init --help` and the README).",
             "# It never holds the backup password: see password_file / keyring below.", ""]
    for key, value in values.items():
        if key not in _PARSERS:
            raise ValueError(f"unknown config key {key!r}")
        if value is None:
            continue
        if key in comments:
            lines.append(f"# {comments[key]}")
        lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def write_config(path: Path, text: str) -> Config:
    """Validate `text` as a config, then write it atomically, owner-only (0600)."""
    config = parse_config(tomllib.loads(text), path)
    atomic_write_text(path, text)
    return config


# -- choosing the backup -------------------------------------------------------------------
def select_backup(config: Config, backups: Sequence[BackupLike]) -> Path:
    """The configured backup: its folder, or the named device's newest complete backup."""
    if config.backup is not None:
        return config.backup
    if config.device is None:
        raise NotABackupError(
            f"{config.source} names no backup; add backup = \"<folder>\" or "
            "device = \"<name or UDID>\" (see `coldtexts backups`)."
        )
    wanted = config.device.casefold()
    mine = [b for b in backups
            if wanted in (b.udid.casefold(), (b.device_name or "").casefold())]
    if not mine:
        seen = ", ".join(sorted({b.device_name or b.udid for b in backups})) or "none"
        raise NotABackupError(
            f"No backup of {config.device!r} was found (devices seen: {seen}); make a local "
            "backup in Finder or Apple Devices, or fix 'device' in the config."
        )
    usable = [b for b in mine if b.state == COMPLETE and b.last_backup is not None]
    if not usable:
        raise BackupIncompleteError(
            f"No complete backup of {config.device!r} ({mine[0].problem or 'no date'}); "
            "let the backup finish in Finder or Apple Devices, then run again."
        )
    return max(usable, key=lambda b: b.last_backup or datetime.min).path


# -- merging with the command line ---------------------------------------------------------
_SECRET_FIELDS = {f.name for f in fields(SecretOptions)}
_EXPORT_FIELDS = {f.name for f in fields(ExportOptions)}


def merge(config: Config | None, cli_overrides: Mapping[str, object], *,
          backups: Sequence[BackupLike] | None = None) -> ExportOptions:
    """ExportOptions from the file, with every command-line value that was given (not None)
    taking precedence. `backups` (find_backups' result) is needed only when the file names
    a device and the command line gives no backup; when omitted it is looked up."""
    given = {k: v for k, v in cli_overrides.items() if v is not None and v != ()}
    unknown = set(given) - _EXPORT_FIELDS - _SECRET_FIELDS
    if unknown:
        raise ValueError(f"unknown override(s): {sorted(unknown)}")  # a programming error
    values = _from_file(config, given, backups) if config else {}
    values.update({k: v for k, v in given.items() if k in _EXPORT_FIELDS and k != "secrets"})
    secrets = _secrets_from_file(config)
    secret_overrides: dict[str, Any] = {k: v for k, v in given.items() if k in _SECRET_FIELDS}
    secrets = replace(secrets, **secret_overrides)
    if isinstance(given.get("secrets"), SecretOptions):
        secrets = given["secrets"]  # type: ignore[assignment]
    hints = {"backup": "give the BACKUP folder", "archive": "pass --out FOLDER"}
    for required, hint in hints.items():
        if required not in values:
            raise ConfigError(
                f"No {required} given; {hint} or set '{required}' in the config file "
                f"({config.source if config else default_config_path()})."
            )
    return ExportOptions(secrets=secrets, **values)


def _from_file(config: Config, given: Mapping[str, object],
               backups: Sequence[BackupLike] | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "backup" not in given and (config.backup or config.device):
        if config.device and backups is None:
            backups = _find_backups(config.backup_roots)
        values["backup"] = select_backup(config, backups or [])
    simple = {"archive": config.archive, "formats": config.formats,
              "timezone": config.timezone, "owner_name": config.owner_name,
              "since": config.since, "until": config.until,
              "conversations": config.conversations or None,
              "templates_dir": config.templates_dir, "report_path": config.report}
    values.update({k: v for k, v in simple.items() if v is not None})
    values["max_backup_age_days"] = config.max_backup_age_days
    return values


def _secrets_from_file(config: Config | None) -> SecretOptions:
    if config is None:
        return SecretOptions()
    remember = config.remember_key if config.remember_key in ("keyring", "file") else None
    return SecretOptions(
        password_file=config.password_file, key_file=config.key_file,
        use_keyring=config.keyring, password_stdin=config.password_stdin,
        remember_key=remember,  # type: ignore[arg-type]
    )


def _find_backups(roots: Sequence[Path]) -> Sequence[BackupLike]:
    """The configured roots only, or the platform's usual folders when none are set."""
    from coldtexts.backup.locate import find_backups  # the backup stage, imported late

    return find_backups(list(roots), include_defaults=not roots)
