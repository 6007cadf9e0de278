"""Resolve sms.db handles to contact names from an iOS AddressBook.sqlitedb.

The address book stores phone numbers as the user typed them ("(919) 888-7386",
"+1 (919) 208-4530", "1-800-MY-APPLE"), while sms.db handles are mostly E.164
("+19198887386") or emails. Both sides are normalised with `phonenumbers` to E.164, using
a default region taken from the internationally written numbers in the book (else "US"),
with a last-ten-digits fallback for national forms that do not parse the same way.
Emails match case-insensitively. Contacts that share a number or email (duplicates) are
merged: the most complete name wins, and ties go to the oldest record.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import phonenumbers

from ..errors import MessagesDatabaseCorruptError
from .reader_sqlite import ReadOnlyDatabase, looks_like_sqlite, table_columns

PHONE_PROPERTY = 3
EMAIL_PROPERTY = 4
_FALLBACK_DIGITS = 10
_MIN_PHONE_DIGITS = 7
_NAME_COLUMNS = ("First", "Middle", "Last", "Nickname", "Organization", "DisplayName")


@dataclass(frozen=True, slots=True)
class Contact:
    record_id: int
    name: str
    has_full_name: bool  # first and last name: preferred over nickname / organisation only


class ContactBook:
    """Handle → display name. An empty book (no AddressBook) resolves nothing."""

    def __init__(self, contacts: Iterable[tuple[Contact, Iterable[str], Iterable[str]]] = (),
                 *, default_region: str = "US",
                 owner_handles: Iterable[str] = ()) -> None:
        self.default_region = default_region
        self._phones: dict[str, Contact] = {}
        self._digits: dict[str, Contact] = {}
        self._emails: dict[str, Contact] = {}
        self._cache: dict[str, str | None] = {}
        for contact, phones, emails in contacts:
            for phone in phones:
                self._index_phone(contact, phone)
            for email in emails:
                _prefer(self._emails, email_key(email), contact)
        self._owner_keys = frozenset(k for h in owner_handles for k in self._handle_keys(h))

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def open(cls, address_book: Path | None) -> ContactBook:
        """Read AddressBook.sqlitedb (with its WAL) read-only; None gives an empty book."""
        if address_book is None:
            return cls()
        if not looks_like_sqlite(address_book):
            raise MessagesDatabaseCorruptError(
                f"The address book {address_book.name} is not an SQLite database; "
                "run again without contacts or with a complete backup.")
        try:
            with ReadOnlyDatabase(address_book) as database:
                people, phones, emails = _read_address_book(database.connection)
        except sqlite3.DatabaseError as exc:
            raise MessagesDatabaseCorruptError(
                f"The address book {address_book.name} cannot be read ({exc}); "
                "run again without contacts or with a complete backup.") from exc
        region = _dominant_region(v for values in phones.values() for v in values)
        entries = [(contact, phones.get(rid, []), emails.get(rid, []))
                   for rid, contact in sorted(people.items())]
        return cls(entries, default_region=region)

    def with_owner(self, owner_handles: Iterable[str]) -> ContactBook:
        """A copy that recognises the owner's own addresses (destination_caller_id values)."""
        clone = ContactBook(default_region=self.default_region)
        clone._phones, clone._digits, clone._emails = self._phones, self._digits, self._emails
        clone._owner_keys = frozenset(k for h in owner_handles for k in self._handle_keys(h))
        return clone

    # -- lookups -------------------------------------------------------------------------------
    def name_for(self, handle: str) -> str | None:
        """The contact's display name for an sms.db handle, or None when unknown."""
        if handle in self._cache:
            return self._cache[handle]
        name = self._lookup(handle)
        self._cache[handle] = name
        return name

    def is_owner(self, handle: str | None) -> bool:
        """True when `handle` is one of the owner's own addresses, however written."""
        if not handle or not self._owner_keys:
            return False
        return any(key in self._owner_keys for key in self._handle_keys(handle))

    def __len__(self) -> int:
        return len({c.record_id for c in (*self._phones.values(), *self._emails.values())})

    def _lookup(self, handle: str) -> str | None:
        handle = handle.strip()
        if not handle or handle.lower().startswith("urn:"):
            return None  # business chat ids never match a person
        if "@" in handle:
            contact = self._emails.get(email_key(handle))
            return contact.name if contact else None
        e164 = phone_key(handle, self.default_region)
        if e164 is not None and e164 in self._phones:
            return self._phones[e164].name
        digits = _fallback_digits(handle)
        if digits is not None and digits in self._digits:
            return self._digits[digits].name
        return None

    def _handle_keys(self, handle: str) -> list[str]:
        handle = handle.strip()
        if "@" in handle:
            return ["e:" + email_key(handle)]
        keys = []
        e164 = phone_key(handle, self.default_region)
        if e164:
            keys.append("p:" + e164)
        digits = _fallback_digits(handle)
        if digits:
            keys.append("d:" + digits)
        return keys or ["r:" + handle]

    def _index_phone(self, contact: Contact, raw: str) -> None:
        e164 = phone_key(raw, self.default_region)
        if e164 is not None:
            _prefer(self._phones, e164, contact)
        digits = _fallback_digits(raw)
        if digits is not None:
            _prefer(self._digits, digits, contact)


