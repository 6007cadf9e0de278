"""`coldtexts verify` and `coldtexts status` through the real click group."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from coldtexts.cli import cli
from test_archive_factory import dataset, run_once


def _archive(tmp_path: Path) -> Path:
    root = tmp_path / "Archive"
    run_once(root, *dataset(2, 4))
    return root


def test_verify_passes_on_an_intact_archive(tmp_path: Path) -> None:
    root = _archive(tmp_path)
    result = CliRunner().invoke(cli, ["verify", str(root)])
    assert result.exit_code == 0, result.output
    assert "files match MANIFEST.sha256" in result.output


def test_verify_lists_problems_and_exits_31(tmp_path: Path) -> None:
    root = _archive(tmp_path)
    (root / "index.html").write_text("changed")
    (root / "conversations/Person 1/2019.txt").unlink()
    result = CliRunner().invoke(cli, ["verify", str(root)])
    assert result.exit_code == 31
    assert "changed: index.html" in result.output
    assert "missing: conversations/Person 1/2019.txt" in result.output
    assert "1 missing, 1 changed, 0 unexpected" in result.output


def test_verify_of_a_folder_that_is_no_archive(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["verify", str(tmp_path)])
    assert result.exit_code == 31
    assert "not a coldtexts archive" in result.output
    assert "Traceback" not in result.output


def test_status_in_words_and_json(tmp_path: Path) -> None:
    root = _archive(tmp_path)
    words = CliRunner().invoke(cli, ["status", str(root)])
    assert words.exit_code == 0, words.output
    assert "Conversations:  2" in words.output
    assert "Messages:       8 (2019-03-01 to 2019-03-01)" in words.output
    assert "Test iPhone (iOS 17.5, UDID-A)" in words.output
    assert "success" in words.output
    assert "Failed outputs: 0\n" in words.output
    raw = CliRunner().invoke(cli, ["status", str(root), "--json"])
    assert raw.exit_code == 0
    data = json.loads(raw.output)
    assert data["messages"] == 8 and data["last_run"]["outcome"] == "success"
    assert data["sources"][0]["udid"] == "UDID-A"
