"""Per-conversation render plans: volumes, content digests and the ConversationView.

A volume's digest covers exactly what its output shows: each message's stored JSON (by
its content hash), whether it is still on the device, its revisions, reactions and
attachment states, what its reply points at, the names of everyone it mentions, the
conversation's header and the volume list used for navigation. Built from the store's
hashes in SQL order, so an unchanged 100,000-message archive is planned in well under a
second and nothing is decoded except each conversation's last message.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import msgspec

from coldtexts.messages.models import decode_message
from coldtexts.view import ConversationView

from .store import from_us
from .volumes import VolumeSlice, split_volumes
from .words import message_summary


@dataclass(frozen=True, slots=True)
class ConversationMeta:
    id: int
    guid: str
    identifier: str
    service: str
    display_name: str | None
    is_group: bool
    slug: str
    participants: tuple[str, ...]  # handles, sorted
    aliases: tuple[str, ...]  # every chat GUID mapped to this conversation


@dataclass(frozen=True, slots=True)
class ConversationPlan:
    meta: ConversationMeta
    view: ConversationView
    volumes: tuple[VolumeSlice, ...]
    volume_digests: dict[str, str]
    digest: str  # the whole conversation (txt, jsonl)
    volume_of: dict[str, str]  # message GUID -> volume key


class _Row(msgspec.Struct, array_like=True):
    guid: str
    date: int
    hash: bytes
    reply_guid: str | None
    gone_as_of: int | None
    handles: str


def load_metas(conn: sqlite3.Connection) -> list[ConversationMeta]:
    participants: dict[int, list[str]] = defaultdict(list)
    for cid, handle in conn.execute(
        "SELECT conversation_id, handle FROM participants ORDER BY handle"
    ):
        participants[cid].append(handle)
    aliases: dict[int, list[str]] = defaultdict(list)
    for guid, cid in conn.execute("SELECT guid, conversation_id FROM chat_guids ORDER BY guid"):
        aliases[cid].append(guid)
    rows = conn.execute(
        "SELECT id, guid, identifier, service, display_name, is_group, slug "
        "FROM conversations ORDER BY id"
    )
    return [
        ConversationMeta(cid, guid, ident, service, name, bool(group), slug,
                         tuple(participants[cid]), tuple(aliases[cid]))
        for cid, guid, ident, service, name, group, slug in rows
    ]


def load_names(conn: sqlite3.Connection) -> dict[str, str]:
    return {h: n for h, n in conn.execute("SELECT handle, name FROM handles") if n}


def title_of(meta: ConversationMeta, names: dict[str, str]) -> str:
    if meta.display_name:
        return meta.display_name
    people = [names.get(h, h) for h in meta.participants]
    return ", ".join(people) if people else meta.identifier


def matches(meta: ConversationMeta, wanted: Sequence[str], names: dict[str, str]) -> bool:
    """Whether any of `wanted` names this conversation: its title, folder name, chat
    identifier or GUID, or a participant's number, email or contact name (any case)."""
    keys = {meta.guid, meta.identifier, meta.slug, title_of(meta, names), *meta.aliases,
            *meta.participants, *(names.get(h, "") for h in meta.participants)}
    folded = {k.casefold() for k in keys if k}
    return any(w.casefold() in folded for w in wanted)


def plan_conversation(conn: sqlite3.Connection, meta: ConversationMeta, zone: ZoneInfo,
                      names: dict[str, str]) -> ConversationPlan | None:
    """The plan of one conversation, or None when it has no messages."""
    rows = [
        _Row(*r) for r in conn.execute(
            "SELECT guid, date, hash, reply_guid, gone_as_of, handles FROM messages "
            "WHERE conversation_id = ? ORDER BY date, guid",
            (meta.id,),
        )
    ]
    if not rows:
        return None
    volumes = tuple(split_volumes([r.date for r in rows], zone))
    volume_of = {rows[i].guid: v.ref.key for v in volumes for i in range(v.start, v.stop)}
    view = _conversation_view(conn, meta, rows, volumes, names)
    extras = _extras(conn, meta.id)
    header = _header_bytes(view, meta, rows, extras.reaction_senders, names)
    digests: dict[str, str] = {}
    for volume in volumes:
        digest = hashlib.sha256(header)
        for row in rows[volume.start:volume.stop]:
            _digest_message(digest, row, extras, volume_of, conn)
        digests[volume.ref.key] = digest.hexdigest()
    whole = hashlib.sha256(header)
    for key in sorted(digests):
        whole.update(f"{key}={digests[key]};".encode())
    return ConversationPlan(meta, view, volumes, digests, whole.hexdigest(), volume_of)


