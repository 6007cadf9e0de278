"""The per-run log file: private, in logs/, and free of the password and message text."""

from __future__ import annotations

import logging
import os
import re
from datetime import datetime
from pathlib import Path

import pytest

from coldtexts.errors import WrongPasswordError
from coldtexts.runlog import redact_active, run_log
from test_archive_factory import conversation, message, run_once

PASSWORD = "correct horse battery staple 42!"
TEXT = "The spare key is under the blue flowerpot"


def logged_flow(root: Path) -> Path:
    """An export through the archive with a careless logger: the log must stay clean."""
    mom = conversation(1, name="Mom")
    secret_message = message("GUID-SECRET-1", mom, 0, TEXT)
    log = logging.getLogger("coldtexts.pipeline")
    root.mkdir()
    run_once(root, [mom], [secret_message])  # a real archive first (logs/ goes inside it)
    with pytest.raises(WrongPasswordError), run_log(root) as run:
        run.redact(PASSWORD, PASSWORD.encode("utf-8"))
        log.info("unlocking with %s", PASSWORD)
        log.info("options %r", {"password": PASSWORD})
        log.info("ingested %s and %r", secret_message, secret_message)
        log.info(secret_message)  # type: ignore[arg-type]
        log.info("key bytes %s", PASSWORD.encode("utf-8").hex())
        logging.getLogger("weasyprint").warning("layout of %s", TEXT)  # third party: left out
        try:
            raise WrongPasswordError(f"wrong password {PASSWORD!r}")
        except WrongPasswordError:
            log.exception("unlock failed")
            raise
    [path] = (root / "logs").iterdir()
    return path


def test_the_log_never_holds_the_password_or_message_text(tmp_path: Path) -> None:
    path = logged_flow(tmp_path / "Archive")
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    for forbidden in (PASSWORD, TEXT, PASSWORD.encode().hex(), "flowerpot", "horse battery"):
        assert forbidden.encode("utf-8") not in raw, forbidden
    assert "unlocking with [redacted]" in text
    assert "<Message GUID-SECRET-1>" in text
    assert "Traceback" in text and "WrongPasswordError" in text  # the traceback is kept
    assert "run ended by WrongPasswordError" in text


def test_log_file_name_place_and_mode(tmp_path: Path) -> None:
    root = tmp_path / "Archive"
    when = datetime(2024, 6, 2, 3, 4, 5)
    with run_log(root, now=when) as first, run_log(root, now=when) as second:
        logging.getLogger("coldtexts.x").warning("hello %d", 7)
    assert first.path == root / "logs" / "2024-06-02T030405.log"
    assert second.path.name == "2024-06-02T030405-2.log"
    body = first.path.read_text("utf-8")
    assert re.search(r"WARNING coldtexts\.x: hello 7", body)
    assert body.splitlines()[0].endswith(
        f"INFO coldtexts: coldtexts {__import__('coldtexts').__version__}, Python "
        f"{__import__('platform').python_version()}, "
        f"{__import__('platform').platform(terse=True)}")
    if os.name == "posix":
        assert first.path.stat().st_mode & 0o777 == 0o600
        assert (root / "logs").stat().st_mode & 0o777 == 0o700


def test_handler_is_removed_after_the_run(tmp_path: Path) -> None:
    with run_log(tmp_path / "A") as run:
        pass
    logging.getLogger("coldtexts.late").warning("after the run")
    assert "after the run" not in run.path.read_text("utf-8")


def test_redact_active_reaches_the_open_log_only(tmp_path: Path) -> None:
    with run_log(tmp_path / "A") as run:
        redact_active(PASSWORD)  # as the password reader would, without the RunLog
        logging.getLogger("coldtexts.backup").warning("read %s", PASSWORD)
    assert PASSWORD not in run.path.read_text("utf-8")
    assert "read [redacted]" in run.path.read_text("utf-8")
    redact_active("no log open: nothing to do")  # must not fail
