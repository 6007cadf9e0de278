"""Shared helpers for the benchmark scripts: machine facts, isolated stage runs, tables.

Peak memory must be per stage, and ru_maxrss is a high-water mark that never goes down
within a process, so every measured stage runs in a fresh Python process
(`run_isolated`). The child imports the named function, times it, reads its own peak RSS
and its children's (worker processes), and hands back one JSON line.

    from _common import run_isolated
    m = run_isolated("bench_kdf:pbkdf2_hashlib", {"password": "x", ...})
    m.seconds, m.peak_rss_mb, m.result
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import resource
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULT_MARKER = "@@coldtexts-bench-result@@"
PROFILE_ENV = "COLDTEXTS_BENCH_PROFILE"  # a folder: profile every isolated stage into it
PROFILE_LABEL_ENV = "COLDTEXTS_BENCH_PROFILE_LABEL"


@dataclass(slots=True)
class Measurement:
    """One stage measured in its own process."""

    seconds: float
    peak_rss_mb: float  # the stage's own process
    children_peak_rss_mb: float  # the largest single worker process it started, if any
    result: dict[str, Any] = field(default_factory=dict)


def run_isolated(target: str, kwargs: dict[str, Any], *, timeout: float | None = None,
                 env: dict[str, str] | None = None) -> Measurement:
    """Run `module:function(**kwargs)` from benchmarks/ in a fresh process and measure it."""
    command = [sys.executable, str(Path(__file__).resolve()), target, json.dumps(kwargs)]
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        [str(BENCH_DIR), str(REPO_ROOT / "src"), child_env.get("PYTHONPATH", "")])
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env=child_env, check=False)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            payload = json.loads(line[len(RESULT_MARKER):])
            return Measurement(**payload)
    raise RuntimeError(f"{target} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")


def _child_main(target: str, raw_kwargs: str) -> None:
    module_name, function_name = target.split(":")
    function: Callable[..., dict[str, Any] | None] = getattr(
        importlib.import_module(module_name), function_name)
    kwargs = json.loads(raw_kwargs)
    profile_dir = os.environ.get(PROFILE_ENV)
    profiler = None
    if profile_dir:  # pyinstrument: where the stage's time goes (adds a little overhead)
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    start = time.perf_counter()
    result = function(**kwargs) or {}
    seconds = time.perf_counter() - start
    if profiler is not None and profile_dir:
        profiler.stop()
        folder = Path(profile_dir)
        folder.mkdir(parents=True, exist_ok=True)
        label = os.environ.get(PROFILE_LABEL_ENV) or function_name
        (folder / f"{label}.txt").write_text(profiler.output_text(unicode=True, color=False))
    payload = Measurement(
        seconds=result.pop("seconds", seconds), peak_rss_mb=peak_rss_mb(),
        children_peak_rss_mb=peak_rss_mb(children=True), result=result)
    print(RESULT_MARKER + json.dumps(asdict(payload)), flush=True)


def peak_rss_mb(*, children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    peak = resource.getrusage(who).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def timed(function: Callable[[], object], *, repeat: int = 1) -> float:
    """Best wall time of `repeat` calls, in seconds (best-of damps a noisy machine)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def machine_info() -> dict[str, Any]:
    """CPU, memory and the versions that decide the figures (OpenSSL, WeasyPrint...)."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "openssl": ssl.OPENSSL_VERSION,
        "cores": os.cpu_count(),
    }
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        text = cpuinfo.read_text(errors="replace")
        for line in text.splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                      if line.startswith("flags")), [])
        info["cpu_flags"] = {name: name in flags for name in ("aes", "sha_ni", "avx2", "vaes")}
    else:
        info["cpu"] = platform.processor()
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        first = meminfo.read_text().splitlines()[0].split()
        info["ram_gb"] = round(int(first[1]) / 1024 / 1024, 1)
    info["packages"] = {name: _version(name) for name in (
        "weasyprint", "cryptography", "pillow", "pillow-heif", "pycryptodome",
        "iphone-backup-decrypt", "iOSbackup", "pytypedstream", "msgspec", "pydyf")}
    return info


def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def markdown_table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


if __name__ == "__main__":
    _child_main(sys.argv[1], sys.argv[2])
