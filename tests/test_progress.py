"""Progress: rich output on a terminal, nothing at all when disabled."""

from __future__ import annotations

import io

import pytest

from coldtexts.progress import NullProgress, Progress, RichStage, wants_progress


def terminal() -> tuple[io.StringIO, object]:
    from rich.console import Console

    buffer = io.StringIO()
    return buffer, Console(file=buffer, force_terminal=True, width=120, color_system=None)


def run_stages(progress: object) -> None:
    with progress.stage("unlock") as s:  # type: ignore[attr-defined]
        s.advance()
    with progress.stage("decrypt", total=4_000_000, unit="bytes") as s:  # type: ignore[attr-defined]
        s.advance(1_000_000)
        s.advance(3_000_000)
    with progress.stage("ingest", total=3, unit="messages") as s:  # type: ignore[attr-defined]
        s.advance(3)
    with progress.stage("render", unit="pages") as s:  # type: ignore[attr-defined]
        s.describe("Mom 2019")
        s.update(2, 5)
        s.update(5)


def test_terminal_shows_every_stage_with_its_numbers() -> None:
    buffer, console = terminal()
    with Progress.open(True, console) as progress:  # type: ignore[arg-type]
        assert not isinstance(progress, NullProgress)
        run_stages(progress)
    out = buffer.getvalue()
    assert "Unlocking the backup" in out
    assert "Decrypting" in out and "4.0/4.0 MB" in out
    assert "Archiving messages" in out and "3/3 messages" in out
    assert "Rendering: Mom 2019" in out and "5/5 pages" in out


def test_disabled_progress_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress.open(False) as progress:
        assert isinstance(progress, NullProgress)
        run_stages(progress)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_a_failing_stage_still_closes_the_display() -> None:
    buffer, console = terminal()
    with (pytest.raises(RuntimeError), Progress.open(True, console) as progress,  # type: ignore[arg-type]
          progress.stage("ingest", total=10, unit="messages") as s):
        assert isinstance(s, RichStage)
        s.advance(4)
        raise RuntimeError("boom")
    assert "4/10 messages" in buffer.getvalue()


def test_progress_only_for_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert wants_progress(Tty()) is True
    assert wants_progress(Tty(), quiet=True) is False
    assert wants_progress(io.StringIO()) is False
