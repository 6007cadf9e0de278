"""ContactBook: handles resolved to names from an AddressBook.sqlitedb, read-only with WAL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coldtexts.errors import MessagesDatabaseCorruptError
from coldtexts.fixtures.addressbook_builder import ContactSpec, write_address_book
from coldtexts.messages.contacts import ContactBook

FAMILY = [
    ContactSpec(first="Mom", phones=["(919) 555-0101"]),
    ContactSpec(first="Alex", last="Rivera", phones=["+1 919-555-0102"],
                emails=["Alex.Rivera@Example.com"]),
    ContactSpec(organization="Apple Inc.", phones=["1-800-MY-APPLE"]),
    ContactSpec(nickname="Grandpa", phones=["919.555.0104"]),
    ContactSpec(first="Alex", phones=["9195550102"]),  # a duplicate with a thinner name
]


@pytest.fixture
def book(tmp_path: Path) -> ContactBook:
    path = tmp_path / "AddressBook.sqlitedb"
    write_address_book(path, FAMILY)
    return ContactBook.open(path)


@pytest.mark.parametrize(("handle", "name"), [
    ("+19195550101", "Mom"),
    ("9195550101", "Mom"),
    ("(919) 555-0101", "Mom"),
    ("+19195550102", "Alex Rivera"),
    ("alex.rivera@example.com", "Alex Rivera"),
    ("ALEX.RIVERA@EXAMPLE.COM", "Alex Rivera"),
    ("+18006927753", "Apple Inc."),
    ("tel:+1-919-555-0104", "Grandpa"),
    ("+19195550199", None),
    ("urn:biz:1234", None),
    ("AMAZON", None),
    ("nobody@example.com", None),
])
def test_handles_resolve_however_typed(book: ContactBook, handle: str, name: str | None) -> None:
    assert book.name_for(handle) == name


def test_no_address_book_resolves_nothing() -> None:
    book = ContactBook.open(None)
    assert book.name_for("+19195550101") is None
    assert len(book) == 0


def test_owner_recognised_however_written(book: ContactBook) -> None:
    owned = book.with_owner(["+19195550100", "Me@Example.com"])
    assert owned.is_owner("(919) 555-0100")
    assert owned.is_owner("me@example.com")
    assert not owned.is_owner("+19195550101")
    assert not book.is_owner("+19195550100")
    assert owned.name_for("+19195550101") == "Mom"


def test_contact_only_in_wal_is_read_and_source_untouched(tmp_path: Path) -> None:
    source = tmp_path / "src"
    path = source / "AddressBook.sqlitedb"
    write_address_book(path, [*FAMILY, ContactSpec(first="Sam", phones=["919 555 0177"])],
                       wal=True)
    assert (source / "AddressBook.sqlitedb-wal").stat().st_size > 0
    before = sorted(p.name for p in source.iterdir())
    source.chmod(0o500)
    try:
        book = ContactBook.open(path)
    finally:
        source.chmod(0o700)
    assert book.name_for("+19195550177") == "Sam"  # the last contact lives only in the WAL
    assert book.name_for("+19195550102") == "Alex Rivera"
    assert sorted(p.name for p in source.iterdir()) == before


def test_not_a_database_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "AddressBook.sqlitedb"
    path.write_bytes(b"not sqlite at all" * 10)
    with pytest.raises(MessagesDatabaseCorruptError, match="not an SQLite database"):
        ContactBook.open(path)


def test_truncated_database_is_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "AddressBook.sqlitedb"
    write_address_book(path, FAMILY)
    data = path.read_bytes()
    path.write_bytes(data[:150])
    with pytest.raises(MessagesDatabaseCorruptError):
        ContactBook.open(path)


def test_real_ios15_address_book(realdata: Path, tmp_path: Path) -> None:
    for item in (realdata / "addressbook" / "ios15").iterdir():
        shutil.copyfile(item, tmp_path / item.name)
    book = ContactBook.open(tmp_path / "AddressBook.sqlitedb")
    expected = {
        "+19193912507": "Josh Hickman",
        "+19195790479": "Josh Hickman",
        "joshuahickman957@gmail.com": "Josh Hickman",
        "thisisdfirthree@gmail.com": "ThisIs DFIRThree",
        "ThisIsDFIRThree@Gmail.com": "ThisIs DFIRThree",
        "+18006927753": "Apple Inc.",
        "+19198887386": "This Is DFIR Two",
        "9198887386": "This Is DFIR Two",
        "thisisdfirtwo@gmail.com": "This Is DFIR Two",
        "+19192084530": "Liz",
        "+19198027080": "Thom De'Fer",
        "+19195550000": None,
    }
    assert {h: book.name_for(h) for h in expected} == expected
    assert book.default_region == "US"
