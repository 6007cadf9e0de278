"""`coldtexts search`: safe FTS5 queries, filters, the page of each hit, JSON output."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from coldtexts.cli import cli
from coldtexts.search import EmptyQueryError, fts_query
from test_archive_factory import conversation, message, run_once


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("search") / "Archive"
    mom, dad = conversation(1, name="Mom"), conversation(2)
    run_once(root, [mom, dad], [
        message("a", mom, 0, "The birthday cake is in the fridge"),
        message("b", mom, 10, "cake recipe please: (grandma's)", from_me=True),
        message("c", dad, 20, "Birthday plans for Sunday"),
        message("d", dad, 60 * 24 * 400, "another birthday next year"),
        message("e", dad, 60 * 24 * 401, "pie or cake? NOT sure"),
    ])
    return root


@pytest.mark.parametrize(("typed", "expected"), [
    ("birthday cake", '"birthday" "cake"'),
    ('"birthday cake"', '"birthday cake"'),
    ("birth*", '"birth"*'),
    ('"birthday ca"*', '"birthday ca"*'),
    ("cake OR pie", '"cake" OR "pie"'),
    ("cake AND NOT pie", '"cake" NOT "pie"'),
    ("cake OR", '"cake"'),
    ("NOT cake", '"cake"'),
    ("OR", '"OR"'),
    ('say "hi', '"say" "hi"'),
    ("text:cake", '"text:cake"'),
    ('a"b', '"ab"'),
    ("cake\x00pie", '"cake" "pie"'),
    ("caf\udce9", '"caf\ufffd\ufffd\ufffd"'),  # an undecodable argv byte
])
def test_fts_query(typed: str, expected: str) -> None:
    assert fts_query(typed) == expected


@pytest.mark.parametrize("typed", ["", "   ", "***", '""'])
def test_nothing_to_search(typed: str) -> None:
    with pytest.raises(EmptyQueryError):
        fts_query(typed)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab "*():^-+ORANDNOT{}\'.,')) | st.characters(),
               max_size=40))
def test_any_input_is_a_valid_fts5_expression(typed: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(text, sender_name, conversation)")
    conn.execute("INSERT INTO t VALUES ('ab or not cake', 'Me', 'Mom')")
    try:
        query = fts_query(typed)
    except EmptyQueryError:
        return
    conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (query,)).fetchone()


def run(archive: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["search", str(archive), *args, "--timezone", "UTC"])
    return result.exit_code, result.stdout, result.stderr


def test_words_show_context_and_the_page(archive: Path) -> None:
    code, out, err = run(archive, "fridge")
    assert code == 0
    assert out.splitlines() == [
        "2019-03-01 12:00  Mom — Person 1",
        "    The birthday cake is in the [fridge]",
        "    conversations/Mom/2019.html#m-a",
    ]
    assert err.strip() == "1 match"
    assert (archive / "conversations" / "Mom" / "2019.txt").is_file()  # that volume exists


def test_phrase_prefix_and_operators(archive: Path) -> None:
    def guids(*query: str, extra: tuple[str, ...] = ()) -> list[str]:
        code, out, _ = run(archive, *query, "--json", *extra)
        assert code == 0
        return [h["guid"] for h in json.loads(out)]

    assert guids("birthday") == ["d", "c", "a"]
    assert guids('"birthday cake"') == ["a"]
    assert guids("birth*") == ["d", "c", "a"]
    assert guids("cake", "NOT", "fridge") == ["e", "b"]
    assert guids("(grandma's)") == ["b"]
    assert guids("NOT", "sure") == ["e"]  # a lone NOT is not syntax; no traceback
    assert guids("birthday", extra=("--sender", "me")) == []
    assert guids("cake", extra=("--sender", "me")) == ["b"]
    assert guids("birthday", extra=("--conversation", "mom")) == ["a"]
    assert guids("birthday", extra=("--since", "2020-01-01")) == ["d"]
    assert guids("birthday", extra=("--until", "2019-12-31", "--limit", "1")) == ["c"]


def test_json_fields(archive: Path) -> None:
    code, out, _ = run(archive, "plans", "--json")
    assert code == 0
    [hit] = json.loads(out)
    assert hit == {"guid": "c", "conversation": "Person 2", "folder": "Person 2",
                   "sender": "Person 2", "date": "2019-03-01T12:20:00+00:00",
                   "snippet": "Birthday [plans] for Sunday",
                   "page": "conversations/Person 2/2019.html#m-c"}


def test_no_match_and_bad_input_are_one_line(archive: Path, tmp_path: Path) -> None:
    assert run(archive, "zebra") == (0, "", "No messages match.\n")
    code, _, err = run(archive, "***")
    assert code == 2 and "no words" in err
    code, _, err = run(archive, "cake", "--since", "2020-01-02", "--until", "2020-01-01")
    assert code == 2 and "--since is after --until" in err
    assert run(archive, "cake", "--sender", "\udcff")[:2] == (0, "")  # undecodable: no match
    code, _, err = run(tmp_path / "nowhere", "cake")
    assert code == 31 and "not a coldtexts archive" in err and "Traceback" not in err
    result = CliRunner().invoke(cli, ["search", str(archive), "cake", "--timezone", "Nowhere"])
    assert result.exit_code == 2 and "not a time zone" in result.stderr


def test_page_links_use_the_zone_the_archive_was_rendered_in(tmp_path: Path) -> None:
    """A message at 02:00 UTC on January 1st 2024 is in the 2024 volume of an archive rendered
    in Tokyo, but in 2023 by this machine's zone (New York, pinned by conftest): search must
    link to the page that exists without being told the zone."""
    from datetime import UTC, datetime

    from backup_support import PASSWORD, make_backup
    from coldtexts.fixtures.backup_writer import BackupFile
    from coldtexts.fixtures.smsdb_builder import SmsDbBuilder

    builder = SmsDbBuilder(schema="ios18")
    mom = builder.handle("+15555550101")
    chat = builder.chat([mom])
    builder.message(chat, sender=mom, date=datetime(2024, 1, 1, 2, 0, tzinfo=UTC),
                    text="happy new year zebra")
    builder.write(tmp_path / "sms.db")
    backup = make_backup(tmp_path, files=[
        BackupFile("HomeDomain", "Library/SMS/sms.db", tmp_path / "sms.db", 4)])
    archive = tmp_path / "archive"
    runner = CliRunner()
    done = runner.invoke(cli, ["export", str(backup), "--out", str(archive), "--formats",
                               "html", "--timezone", "Asia/Tokyo"],
                         env={"COLDTEXTS_PASSWORD": PASSWORD})
    assert done.exit_code == 0, done.output
    found = runner.invoke(cli, ["search", str(archive), "zebra"])
    assert found.exit_code == 0, found.output
    link = next(line.strip() for line in found.output.splitlines() if "#m-" in line)
    assert link.split("#")[0].endswith("/2024.html")
    assert (archive / link.split("#")[0]).is_file()
