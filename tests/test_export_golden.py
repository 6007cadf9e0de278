"""Golden files: the showcase conversation (every message kind) in every text format.

A change in wording, markup or layout shows here as a diff to review. After an intended
change, rewrite them with `COLDTEXTS_UPDATE_GOLDEN=1 pytest tests/test_export_golden.py`
and read the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from coldtexts.exporters.html import HtmlExporter

from coldtexts import __version__
from export_support import render, showcase_archive

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("COLDTEXTS_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    volumes, ctx = showcase_archive(tmp_path_factory.mktemp("archive"))
    found: dict[str, bytes] = {}
    for name in ("txt", "jsonl", "html"):
        for path, data in render(name, volumes, ctx).items():
            found[path.replace("conversations/", "").replace("/", "-")] = data
    html = HtmlExporter()
    found["index.html"] = html.render_site_index([volumes[0].conversation], ctx)
    found["family-index.html"] = html.render_conversation_index(volumes[0].conversation, ctx)
    # The tool's version is in every page's colophon; a release must not change goldens.
    version = f"coldtexts {__version__}".encode()
    return {name: data.replace(version, b"coldtexts VERSION") for name, data in found.items()}


NAMES = ["family-transcript.txt", "family-messages.jsonl", "family-2024.html",
         "family-2025.html", "index.html", "family-index.html"]


def test_every_output_has_a_golden_file(outputs: dict[str, bytes]) -> None:
    assert sorted(outputs) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_output_matches_its_golden_file(outputs: dict[str, bytes], name: str) -> None:
    golden = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_bytes(outputs[name])
        pytest.skip(f"rewrote {golden.name}")
    assert golden.is_file(), f"missing {golden}; run with COLDTEXTS_UPDATE_GOLDEN=1"
    assert outputs[name].decode("utf-8") == golden.read_text("utf-8")
