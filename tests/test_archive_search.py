"""Full-text search over the store: phrases, filters, the page that shows each hit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from coldtexts.archive.search import SearchFilters, search
from test_archive_factory import conversation, message, run_once


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "Archive"
    mom, dad = conversation(1, name="Mom"), conversation(2)
    run_once(root, [mom, dad], [
        message("a", mom, 0, "The birthday cake is in the fridge"),
        message("b", mom, 10, "cake recipe please", from_me=True),
        message("c", dad, 20, "Birthday plans for Sunday"),
        message("d", dad, 60 * 24 * 400, "another birthday next year"),
    ])
    return root


def test_words_and_phrases(archive: Path) -> None:
    assert [h.guid for h in search(archive, "birthday")] == ["d", "c", "a"]
    assert [h.guid for h in search(archive, '"birthday cake"')] == ["a"]
    hit = search(archive, "fridge")[0]
    assert hit.snippet == "The birthday cake is in the [fridge]"
    assert hit.page == "conversations/Mom/2019.html#m-a"
    assert (hit.conversation, hit.sender) == ("Mom", "Person 1")


def test_filters(archive: Path) -> None:
    def guids(**kwargs: object) -> list[str]:
        return [h.guid for h in search(archive, "birthday OR cake",
                                       SearchFilters(**kwargs))]  # type: ignore[arg-type]

    assert guids(conversation="mom") == ["b", "a"]
    assert guids(sender="me") == ["b"]
    assert guids(sender="Person 2") == ["d", "c"]
    assert guids(since=date(2020, 1, 1)) == ["d"]
    assert guids(until=date(2019, 12, 31), conversation="Person 2") == ["c"]
    assert guids(conversation="nobody") == []
    assert search(archive, "birthday", SearchFilters(timezone="America/New_York"))[0].page == (
        "conversations/Person 2/2020.html#m-d")


def test_a_query_fts_cannot_parse_is_searched_as_words(archive: Path) -> None:
    assert [h.guid for h in search(archive, 'cake "recipe')] == ["b"]
    assert search(archive, "AND") == []
