"""Shared fixtures: isolation (time zone, environment, HOME) and the real-data folder."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REALDATA = REPO_ROOT.parent / "shared" / "realdata"


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Pin the time zone and keep every test away from the user's real state."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in list(os.environ):
        if name.startswith("COLDTEXTS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    yield
    time.tzset()


@pytest.fixture
def realdata() -> Path:
    """The ../shared/realdata folder; skips the test when it is absent (a fresh clone)."""
    if not REALDATA.is_dir():
        pytest.skip(f"real-device data folder {REALDATA} is absent")
    return REALDATA
