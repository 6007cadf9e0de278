"""Monthly scheduling snippets: launchd (macOS), systemd or cron (Linux), Task Scheduler.

Each is filled in with absolute paths (schedulers run with a bare PATH: "command not
found" is the commonest failure of scheduled jobs) and runs
`<python> -m coldtexts export --config <file>` on the 2nd of each month, after the
monthly backup. A missed run (computer asleep or off) runs at the next start.
The committed files in examples/schedule/ are these functions' output for EXAMPLES.
"""

from __future__ import annotations

import plistlib
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from coldtexts.config import Config

PLATFORMS = ("macos", "linux", "windows")
LAUNCHD_LABEL = "org.coldtexts.monthly"
TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    command: tuple[str, ...]  # absolute argv, e.g. (/usr/bin/python3, -m, coldtexts)
    config: str  # the config file's absolute path
    log: str  # where the scheduler appends stdout/stderr (the summary line)
    day: int = 2
    hour: int = 9
    minute: int = 30
    password_from_env: bool = False  # the config names no password source: env is used

    @property
    def argv(self) -> tuple[str, ...]:
        return (*self.command, "export", "--config", self.config)


def current_platform() -> str:
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    return "linux"


def coldtexts_command() -> tuple[str, ...]:
    """This very interpreter running coldtexts: absolute, and the install that works now."""
    return (str(Path(sys.executable).absolute()), "-m", "coldtexts")


def spec_for(config: Config, platform: str | None = None) -> ScheduleSpec:
    platform = platform or current_platform()
    config_path = config.source.absolute()
    if platform == "macos":
        log = Path.home() / "Library" / "Logs" / "coldtexts.log"
    else:
        log = config_path.parent / "scheduled-runs.log"
    env = not (config.password_file or config.key_file or config.keyring)
    return ScheduleSpec(command=coldtexts_command(), config=str(config_path), log=str(log),
                        password_from_env=env)


def render(spec: ScheduleSpec, platform: str) -> dict[str, str]:
    """File name -> content of the snippet(s) for `platform`."""
    if platform == "macos":
        return {f"{LAUNCHD_LABEL}.plist": launchd_plist(spec)}
    if platform == "linux":
        return {"coldtexts.service": systemd_service(spec),
                "coldtexts.timer": systemd_timer(spec),
                "crontab.txt": cron_line(spec)}
    if platform == "windows":
        return {"coldtexts-task.xml": task_scheduler_xml(spec)}
    raise ValueError(f"unknown platform {platform!r}; choose one of {', '.join(PLATFORMS)}")


def instructions(platform: str) -> str:
    """How to install what render() printed, for a person reading the terminal."""
    return {
        "macos": (
            f"Save as ~/Library/LaunchAgents/{LAUNCHD_LABEL}.plist, then run:\n"
            f"  launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/{LAUNCHD_LABEL}.plist\n"
            "Give the Python shown above Full Disk Access (System Settings > Privacy & "
            "Security) so it can read the backups folder."),
        "linux": (
            "Either save coldtexts.service and coldtexts.timer in ~/.config/systemd/user/ and "
            "run:\n  systemctl --user daemon-reload && systemctl --user enable --now "
            "coldtexts.timer\nor add the crontab.txt line with `crontab -e` (cron does not "
            "catch up a missed run; the systemd timer does)."),
        "windows": (
            "Save the XML with --output coldtexts-task.xml, then run:\n"
            "  schtasks /Create /TN \"coldtexts monthly\" /XML coldtexts-task.xml\n"
            "The task runs only while you are logged in, which keeps the keyring available."),
    }[platform]


# -- macOS ---------------------------------------------------------------------------------
def launchd_plist(spec: ScheduleSpec) -> str:
    agent: dict[str, object] = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": list(spec.argv),
        "StartCalendarInterval": {"Day": spec.day, "Hour": spec.hour, "Minute": spec.minute},
        "StandardOutPath": spec.log,
        "StandardErrorPath": spec.log,
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "RunAtLoad": False,
    }
    text = plistlib.dumps(agent, sort_keys=False).decode("utf-8")
    if spec.password_from_env:
        hint = ("<!-- The config names no password source. Do not put the password in this "
                "file: set password_file or keyring = true in the config instead. -->\n")
        text = text.replace("<plist ", hint + "<plist ", 1)
    return text


# -- Linux ---------------------------------------------------------------------------------
def _systemd_quote(arg: str) -> str:
    arg = arg.replace("%", "%%")  # systemd expands %h, %u… in ExecStart
    if arg and not any(c in arg for c in ' \t"\'\\;$'):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_service(spec: ScheduleSpec) -> str:
    env = ("# The config names no password source: put COLDTEXTS_PASSWORD=... in a 0600 file\n"
           "# and uncomment (or better, set password_file in the config):\n"
           "#EnvironmentFile=%h/.config/coldtexts/env\n") if spec.password_from_env else ""
    return (
        "[Unit]\n"
        "Description=coldtexts: archive Messages from the newest iPhone backup\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={' '.join(_systemd_quote(a) for a in spec.argv)}\n"
        f"{env}"
        "Nice=10\n"
        "IOSchedulingClass=idle\n"
    )


