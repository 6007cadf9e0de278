"""Archive benchmark: ingest, an unchanged re-run, and adding 1,000 messages to one chat.

    .venv/bin/python benchmarks/bench_archive.py [--messages 100000] [--keep DIR]

Builds model Messages directly (no backup, no sms.db: this measures the archive layer
alone), with heavy-tailed conversation sizes over ten years, replies, tapbacks and
attachments. The exporters are two small text formats written here (one per volume, one
per conversation) plus the site pages, so rendering cost is the archive's planning and
publishing, not HTML/PDF layout. Each stage is a full run: open (lock, store check),
ingest, render, finish (run row, manifest).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal

from coldtexts.exporters.base import (
    Exporter,
    RenderContext,
    RenderJob,
    RenderOptions,
    RenderResult,
)

from coldtexts.archive import Archive, RenderStats, SourceInfo
from coldtexts.messages.models import (
    Attachment,
    Conversation,
    Message,
    MessageKind,
    Part,
    Participant,
    PartKind,
    Reaction,
    ReactionKind,
    ReplyRef,
    TextRun,
)
from coldtexts.view import ConversationView

START = datetime(2015, 1, 1, tzinfo=UTC)
YEARS = 10
WORDS = (
    "see", "you", "soon", "ok", "thanks", "love", "that", "sounds", "good", "where", "are",
    "we", "meeting", "tonight", "did", "get", "the", "photos", "call", "me", "when", "can",
    "happy", "birthday", "🎉", "on", "my", "way",
)


class VolumeText:
    name: ClassVar[str] = "page"
    scope: ClassVar[Literal["volume", "conversation"]] = "volume"
    shows_previews: ClassVar[bool] = True

    def output_path(self, conversation: ConversationView, volume_key: str | None) -> str:
        return f"{conversation.folder}/{volume_key}.html"

    def fingerprint(self, options: RenderOptions) -> str:
        return f"bench-page-1|{options!r}"

    def render_many(self, jobs: Sequence[RenderJob], ctx: RenderContext) -> Iterator[RenderResult]:
        for job in jobs:
            lines = [f"{m.sender_name}: {m.message.text} {len(m.reactions)}"
                     for v in job.volumes for m in v.messages]
            yield RenderResult(job, "\n".join(lines).encode())

    def render_site_index(self, conversations: Sequence[ConversationView],
                          ctx: RenderContext) -> bytes:
        return "\n".join(f"{c.slug} {c.message_count}" for c in conversations).encode()

    def render_conversation_index(self, conversation: ConversationView,
                                  ctx: RenderContext) -> bytes:
        return " ".join(v.key for v in conversation.volumes).encode()

    def assets(self) -> dict[str, bytes]:
        return {"style.css": b"body{}"}


class WholeText(VolumeText):
    name: ClassVar[str] = "txt"
    scope: ClassVar[Literal["volume", "conversation"]] = "conversation"
    shows_previews: ClassVar[bool] = False

    def output_path(self, conversation: ConversationView, volume_key: str | None) -> str:
        return f"{conversation.folder}/transcript.txt"


def conversations(count: int) -> list[Conversation]:
    return [Conversation(f"iMessage;-;+1555{n:07d}", f"+1555{n:07d}", "iMessage", None, False,
                         (Participant(f"+1555{n:07d}", f"Person {n}"),))
            for n in range(count)]


def sizes(total: int, count: int) -> list[int]:
    weights = [1 / (rank + 1) ** 1.1 for rank in range(count)]
    scale = total / sum(weights)
    result = [max(1, int(w * scale)) for w in weights]
    result[0] += total - sum(result)
    return result


def messages(convs: list[Conversation], counts: list[int], seed: int = 1) -> Iterator[Message]:
    rng = random.Random(seed)
    span = timedelta(days=365 * YEARS).total_seconds()
    for c, (conv, count) in enumerate(zip(convs, counts, strict=True)):
        step = span / count
        for i in range(count):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 18)))
            attachments: tuple[Attachment, ...] = ()
            if rng.random() < 0.05:
                attachments = (Attachment(f"att-{c}-{i}", f"~/Library/SMS/Attachments/{c}/{i}.jpg",
                                          f"IMG_{i}.jpg", "image/jpeg", "public.jpeg", 1000),)
            yield Message(
                guid=f"msg-{c}-{i}", rowid=i, chat_guids=(conv.guid,), kind=MessageKind.MESSAGE,
                is_from_me=i % 2 == 0, sender=None if i % 2 == 0 else conv.identifier,
                service="iMessage", date=START + timedelta(seconds=i * step + rng.random()),
                text=text, parts=(Part(0, PartKind.TEXT, (TextRun(text),)),),
                attachments=attachments,
                reply_to=ReplyRef(f"msg-{c}-{i - 3}") if i > 3 and rng.random() < 0.03 else None,
            )


def reactions(convs: list[Conversation], counts: list[int]) -> Iterator[Reaction]:
    for c, (conv, count) in enumerate(zip(convs, counts, strict=True)):
        for i in range(0, count, 20):
            yield Reaction(f"tb-{c}-{i}", f"msg-{c}-{i}", 0, ReactionKind.LOVE, True, False,
                           conv.identifier, START + timedelta(days=1), chat_guids=(conv.guid,))


def text_exporters() -> list[Exporter]:
    return [VolumeText(), WholeText()]


def real_exporters() -> list[Exporter]:
    """The product's HTML, TXT and JSONL exporters (PDF left out: its first render of
    100,000 messages takes far longer than everything measured here)."""
    from coldtexts.exporters.html import HtmlExporter
    from coldtexts.exporters.jsonl import JsonlExporter
    from coldtexts.exporters.txt import TxtExporter

    return [HtmlExporter(), TxtExporter(), JsonlExporter()]


EXPORTERS = text_exporters


def one_run(root: Path, convs: list[Conversation], counts: list[int], days: int,
            extra: list[Message]) -> tuple[dict[str, float], RenderStats]:
    """One full run. The backup's messages are built before the clock starts: reading
    sms.db is the reader's cost (benchmarked with it), not the archive's."""
    times: dict[str, float] = {}
    backup = [*messages(convs, counts), *extra]
    backup_reactions = list(reactions(convs, counts))
    start = time.perf_counter()
    with Archive.open(root) as archive:
        times["open"] = time.perf_counter() - start
        t = time.perf_counter()
        info = SourceInfo("BENCH-UDID", "Bench iPhone", "iPhone15,2", "17.5",
                          START + timedelta(days=365 * YEARS + days))
        stats = archive.ingest(archive.begin_source(info), convs, backup, backup_reactions)
        times["ingest"] = time.perf_counter() - t
        t = time.perf_counter()
        rendered = archive.render(EXPORTERS(),
                                  RenderContext(root, RenderOptions(timezone="America/New_York")))
        times["render"] = time.perf_counter() - t
        t = time.perf_counter()
        archive.finish_run("success", {"new": stats.messages_new})
        times["finish"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - start
    return times, rendered


def ingest_memory(total: int, count: int) -> None:
    """Peak RSS of one process that streams `total` messages into a new archive: the
    same figure for 10,000 and 100,000 messages means ingest is memory-flat."""
    convs = conversations(count)
    counts = sizes(total, count)
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as work:
        root = Path(work) / "Archive"
        with Archive.open(root) as archive:
            info = SourceInfo("BENCH-UDID", "Bench iPhone", None, None, START)
            stats = archive.ingest(archive.begin_source(info), convs, messages(convs, counts),
                                   reactions(convs, counts))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"ingest of {stats.messages_new:,} streamed messages: peak RSS {peak:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=150)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--ingest-memory", action="store_true",
                        help="only measure the peak memory of a streamed ingest")
    parser.add_argument("--real-exporters", action="store_true",
                        help="render with the HTML, TXT and JSONL exporters")
    args = parser.parse_args(argv)
    global EXPORTERS
    if args.real_exporters:
        EXPORTERS = real_exporters
    if args.ingest_memory:
        ingest_memory(args.messages, args.conversations)
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    root = args.keep or work / "Archive"
    convs = conversations(args.conversations)
    counts = sizes(args.messages, args.conversations)
    try:
        rows = []
        first, r1 = one_run(root, convs, counts, 0, [])
        rows.append(("first export", first, r1))
        again, r2 = one_run(root, convs, counts, 0, [])
        rows.append(("unchanged re-run", again, r2))
        target = convs[5]
        extra = [Message(f"new-{i}", i, (target.guid,), MessageKind.MESSAGE, True, None,
                         "iMessage", START + timedelta(days=365 * YEARS, minutes=i),
                         text=f"new message {i}") for i in range(1000)]
        added, r3 = one_run(root, convs, counts, 30, extra)
        rows.append(("+1,000 messages in one chat", added, r3))
        _print(args.messages, rows, root, r3, target)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _print(total: int, rows: list[tuple[str, dict[str, float], RenderStats]], root: Path,
           last: RenderStats, target: Conversation) -> None:
    print(f"archive benchmark: {total:,} messages; python {sys.version.split()[0]}; "
          f"exporters: {', '.join(e.name for e in EXPORTERS())}")
    print(f"{'stage':30} {'open':>6} {'ingest':>7} {'render':>7} {'finish':>7} {'total':>7} "
          f"{'rendered':>9} {'skipped':>8}")
    for name, t, stats in rows:
        print(f"{name:30} {t['open']:6.2f} {t['ingest']:7.2f} {t['render']:7.2f} "
              f"{t['finish']:7.2f} {t['total']:7.2f} {stats.rendered:9d} {stats.skipped:8d}")
    touched = sorted({d.conversation for d in last.decisions if d.rendered})
    print(f"conversations re-rendered after adding 1,000 messages: {touched} "
          f"(target {target.identifier}; '' = site index)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store_mb = (root / "coldtexts.db").stat().st_size / 1e6
    manifest = hashlib.sha256((root / "MANIFEST.sha256").read_bytes()).hexdigest()[:12]
    print(f"peak RSS {peak:.0f} MB; store {store_mb:.1f} MB; manifest digest {manifest}")


if __name__ == "__main__":
    raise SystemExit(main())
