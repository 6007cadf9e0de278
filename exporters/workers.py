"""Worker pools that end with the run that started them.

Pools start their workers through multiprocessing's forkserver (spawn on Windows), not
fork: a forked worker would inherit the archive lock's descriptor and keep the archive
locked after its parent died. The workers' parent is then the forkserver, not the
export, and when the export was killed outright (SIGKILL: a scheduler's timeout, the OOM
killer) its workers were seen to stay behind, a PDF worker holding hundreds of MB, until
the machine restarted. So each worker watches the process that made its pool (through
multiprocessing's own parent sentinel, on every platform), and exits once it is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.process import BaseProcess


def new_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool of `workers` that exit when this process does, however it ends."""
    context = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_watch_parent)


class LazyPool:
    """A pool from new_pool, started on first use (many runs never need one) and shut
    down by close(), which leaves it ready to start afresh."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    @property
    def started(self) -> bool:
        return self._pool is not None

    def executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = new_pool(self.workers)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _watch_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True,
                         name="coldtexts-watch-parent").start()


def _exit_with(parent: BaseProcess) -> None:
    parent.join()  # returns when the run's process has ended, however it ended
    os._exit(1)  # nothing will collect this worker's results
