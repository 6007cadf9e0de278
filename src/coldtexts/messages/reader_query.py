"""The SELECT statements of the sms.db reader, built from the columns that exist.

Every message query returns the same fixed column order (`MESSAGE_FIELDS`); a column the
database lacks is selected as NULL, so row handling never branches on the iOS version.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .reader_sqlite import table_columns, table_names

MESSAGE_FIELDS = (
    "ROWID", "guid", "text", "attributedBody", "service", "handle_id",
    "destination_caller_id", "subject", "date", "date_read", "date_delivered",
    "date_edited", "date_retracted", "is_from_me", "error", "item_type", "other_handle",
    "group_title", "group_action_type", "share_status", "associated_message_guid",
    "associated_message_type", "associated_message_emoji", "balloon_bundle_id",
    "payload_data", "expressive_send_style_id", "thread_originator_guid",
    "thread_originator_part", "message_summary_info", "is_audio_message", "filter_action",
    "cache_has_attachments",
)
# Derived columns appended after MESSAGE_FIELDS.
DERIVED_FIELDS = ("chat_id", "deleted_chat_id", "reply_missing")
F = {name: index for index, name in enumerate(MESSAGE_FIELDS + DERIVED_FIELDS)}

# Tapback rows (Schema.reaction_select): only what a Reaction is made of.
REACTION_FIELDS = (
    "ROWID", "guid", "handle_id", "date", "is_from_me", "associated_message_guid",
    "associated_message_type", "associated_message_emoji",
)
# deleted_chat_id (the Recently Deleted chat) comes last, and only when the database has
# such rows (Schema.has_recoverable): most have none, and every column costs (below).
R = {name: index for index, name in enumerate((*REACTION_FIELDS, "chat_id", "deleted_chat_id"))}

# The plain-message query (Schema.plain_message_select) returns only the columns every
# message uses, then the chat join columns and a flag; a row whose flag is set is read
# again in full (Schema.message_by_rowid). Every selected column costs even when it is
# NULL (it is read, typed and made a Python object), and most of MESSAGE_FIELDS is empty on
# most rows.
PLAIN_FIELDS = (
    "ROWID", "guid", "text", "attributedBody", "service", "handle_id",
    "destination_caller_id", "date", "date_read", "date_delivered", "is_from_me",
    "cache_has_attachments", "thread_originator_guid", "thread_originator_part",
)
PLAIN_DERIVED = ("chat_id", "needs_full_row", "reply_missing", "deleted_chat_id")
P = {name: index for index, name in enumerate(PLAIN_FIELDS + PLAIN_DERIVED)}
# The columns whose Python truth decides anything outside the plain path (the others are
# read only when one of these is set: payload_data with balloon_bundle_id, the group columns
# with item_type, thread_originator_part with thread_originator_guid, ...).
FLAG_FIELDS = (
    "subject", "date_edited", "date_retracted", "error", "item_type", "balloon_bundle_id",
    "expressive_send_style_id", "message_summary_info", "is_audio_message", "filter_action",
)
# Of those, the ones holding text or a blob when set (the others hold numbers): each is
# tested the way that costs least for what it usually holds (_nonempty, _nonzero).
TEXT_FLAG_FIELDS = frozenset({"subject", "balloon_bundle_id", "expressive_send_style_id",
                              "message_summary_info"})
# associated_message_type values the plain path handles (reader_rows._ORDINARY).
ORDINARY_ASSOCIATED_TYPES = (0, 2, 3)

# A NULL type is an ordinary message: every query treats it as 0.
TAPBACK_PREDICATE = ("(COALESCE(m.associated_message_type, 0) = 1000 OR "
                     "COALESCE(m.associated_message_type, 0) BETWEEN 2000 AND 3999)")

# One chunk of consecutive dates, as a condition with its bounds as parameters: the
# first chunk also holds rows with no date (sorted first), the last everything after its
# lower bound. "" is no condition: every date.
DATE_RANGES = {
    "": "",
    "first": "(m.date < ? OR m.date IS NULL)",
    "middle": "(m.date >= ? AND m.date < ?)",
    "last": "m.date >= ?",
}

# Rows looked up by ROWID, this many to a statement (attachments_of_many,
# messages_by_rowids). One statement a message spent ~20 µs inside a read (against ~4
# alone: the read's own work leaves its pages and code out of the processor's caches), so
# the reader looks up a block of messages together. A fixed count keeps the statement
# cached; unused places are NULL, which matches nothing.
ROWIDS_AT_ONCE = 32
_PLACES = ", ".join("?" * ROWIDS_AT_ONCE)

RECOVERABLE_PART_FIELDS = ("message_id", "chat_id", "part_index", "delete_date", "part_text")

ATTACHMENT_FIELDS = (
    "guid", "filename", "transfer_name", "mime_type", "uti", "total_bytes", "is_sticker",
    "hide_attachment", "created_date", "sticker_user_info", "emoji_image_short_description",
)


@dataclass(frozen=True, slots=True)
class Schema:
    """What this sms.db has: tables and the columns of the ones the reader uses."""

    tables: frozenset[str]
    message: frozenset[str]
    attachment: frozenset[str]
    chat: frozenset[str]
    recoverable_rows: bool = False  # chat_recoverable_message_join has any row
    # recoverable_message_part's columns when it has any row (iOS 16+ deleted parts)
    recoverable_part: frozenset[str] = frozenset()

    @classmethod
    def probe(cls, connection: sqlite3.Connection) -> Schema:
        tables = table_names(connection)
        return cls(tables=tables,
                   message=table_columns(connection, "message"),
                   attachment=table_columns(connection, "attachment"),
                   chat=table_columns(connection, "chat"),
                   recoverable_rows=_has_rows(connection, tables,
                                              "chat_recoverable_message_join"),
                   recoverable_part=table_columns(connection, "recoverable_message_part")
                   if _has_rows(connection, tables, "recoverable_message_part")
                   else frozenset())

    @property
    def has_tapbacks(self) -> bool:
        return "associated_message_type" in self.message

    @property
    def has_recoverable(self) -> bool:
        """Recently Deleted rows to join (the table exists and is not empty: an empty one
        would only cost a lookup per message)."""
        return self.recoverable_rows

    def recoverable_part_select(self) -> str | None:
        """The deleted parts (message_id, chat_id, part_index, delete_date, part_text), by
        message then part; None when there are none or the table lacks what identifies
        a part."""
        columns = self.recoverable_part
        if not {"message_id", "part_text"} <= columns:
            return None
        fields = [name if name in columns else f"NULL AS {name}"
                  for name in RECOVERABLE_PART_FIELDS]
        order = ", ".join(name for name in ("message_id", "part_index", "chat_id")
                          if name in columns)
        return (f"SELECT {', '.join(fields)} FROM recoverable_message_part "
                f"ORDER BY {order}")

    def reaction_select(self, dates: str = "") -> str:
        """Tapback rows (REACTION_FIELDS, then the chat join columns), ordered by date then
        ROWID; a tapback in several chats comes back as adjacent rows, one per chat.
        `dates` keeps one chunk of dates, as in plain_message_select."""
        if not self.has_tapbacks:
            return "SELECT NULL WHERE 0"
        return self._by_date(self._message_columns(REACTION_FIELDS), [], [TAPBACK_PREDICATE],
                             dates)

    def plain_message_select(self, dates: str = "") -> str:
        """Non-tapback messages, ordered by date then ROWID (a message in several chats
        comes back as adjacent rows, one per chat), with the PLAIN_FIELDS columns only and
        `needs_full_row` set when any column the plain path does not handle holds a value
        Python would find true (so it never misses one).

        `dates` keeps one chunk of consecutive dates (a DATE_RANGES key; its bounds are
        the statement's parameters)."""
        tests = [_nonempty(f"m.{name}") if name in TEXT_FLAG_FIELDS else _nonzero(f"m.{name}")
                 for name in FLAG_FIELDS if name in self.message]
        if "associated_message_type" in self.message:
            tests.append(_outside("m.associated_message_type", ORDINARY_ASSOCIATED_TYPES))
        derived = [f"({' OR '.join(tests)})" if tests else "0", self._reply_missing()]
        conditions = [f"NOT {TAPBACK_PREDICATE}"] if self.has_tapbacks else []
        return self._by_date(self._message_columns(PLAIN_FIELDS), derived, conditions, dates)

    def _message_columns(self, names: tuple[str, ...]) -> list[str]:
        """`names` of message m, a column this database lacks selected as NULL."""
        return [f"m.{name}" if name in self.message else f"NULL AS {name}" for name in names]

    def _by_date(self, fields: list[str], derived: list[str], conditions: list[str],
                 dates: str) -> str:
        """SELECT `fields`, the chat of each row, `derived`, then the row's Recently Deleted
        chat if the database has any (has_recoverable), from the message rows that meet
        `conditions` within the chunk `dates`, by date then ROWID: a message in several
        chats comes back as adjacent rows, one per chat."""
        joins = "LEFT JOIN chat_message_join c ON c.message_id = m.ROWID"
        deleted_chat = []
        if self.has_recoverable:
            joins += " LEFT JOIN chat_recoverable_message_join d ON d.message_id = m.ROWID"
            deleted_chat = ["d.chat_id"]
        if DATE_RANGES[dates]:
            conditions = [*conditions, DATE_RANGES[dates]]
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        columns = ", ".join([*fields, "c.chat_id", *derived, *deleted_chat])
        return f"SELECT {columns} FROM message m {joins} {where} ORDER BY m.date, m.ROWID"

    def message_by_rowid(self) -> str:
        """One message row in the message_select layout (chat columns NULL: the caller has
        them from the plain query), by ROWID."""
        return f"SELECT {self._full_columns()} FROM message m WHERE m.ROWID = ?"

    def messages_by_rowids(self) -> str:
        """message_by_rowid for up to ROWIDS_AT_ONCE ROWIDs (unused places NULL)."""
        return f"SELECT {self._full_columns()} FROM message m WHERE m.ROWID IN ({_PLACES})"

    def guids_present(self) -> str:
        """Which of up to ROWIDS_AT_ONCE message GUIDs (unused places NULL) are in sms.db."""
        return f"SELECT guid FROM message WHERE guid IN ({_PLACES})"

    def _full_columns(self) -> str:
        return ", ".join([*self._message_columns(MESSAGE_FIELDS), "NULL", "NULL",
                          self._reply_missing()])

    def _reply_missing(self) -> str:
        if "thread_originator_guid" not in self.message:
            return "0"
        return ("(m.thread_originator_guid IS NOT NULL AND m.thread_originator_guid "
                "!= '' AND NOT EXISTS (SELECT 1 FROM message t "
                "WHERE t.guid = m.thread_originator_guid))")

    def message_count(self) -> str:
        where = ""
        if self.has_tapbacks:
            where = f"WHERE NOT {TAPBACK_PREDICATE}"
        return f"SELECT COUNT(*) FROM message m {where}"

    def attachment_select(self) -> str:
        """The attachments (ATTACHMENT_FIELDS) of one message, in join order."""
        return (f"SELECT {self._attachment_columns()} FROM message_attachment_join j "
                "JOIN attachment a ON a.ROWID = j.attachment_id "
                "WHERE j.message_id = ? ORDER BY j.ROWID")

    def attachments_of_many(self) -> str:
        """attachment_select for up to ROWIDS_AT_ONCE messages (unused places NULL), each
        row led by its message's ROWID; by message, then in join order."""
        return (f"SELECT j.message_id, {self._attachment_columns()} "
                "FROM message_attachment_join j JOIN attachment a ON a.ROWID = j.attachment_id "
                f"WHERE j.message_id IN ({_PLACES}) ORDER BY j.message_id, j.ROWID")

    def _attachment_columns(self) -> str:
        return ", ".join(f"a.{name}" if name in self.attachment else f"NULL AS {name}"
                         for name in ATTACHMENT_FIELDS)

    def chat_select(self) -> str:
        wanted = ("ROWID", "guid", "chat_identifier", "service_name", "display_name", "style")
        fields = [name if name in self.chat else f"NULL AS {name}" for name in wanted]
        return f"SELECT {', '.join(fields)} FROM chat ORDER BY ROWID"


def _has_rows(connection: sqlite3.Connection, tables: frozenset[str], table: str) -> bool:
    return table in tables and connection.execute(
        f'SELECT EXISTS (SELECT 1 FROM "{table}")').fetchone()[0] == 1


# The flag's tests below are true whenever Python's bool() of the value is True, and may
# be true for a few false values too: such a row only takes the general path, which costs
# time, never a message. With the `+` the column's affinity is gone, so a text '0' stays
# text and unequal to 0. One test a column instead of two (`+x != 0 AND x != ''`) made
# the plain query 6.7 -> 5.6 µs a row, with the NULL deleted-chat column gone (medians of 16).
def _nonzero(column: str) -> str:
    """For columns holding numbers: also true for '' and an empty blob."""
    return f"+{column} != 0"


def _nonempty(column: str) -> str:
    """For columns holding text or blobs: also true for the number 0 and an empty blob.
    Not length(): it stops counting a text at its first NUL character."""
    return f"{column} != ''"


def _outside(column: str, values: tuple[int, ...]) -> str:
    """SQL that is true unless the column is NULL or a number among `values`, as Python's
    `value not in {None, *values}` finds it (a NULL result reads as false)."""
    listed = ", ".join(str(v) for v in values)
    return f"+{column} NOT IN ({listed})"
