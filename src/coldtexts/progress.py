"""Progress on a terminal (rich), nothing at all otherwise.

The pipeline only knows this small interface:

    with Progress.open(enabled=sys.stderr.isatty()) as progress:
        with progress.stage("unlock") as s:                    # a spinner
            ...
        with progress.stage("decrypt", total=n_bytes, unit="bytes") as s:
            s.advance(len(chunk))                               # bytes with rate
        with progress.stage("render", total=n_outputs, unit="pages") as s:
            s.describe("Mom 2019"); s.advance()                 # with ETA
            archive.render(..., progress=s.update)              # or absolute (done, total)

When disabled (cron, launchd, a pipe) every call is a no-op (Null Object), so the
pipeline never asks "is there a terminal?" itself. Progress goes to stderr: stdout is
kept for the one summary line.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from types import TracebackType
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as RichProgress

LABELS = {
    "unlock": "Unlocking the backup",
    "decrypt": "Decrypting",
    "read": "Reading messages",
    "ingest": "Archiving messages",
    "attachments": "Storing attachments",
    "render": "Rendering",
    "manifest": "Writing the manifest",
}


class Stage(Protocol):
    def advance(self, n: int = 1) -> None: ...
    def describe(self, text: str) -> None: ...
    def set_total(self, total: int | None) -> None: ...
    def update(self, completed: int, total: int | None = None) -> None: ...
    def __enter__(self) -> Stage: ...
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class ProgressDisplay(Protocol):
    def stage(self, name: str, total: int | None = None, unit: str = "items") -> Stage: ...


class Progress:
    """The entry point: `with Progress.open(enabled) as progress: ...`."""

    @staticmethod
    @contextlib.contextmanager
    def open(enabled: bool, console: Console | None = None) -> Iterator[ProgressDisplay]:
        """A terminal progress display when `enabled`, else the silent one."""
        if not enabled:
            yield NullProgress()
            return
        display = RichDisplay(console or Console(file=sys.stderr))
        with display:
            yield display


def wants_progress(stream: TextIO | None = None, quiet: bool = False) -> bool:
    """Progress only for a person watching: stderr is a terminal and not --quiet."""
    stream = sys.stderr if stream is None else stream
    try:
        return not quiet and stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


# -- the silent one ------------------------------------------------------------------------
class NullStage:
    def advance(self, n: int = 1) -> None:
        pass

    def describe(self, text: str) -> None:
        pass

    def set_total(self, total: int | None) -> None:
        pass

    def update(self, completed: int, total: int | None = None) -> None:
        pass

    def __enter__(self) -> NullStage:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        pass


class NullProgress:
    def stage(self, name: str, total: int | None = None, unit: str = "items") -> NullStage:
        return NullStage()


# -- rich ----------------------------------------------------------------------------------
class RichStage:
    def __init__(self, bar: RichProgress, task: TaskID, label: str) -> None:
        self._bar = bar
        self._task = task
        self._label = label

    def advance(self, n: int = 1) -> None:
        self._bar.advance(self._task, n)

    def describe(self, text: str) -> None:
        # Only names the user already sees (conversation folder, volume); never text.
        self._bar.update(self._task, description=f"{self._label}: {text}")

    def set_total(self, total: int | None) -> None:
        self._bar.update(self._task, total=total)

    def update(self, completed: int, total: int | None = None) -> None:
        """Absolute progress, e.g. Archive.render's progress(done, total) callback."""
        if total is None:
            self._bar.update(self._task, completed=completed)
        else:
            self._bar.update(self._task, completed=completed, total=total)

    def __enter__(self) -> RichStage:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        task = self._bar.tasks[self._bar.task_ids.index(self._task)]
        if exc_type is None and task.total is None:
            self._bar.update(self._task, total=task.completed or 1,
                             completed=task.completed or 1)
        self._bar.stop_task(self._task)


class RichDisplay:
    """One rich Progress per stage kind, so each shows the columns that suit it."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._bar: RichProgress | None = None

    def __enter__(self) -> RichDisplay:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._close_bar()

    def stage(self, name: str, total: int | None = None, unit: str = "items") -> RichStage:
        self._close_bar()
        self._bar = RichProgress(*_columns(total, unit), console=self._console,
                                 transient=False)
        self._bar.start()
        label = LABELS.get(name, name.capitalize())
        task = self._bar.add_task(label, total=total)
        return RichStage(self._bar, task, label)

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _columns(total: int | None, unit: str) -> list[ProgressColumn]:
    """A spinner for a step with nothing to count (unlock); bytes with a rate for
    decryption; a count with ETA otherwise (the total may arrive later, via update)."""
    label = TextColumn("[progress.description]{task.description}")
    if total is None and unit == "items":
        return [SpinnerColumn(), label, TimeElapsedColumn()]
    if unit == "bytes":
        return [label, BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                TimeRemainingColumn()]
    return [label, BarColumn(), MofNCompleteColumn(), TextColumn(unit),
            TimeRemainingColumn()]
