"""Render worker pools end with the run that started them, even when it is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = """
import json, time
from coldtexts.exporters.workers import new_pool
pool = new_pool(2)
for job in [pool.submit(time.sleep, 0.3) for _ in range(2)]:  # both workers busy at once
    job.result()
print(json.dumps(sorted(pool._processes)), flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:  # gone, or a zombie nobody has reaped yet
        return " Z " not in Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False


@pytest.mark.skipif(os.name != "posix" or not Path("/proc").is_dir(), reason="POSIX, /proc")
def test_workers_exit_when_the_run_is_killed() -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    workers = json.loads(child.stdout.readline())
    assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    child.send_signal(signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)
