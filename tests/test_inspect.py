"""`coldtexts inspect attributed-body` through the real CLI group."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from coldtexts.cli import cli
from coldtexts.fixtures.typedstream_writer import NSURLValue, encode_attributed_body


def test_prints_the_expected_shape(tmp_path: Path) -> None:
    blob = tmp_path / "body.bin"
    blob.write_bytes(encode_attributed_body("héllo 😀", [
        (6, {"__kIMMessagePartAttributeName": 0}),
        (2, {"__kIMLinkAttributeName": NSURLValue("https://e.x/")})]))
    result = CliRunner().invoke(cli, ["inspect", "attributed-body", str(blob)])
    assert result.exit_code == 0, result.output
    assert "😀" in result.output  # not \\u-escaped
    assert json.loads(result.output) == {
        "class": "NSMutableAttributedString", "text": "héllo 😀",
        "runs": [{"attributes": {"__kIMMessagePartAttributeName": 0}, "length": 6},
                 {"attributes": {"__kIMLinkAttributeName": {"url": "https://e.x/"}},
                  "length": 2}]}
    assert result.output.index('"class"') < result.output.index('"runs"')  # sorted keys


def test_matches_expected_json_for_real_blobs(realdata: Path) -> None:
    folder = realdata / "typedstream"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    for name in ("Mention", "Attachment", "EmojiBoldUnderline", "URL"):
        result = CliRunner().invoke(cli, ["inspect", "attributed-body", str(folder / name)])
        assert result.exit_code == 0
        assert json.loads(result.output) == expected[name]
        assert result.output.strip() == json.dumps(expected[name], sort_keys=True,
                                                   ensure_ascii=False)


def test_undecodable_blob_exits_51_with_one_line(tmp_path: Path) -> None:
    blob = tmp_path / "junk.bin"
    blob.write_bytes(b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84")
    result = CliRunner().invoke(cli, ["inspect", "attributed-body", str(blob)])
    assert result.exit_code == 51
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line]
    assert len(lines) == 1 and "cannot be decoded" in lines[0] and "truncated" in lines[0]


def test_not_an_attributed_string(realdata: Path) -> None:
    result = CliRunner().invoke(
        cli, ["inspect", "attributed-body", str(realdata / "typedstream" / "HugeWithRefs")])
    assert result.exit_code == 51 and "not an attributed string" in result.output


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["inspect", "attributed-body", str(tmp_path / "no")])
    assert result.exit_code == 2