def email_key(value: str) -> str:
    value = value.strip().strip("<>").strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    return value.lower()


def phone_key(value: str, region: str) -> str | None:
    """E.164 form of a phone number however typed (vanity letters included), or None."""
    value = value.strip()
    if value.lower().startswith("tel:"):
        value = value[4:]
    if not any(ch.isdigit() for ch in value):
        return None  # alphanumeric sender ids ("AMAZON") are never phone numbers
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _fallback_digits(value: str) -> str | None:
    digits = "".join(ch for ch in phonenumbers.convert_alpha_characters_in_number(value)
                     if ch.isdigit())
    if len(digits) < _MIN_PHONE_DIGITS:
        return None
    return digits[-_FALLBACK_DIGITS:]


def _prefer(index: dict[str, Contact], key: str, contact: Contact) -> None:
    """Merge duplicates: keep the fuller name; among equals the earlier record wins."""
    if not key:
        return
    current = index.get(key)
    if current is None or (contact.has_full_name and not current.has_full_name):
        index[key] = contact


def _dominant_region(numbers: Iterable[str]) -> str:
    regions: Counter[str] = Counter()
    for raw in numbers:
        if not raw.strip().startswith("+"):
            continue
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(raw, None))
        except phonenumbers.NumberParseException:
            continue
        if region and region != "ZZ":
            regions[region] += 1
    return regions.most_common(1)[0][0] if regions else "US"


def _read_address_book(connection: sqlite3.Connection) -> tuple[
        dict[int, Contact], dict[int, list[str]], dict[int, list[str]]]:
    person_columns = table_columns(connection, "ABPerson")
    if not person_columns or not table_columns(connection, "ABMultiValue"):
        raise sqlite3.DatabaseError("no ABPerson / ABMultiValue tables")
    present = [c for c in _NAME_COLUMNS if c in person_columns]
    select = ", ".join(["ROWID", *present])
    people: dict[int, Contact] = {}
    for row in connection.execute(f"SELECT {select} FROM ABPerson ORDER BY ROWID"):
        values = row[1:]
        fields = {c: (str(v).strip() if v is not None else "")
                  for c, v in zip(present, values, strict=True)}
        contact = _contact(int(row[0]), fields)
        if contact is not None:
            people[contact.record_id] = contact
    phones: dict[int, list[str]] = {}
    emails: dict[int, list[str]] = {}
    query = ("SELECT record_id, property, value FROM ABMultiValue "
             "WHERE property IN (?, ?) AND value IS NOT NULL ORDER BY record_id, ROWID")
    for record_id, prop, value in connection.execute(query, (PHONE_PROPERTY, EMAIL_PROPERTY)):
        target = phones if prop == PHONE_PROPERTY else emails
        target.setdefault(int(record_id), []).append(str(value))
    return people, phones, emails


def _contact(record_id: int, fields: dict[str, str]) -> Contact | None:
    personal = " ".join(p for p in (fields.get("First"), fields.get("Middle"),
                                    fields.get("Last")) if p)
    full = bool(fields.get("First")) and bool(fields.get("Last"))
    name = (personal or fields.get("DisplayName") or fields.get("Nickname")
            or fields.get("Organization"))
    if not name:
        return None
    return Contact(record_id, name, full)
