"""Turn MessageViews into the small dicts the templates loop over.

Everything costly or fiddly happens here, once per message, in plain Python: times,
classes, escaping of text runs, links to attachments and previews. Text is escaped with
markupsafe before any tag is added, so message content can never become markup.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from coldtexts.messages.models import MessageKind, PartKind, TextRun
from coldtexts.view import AttachmentView, MessageView, ReactionView, VolumeView

from . import bubbles, media, words

# Enum members as module constants: a lookup on the Enum class (PartKind.TEXT) costs about
# 0.2 µs, and these are read for every message and part (measured).
_EVENT = MessageKind.EVENT
_TEXT, _ATTACHMENT, _RETRACTED = PartKind.TEXT, PartKind.ATTACHMENT, PartKind.RETRACTED

SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:", "sms:", "facetime:", "maps:")


def run_html(run: TextRun) -> Markup:
    html: Markup = escape(run.text)
    if run.link is None and run.mention is None and run.effect is None and not (
            run.bold or run.italic or run.underline or run.strikethrough):
        return html  # the common case: plain text
    if run.bold:
        html = Markup("<b>%s</b>") % html
    if run.italic:
        html = Markup("<i>%s</i>") % html
    if run.underline:
        html = Markup("<u>%s</u>") % html
    if run.strikethrough:
        html = Markup("<s>%s</s>") % html
    if run.effect:
        html = Markup('<span class="fx" title="%s">%s</span>') % (run.effect, html)
    if run.mention:
        html = Markup('<span class="mention">%s</span>') % html
    if run.link and run.link.lower().startswith(SAFE_SCHEMES):
        html = Markup('<a href="%s">%s</a>') % (run.link, html)
    return html


class RowBuilder:
    """Builds template rows for one volume; `folder` is the output's archive folder."""

    def __init__(self, zone: tzinfo, folder: str, archive_root: Path, owner: str,
                 group: bool) -> None:
        self.zone = zone
        self.folder = folder
        self.archive_root = archive_root
        self.owner = owner
        self.group = group
        self._date: tuple[int, int, int] | None = None
        self._month: tuple[int, int] | None = None
        self._pdf_key: str | None = None  # set for PDF: this volume's key
        self._known_font = False  # for PDF: whether the text font is known (textfont.py)
        self._targets: set[str] = set()

    def for_pdf(self, volume: VolumeView, *, known_font: bool = False) -> None:
        """PDF rows: an id only on messages a reply in this volume points at, and reply
        links into this PDF (or the other volume's PDF) rather than the HTML pages.

        Why: WeasyPrint turns every id into a declaration unique to its element, which
        stops it sharing one computed style among identical elements and all their
        descendants; an id on every message doubled a volume's layout time."""
        self._pdf_key = volume.volume.key
        self._known_font = known_font
        self._targets = {m.reply_to.guid for m in volume.messages
                         if m.reply_to is not None and m.reply_to.href is not None}

    def _fit(self, text: str, runs: tuple[TextRun, ...] = ()) -> str | None:
        """The PDF bubble's width class (bubbles.py); HTML leaves widths to the browser.
        With the text font known, the bounds are its own: its regular face's for plain text,
        all its faces' when a run is bold, italic or semibold (mentions, effects)."""
        if self._pdf_key is None:
            return None
        if not self._known_font:
            return bubbles.bubble_class(text)
        styled = any(run.bold or run.italic or run.mention or run.effect for run in runs)
        return bubbles.bubble_class(text, bubbles.pdf_widths(styled))

    def _anchor(self, view: MessageView) -> str | None:
        if self._pdf_key is None or view.message.guid in self._targets:
            return view.anchor
        return None

    def link(self, archive_path: str) -> str:
        return words.relative_link(self.folder, archive_path)

    def rows(self, views: tuple[MessageView, ...]) -> list[dict[str, Any]]:
        """Month headings, day separators and messages, in order. Every row has "kind"
        and every key its template branch reads, so lookups never miss (a missing key
        costs Jinja two exceptions)."""
        return list(self.iter_rows(views))

    def iter_rows(self, views: tuple[MessageView, ...]) -> Iterator[dict[str, Any]]:
        """`rows` one at a time: a row written out at once is freed at once, so the
        collector never has a volume's worth of young containers to scan (it was a
        quarter of HTML rendering time)."""
        zone = self.zone
        for view in views:
            local = view.message.date.astimezone(zone)
            date = (local.year, local.month, local.day)
            if date != self._date:
                self._date = date
                if date[:2] != self._month:
                    self._month = date[:2]
                    yield {"kind": "month", "text": f"{local:%B} {local.year}"}
                # %-d is not portable, hence local.day
                yield {"kind": "day", "text": f"{local:%A, %B} {local.day}, {local.year}"}
            yield self.message(view, local)

    def message(self, view: MessageView, local: datetime) -> dict[str, Any]:
        message = view.message
        time = words.CLOCK[local.hour * 60 + local.minute]
        if message.kind is _EVENT:
            return {"kind": "event", "id": self._anchor(view),
                    "event": view.event_text or "Conversation event", "time": time}
        meta = [time]
        effect = words.effect_words(message) if message.effect else None
        if effect:
            meta.append(effect)
        status = words.status_words(view)
        if status:
            meta += status
        if message.date_edited is not None or message.edits:
            meta.append("Edited")
        parts = self._parts(view)
        leftover = self._place_reactions(view, parts) if view.reactions else ""
        preview, app = self._preview(view), self._app(view)
        inline_time = (len(meta) == 1 and not leftover and preview is None and app is None
                       and bool(parts) and parts[-1]["type"] == "text")
        if inline_time:
            # Beside the last bubble instead of a line of its own: one box and one text
            # layout fewer per message, about 15% of a PDF volume's layout time.
            parts[-1]["time"] = time
        return {
            "kind": "message",
            "id": self._anchor(view),
            "event": None,
            "side": "me" if message.is_from_me else "them",
            "color": "blue" if words.is_blue(message.service) else "green",
            "flagged": bool(message.deleted_on_device or view.no_longer_on_device),
            "sender": None if message.is_from_me or not self.group else view.sender_name,
            "reply": self._reply(view),
            "subject": message.subject,
            "parts": parts,
            "preview": preview,
            "app": app,
            "reactions": leftover,
            "revisions": [
                {"origin": r.origin.capitalize(),
                 "when": r.date.astimezone(self.zone).strftime("%Y-%m-%d %H:%M") if r.date
                 else None,
                 "text": r.text}
                for r in view.revisions
            ] if view.revisions else None,
            "meta": None if inline_time else " · ".join(meta),
        }

    def _reply(self, view: MessageView) -> dict[str, Any] | None:
        reply = view.reply_to
        if reply is None:
            return None
        excerpt = reply.excerpt or ("a message" if reply.href else "a message not in the archive")
        href = reply.href
        if href is not None and self._pdf_key is not None:
            page, _, fragment = href.partition("#")
            key = page.removesuffix(".html")
            href = f"#{fragment}" if key == self._pdf_key else f"{key}.pdf#{fragment}"
        return {"href": href, "sender": reply.sender_name, "excerpt": excerpt}

    def _parts(self, view: MessageView) -> list[dict[str, Any]]:
        message = view.message
        by_guid = {a.attachment.guid: a for a in view.attachments} if view.attachments else {}
        preview_guid = message.link_preview.image_attachment_guid if message.link_preview else None
        parts: list[dict[str, Any]] = []
        for part in message.parts:
            if part.kind is _TEXT:
                runs = part.runs
                html = run_html(runs[0]) if len(runs) == 1 else Markup("").join(
                    run_html(run) for run in runs)
                if html:
                    parts.append({"type": "text", "html": html, "index": part.index,
                                  "reactions": None, "time": None,
                                  "fit": self._fit(part.text, runs)})
            elif part.kind is _ATTACHMENT and part.attachment_guid in by_guid:
                shown = self.attachment(by_guid.pop(part.attachment_guid))
                parts.append({**shown, "index": part.index, "reactions": None})
            elif part.kind is _RETRACTED:
                parts.append({"type": "unsent", "index": part.index, "reactions": None})
        for attachment in by_guid.values():
            if not attachment.attachment.hidden and attachment.attachment.guid != preview_guid:
                parts.append({**self.attachment(attachment), "reactions": None})
        parts += ({"type": "deleted", "text": deleted.text, "reactions": None}
                  for deleted in message.deleted_parts or () if deleted.text)
        if not message.parts and message.text:
            parts.insert(0, {"type": "text", "html": escape(message.text), "index": 0,
                             "reactions": None, "time": None,
                             "fit": self._fit(message.text)})
        if message.audio_expired and not parts:
            parts.append({"type": "missing", "noun": "Audio message", "name": "",
                          "reason": words.AUDIO_EXPIRED, "reactions": None})
        return parts

    def attachment(self, view: AttachmentView) -> dict[str, Any]:
        name = view.attachment.display_name
        size = words.human_size(view.size)
        if view.original is None:
            return {"type": "missing", "noun": words.KIND_NOUNS.get(view.kind, "file").capitalize(),
                    "name": name, "reason": view.missing_reason or "not in any backup"}
        href = self.link(view.original)
        derived = media.derived_for(view, self.archive_root)
        src = self.link(derived) if derived else None
        if view.kind in ("image", "sticker"):
            return {"type": "image", "href": href, "src": src, "name": name, "size": size,
                    "sticker": view.kind == "sticker"}
        if view.kind == "video":
            return {"type": "video", "href": href, "name": name, "size": size}
        if view.kind == "audio":
            playable = src or (None if media.derived_kind(view) == "audio" else href)
            return {"type": "audio", "href": href, "src": playable, "name": name, "size": size,
                    "transcript": view.attachment.transcription}
        return {"type": "file", "href": href, "name": name, "size": size}

    def _place_reactions(self, view: MessageView, parts: list[dict[str, Any]]) -> Markup:
        """Put each tapback on the bubble (body part) it targets, as Messages does; returns
        those whose part is not shown, for the end of the message."""
        by_part: dict[int, list[ReactionView]] = {}
        for reaction in view.reactions:
            by_part.setdefault(reaction.part, []).append(reaction)
        for part in parts:
            placed = by_part.pop(part.get("index", -1), None)
            if placed:
                part["reactions"] = self._reactions_html(placed)
        rest = [r for group in by_part.values() for r in group]
        return self._reactions_html(rest) if rest else Markup("")

    def _reactions_html(self, reactions: list[ReactionView]) -> Markup:
        """"❤️ Mom, 👍 You"; a sticker tapback shows its sticker when the archive has it."""
        pieces: list[Markup] = []
        for reaction in reactions:
            sticker = reaction.sticker
            derived = media.derived_for(sticker, self.archive_root) if sticker else None
            if derived is None:
                pieces.append(escape(words.reaction_phrase(reaction)))
                continue
            who = "You" if reaction.is_from_me else reaction.sender_name
            pieces.append(Markup('<img class="tapback-sticker" src="%s" alt="sticker"> %s')
                          % (self.link(derived), who))
        return Markup(", ").join(pieces)

    def _preview(self, view: MessageView) -> dict[str, Any] | None:
        preview = view.message.link_preview
        if preview is None:
            return None
        image = None
        for attachment in view.attachments:
            if attachment.attachment.guid == preview.image_attachment_guid:
                derived = media.derived_for(attachment, self.archive_root)
                image = self.link(derived) if derived else None
        url = preview.url or preview.original_url or ""
        return {"title": preview.title or url, "summary": preview.summary,
                "site": preview.site_name or url, "image": image}

    def _app(self, view: MessageView) -> dict[str, Any] | None:
        app = view.message.app
        if app is None:
            return None
        return {"description": app.description, "fields": list(app.fields), "url": app.url}