def systemd_timer(spec: ScheduleSpec) -> str:
    return (
        "[Unit]\n"
        "Description=Monthly coldtexts run (after the monthly iPhone backup)\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar=*-*-{spec.day:02d} {spec.hour:02d}:{spec.minute:02d}:00\n"
        "Persistent=true\n"
        "Unit=coldtexts.service\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )


def cron_line(spec: ScheduleSpec) -> str:
    # cron runs the line with /bin/sh; % ends the command in crontab unless escaped.
    command = " ".join(shlex.quote(a) for a in spec.argv).replace("%", "\\%")
    log = shlex.quote(spec.log).replace("%", "\\%")
    hint = ("# The config names no password source: set password_file in it (cron has no "
            "keyring session).\n") if spec.password_from_env else ""
    return (f"# coldtexts: monthly, on day {spec.day} at {spec.hour:02d}:{spec.minute:02d}\n"
            f"{hint}"
            f"{spec.minute} {spec.hour} {spec.day} * * {command} >> {log} 2>&1\n")


# -- Windows -------------------------------------------------------------------------------
def task_scheduler_xml(spec: ScheduleSpec) -> str:
    ET.register_namespace("", TASK_NS)
    task = ET.Element(_t("Task"), version="1.2")
    info = _sub(task, "RegistrationInfo")
    _sub(info, "Description", "coldtexts: archive Messages from the newest iPhone backup, "
                              "monthly after the backup.")
    trigger = _sub(_sub(task, "Triggers"), "CalendarTrigger")
    _sub(trigger, "StartBoundary", f"2025-01-{spec.day:02d}T{spec.hour:02d}:{spec.minute:02d}:00")
    _sub(trigger, "Enabled", "true")
    by_month = _sub(trigger, "ScheduleByMonth")
    _sub(_sub(by_month, "DaysOfMonth"), "Day", str(spec.day))
    months = _sub(by_month, "Months")
    for month in MONTHS:
        _sub(months, month)
    principal = _sub(_sub(task, "Principals"), "Principal", id="Author")
    _sub(principal, "LogonType", "InteractiveToken")
    _sub(principal, "RunLevel", "LeastPrivilege")
    settings = _sub(task, "Settings")
    for name, value in (("MultipleInstancesPolicy", "IgnoreNew"),
                        ("DisallowStartIfOnBatteries", "false"),
                        ("StopIfGoingOnBatteries", "false"),
                        ("StartWhenAvailable", "true"),
                        ("ExecutionTimeLimit", "PT12H"),
                        ("Priority", "7"),
                        ("Enabled", "true")):
        _sub(settings, name, value)
    execute = _sub(_sub(task, "Actions", Context="Author"), "Exec")
    _sub(execute, "Command", spec.argv[0])
    _sub(execute, "Arguments", subprocess.list2cmdline(spec.argv[1:]))
    _sub(execute, "WorkingDirectory", str(PureWindowsPath(spec.config).parent))
    ET.indent(task, "  ")
    body = ET.tostring(task, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-16"?>\n' + body + "\n"


def task_scheduler_bytes(xml_text: str) -> bytes:
    """The XML as schtasks reads it: UTF-16 with a byte order mark, as declared."""
    return xml_text.replace("\n", "\r\n").encode("utf-16")


def _t(name: str) -> str:
    return f"{{{TASK_NS}}}{name}"


def _sub(parent: ET.Element, name: str, text: str | None = None,
         **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, _t(name), attrs)
    if text is not None:
        element.text = text
    return element


# -- the committed examples ----------------------------------------------------------------
EXAMPLES: dict[str, ScheduleSpec] = {
    "macos": ScheduleSpec(
        command=("/usr/local/bin/python3", "-m", "coldtexts"),
        config="/Users/you/Library/Application Support/coldtexts/config.toml",
        log="/Users/you/Library/Logs/coldtexts.log"),
    "linux": ScheduleSpec(
        command=("/home/you/.local/pipx/venvs/coldtexts/bin/python", "-m", "coldtexts"),
        config="/home/you/.config/coldtexts/config.toml",
        log="/home/you/.config/coldtexts/scheduled-runs.log"),
    "windows": ScheduleSpec(
        command=("C:\\Users\\you\\AppData\\Local\\Programs\\Python\\Python312\\python.exe",
                 "-m", "coldtexts"),
        config="C:\\Users\\you\\AppData\\Roaming\\coldtexts\\config.toml",
        log="C:\\Users\\you\\AppData\\Roaming\\coldtexts\\scheduled-runs.log"),
}


def example_files() -> dict[str, bytes]:
    """examples/schedule/<name> -> bytes, exactly as committed."""
    files: dict[str, bytes] = {}
    for platform, spec in EXAMPLES.items():
        for name, text in render(spec, platform).items():
            data = (task_scheduler_bytes(text) if name.endswith(".xml")
                    else text.encode("utf-8"))
            files[name] = data
    return files