@dataclass(slots=True)
class _Extras:
    per_message: dict[str, list[bytes]]
    reaction_senders: set[str]


def _extras(conn: sqlite3.Connection, conversation_id: int) -> _Extras:
    """Reactions, revisions and attachment states, as bytes per message GUID."""
    per: dict[str, list[bytes]] = defaultdict(list)
    senders: set[str] = set()
    owner_of: dict[str, str] = {}
    for target, guid, digest, sender in conn.execute(
        "SELECT target_guid, guid, hash, sender FROM reactions WHERE conversation_id = ? "
        "ORDER BY target_guid, date, guid", (conversation_id,)
    ):
        per[target].append(b"r" + guid.encode() + digest)
        owner_of[guid] = target
        if sender:
            senders.add(sender)
    for guid, origin, text, part, date in conn.execute(
        "SELECT r.message_guid, r.origin, r.text, r.part, r.date FROM revisions r "
        "JOIN messages m ON m.guid = r.message_guid WHERE m.conversation_id = ? "
        "ORDER BY r.id", (conversation_id,)
    ):
        per[guid].append(msgspec.json.encode(["v", origin, text, part, date]))
    for owner, guid, sha, reason, path in conn.execute(
        "SELECT a.owner_guid, a.guid, a.sha256, a.missing_reason, a.device_path "
        "FROM attachments a WHERE a.owner_guid IN (SELECT guid FROM messages "
        "WHERE conversation_id = ?1 UNION ALL SELECT guid FROM reactions "
        "WHERE conversation_id = ?1) ORDER BY a.guid", (conversation_id,)
    ):
        key = owner_of.get(owner, owner)
        per[key].append(msgspec.json.encode(["a", guid, sha, reason, path is None]))
    return _Extras(per, senders)


def _digest_message(digest: hashlib._Hash, row: _Row, extras: _Extras,
                    volume_of: dict[str, str], conn: sqlite3.Connection) -> None:
    digest.update(row.guid.encode())
    digest.update(row.hash)
    digest.update(str(row.gone_as_of).encode())
    for item in extras.per_message.get(row.guid, ()):
        digest.update(item)
    if row.reply_guid:
        target = conn.execute(
            "SELECT hash FROM messages WHERE guid = ?", (row.reply_guid,)
        ).fetchone()
        digest.update(b"re" + (target[0] if target else b"-"))
        digest.update(volume_of.get(row.reply_guid, "-").encode())
    digest.update(b"\n")


def _header_bytes(view: ConversationView, meta: ConversationMeta, rows: list[_Row],
                  reaction_senders: set[str], names: dict[str, str]) -> bytes:
    handles = set(meta.participants) | reaction_senders
    for row in rows:
        if row.handles:
            handles.update(row.handles.split("\n"))
    named = sorted((h, names.get(h, "")) for h in handles)
    header = [view.guid, view.slug, view.title, view.participants, view.is_group,
              view.service, [msgspec.to_builtins(v) for v in view.volumes], named]
    return msgspec.json.encode(header)


def _conversation_view(conn: sqlite3.Connection, meta: ConversationMeta, rows: list[_Row],
                       volumes: tuple[VolumeSlice, ...],
                       names: dict[str, str]) -> ConversationView:
    last_json = conn.execute("SELECT json FROM messages WHERE guid = ?",
                             (rows[-1].guid,)).fetchone()[0]
    return ConversationView(
        guid=meta.guid,
        slug=meta.slug,
        title=title_of(meta, names),
        participants=tuple(names.get(h, h) for h in meta.participants),
        is_group=meta.is_group,
        service=meta.service,
        volumes=tuple(v.ref for v in volumes),
        message_count=len(rows),
        first=from_us(rows[0].date),
        last=from_us(rows[-1].date),
        last_text=message_summary(decode_message(last_json), lambda h: names.get(h, h)),
    )


def view_digest(view: ConversationView) -> str:
    return hashlib.sha256(msgspec.json.encode(view)).hexdigest()
