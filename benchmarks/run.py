"""One command for every figure in BENCHMARKS.md, on a realistic synthetic backup.

    .venv/bin/python benchmarks/run.py --messages 100000 [--seed 0]
        [--out benchmarks/results/100k.json] [--keep] [--photo-megapixels 1]

Generates (or reuses from benchmarks/work/) an encrypted backup with the real
10,000,000-round key derivation, then measures each stage in its own process (peak RSS
is a per-process high-water mark, so per-stage memory needs per-stage processes):
unlock, decrypt, attributedBody decoding, ingest, render per format, incremental
re-runs; and, on the same backup in the same run, the alternatives users would pick
instead. Prints one markdown table and writes the JSON (with the machine's details).
`--messages 10000,100000` runs several sizes and adds a µs/message-by-size table;
`--compare a.json b.json` prints that table from earlier runs (e.g. a 1M run).
A stage that cannot run says why in its row.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    BENCH_DIR,
    PROFILE_ENV,
    PROFILE_LABEL_ENV,
    Measurement,
    machine_info,
    markdown_table,
    run_isolated,
)
from coldtexts.fixtures.workload import GENERATOR_VERSION

REAL_DPIC = 10_000_000


@dataclass(slots=True)
class Row:
    stage: str
    tool: str
    status: str = "ok"  # ok, not available, failed: ..., skipped: ...
    seconds: float | None = None
    throughput: float | None = None
    unit: str = ""
    us_per_message: float | None = None
    peak_rss_mb: float | None = None
    workers_peak_rss_mb: float | None = None
    vs_coldtexts: float | None = None  # the alternative's time / coldtexts' time
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Context:
    args: argparse.Namespace
    messages: int
    workload: dict[str, Any]
    work: Path
    rows: list[Row] = field(default_factory=list)
    key: str | None = None
    args_messages: int = 0  # the size asked for (the workload key), before generation
    pdf_seconds: float | None = None  # a PDF-only export run's render time, when there is one

    @property
    def backup(self) -> str:
        return str(self.workload["backup_dir"])

    @property
    def sms_db(self) -> str:
        return str(Path(self.workload["root"]) / "plain" / "sms.db")


def measure(ctx: Context, stage: str, tool: str, target: str, kwargs: dict[str, Any], *,
            size: Callable[[Measurement], tuple[float, str]] | None = None,
            per_message: bool = False, note: str = "") -> Row:
    """Run one stage in its own process and record it (failures are recorded, not fatal)."""
    row = Row(stage=stage, tool=tool, note=note)
    env = {}
    if ctx.args.profile:
        env = {PROFILE_ENV: str(ctx.args.profile / f"{ctx.messages}"),
               PROFILE_LABEL_ENV: "".join(c if c.isalnum() else "_" for c in f"{stage}-{tool}")}
    try:
        m = run_isolated(target, kwargs, env=env)
    except Exception as exc:  # a broken stage must not hide the others' figures
        row.status = f"failed: {str(exc).strip().splitlines()[-1][:200]}"
        ctx.rows.append(row)
        return row
    row.seconds = m.seconds
    row.peak_rss_mb = round(m.peak_rss_mb, 1)
    row.workers_peak_rss_mb = round(m.children_peak_rss_mb, 1) or None
    row.extra = m.result
    if size is not None and m.seconds > 0:
        amount, unit = size(m)
        row.throughput, row.unit = amount / m.seconds, unit
    if per_message:  # per item measured when the stage reports a count, else per message
        count = m.result.get("items") or m.result.get("messages") or ctx.messages
        row.us_per_message = m.seconds / count * 1e6
    ctx.rows.append(row)
    return row


def missing(ctx: Context, stage: str, tool: str, note: str = "") -> None:
    ctx.rows.append(Row(stage=stage, tool=tool, status="not available", note=note))


def ratios(rows: list[Row], reference_tool: str = "coldtexts") -> None:
    """vs_coldtexts = alternative time / coldtexts time, within each stage."""
    for row in rows:
        ref = next((r for r in rows if r.stage == row.stage and r.tool == reference_tool
                    and r.seconds), None)
        if ref is not None and row.seconds and row is not ref and ref.seconds:
            row.vs_coldtexts = row.seconds / ref.seconds


# --- the workload ----------------------------------------------------------------------


def ensure_workload(args: argparse.Namespace, messages: int, work: Path, *,
                    extra: int = 0) -> tuple[dict[str, Any], Row]:
    name = (f"w{messages}-s{args.seed}-mp{args.photo_megapixels:g}-a{args.attachment_ratio:g}"
            f"-d{args.dpic}-x{extra}-v{GENERATOR_VERSION}")
    folder = work / "workloads" / name
    recorded = folder / "workload.json"
    if recorded.is_file() and (folder / "plain" / "sms.db").is_file():
        info = json.loads(recorded.read_text())
        return info, Row(stage="generate", tool="workload", status="ok",
                         note=f"reused {folder.name} (generated in {info['seconds']:.0f} s)")
    kwargs = {"out_dir": str(folder), "messages": messages, "seed": args.seed,
              "photo_megapixels": args.photo_megapixels, "cache_dir": str(work / "cache"),
              "attachment_ratio": args.attachment_ratio}
    m = run_isolated("_run_stages:generate",
                     {**kwargs, "dpic": args.dpic, "extra_in_largest": extra})
    info = m.result
    row = Row(stage="generate" if not extra else "generate +1,000", tool="workload",
              seconds=m.seconds, throughput=info["messages"] / m.seconds, unit="messages/s",
              us_per_message=m.seconds / info["messages"] * 1e6,
              peak_rss_mb=round(m.peak_rss_mb, 1),
              note=(f"{info['attachments']:,} attachments, "
                    f"{info['attachment_bytes'] / 1e9:.2f} GB, {info['conversations']} chats"))
    return info, row


# --- stages ----------------------------------------------------------------------------


def stage_key_derivation(ctx: Context) -> None:
    from _run_stages import keybag_parameters

    params: dict[str, Any] = keybag_parameters(ctx.backup)
    kwargs = {"password": ctx.args.password, **params}
    note = f"PBKDF2-SHA256 x{params['dpic']:,} + PBKDF2-SHA1 x{params['iterations']:,}"
    row = measure(ctx, "unlock", "coldtexts", "_run_stages:unlock_coldtexts",
                  {"backup_dir": ctx.backup, "password": ctx.args.password},
                  note=note + ", class keys unwrapped")
    ctx.key = row.extra.pop("key", None)
    for tool, target in (("hashlib", "kdf_hashlib"), ("pycryptodome", "kdf_pycryptodome"),
                         ("cryptography", "kdf_cryptography")):
        row = measure(ctx, "unlock", tool, f"_run_stages:{target}", kwargs, note=note)
        if ctx.key is None and row.status == "ok":
            ctx.key = str(row.extra.pop("key"))
        row.extra.pop("key", None)


def stage_decrypt(ctx: Context) -> None:
    assert ctx.key is not None, "the key derivation stage runs first"
    scratch = ctx.work / "scratch"

    def mb(m: Measurement) -> tuple[float, str]:
        return m.result["bytes"] / 1e6, "MB/s"

    measure(ctx, "decrypt", "coldtexts", "_run_stages:decrypt_coldtexts",
            {"backup_dir": ctx.backup, "password_file": ctx.workload["password_file"],
             "sms_db": ctx.sms_db, "out_dir": str(scratch / "coldtexts")},
            size=mb, per_message=True,
            note="sms.db, AddressBook, every attachment; open (with PBKDF2) not timed")
    if ctx.args.skip_peers:
        return
    common = {"backup_dir": ctx.backup, "key": ctx.key, "out_dir": str(scratch / "peer")}
    note = "extract_files after unlocking with the derived key (no PBKDF2 timed)"
    measure(ctx, "decrypt", "iphone-backup-decrypt", "_run_stages:decrypt_iphone_backup_decrypt",
            common, size=mb, per_message=True, note=note)
    measure(ctx, "decrypt", "iOSbackup", "_run_stages:decrypt_iosbackup", common, size=mb,
            per_message=True, note="getFolderDecryptedCopy, derived key given")


def stage_typedstream(ctx: Context) -> None:
    limit = ctx.args.typedstream_limit or ctx.messages
    kwargs = {"sms_db": ctx.sms_db, "limit": limit}

    def items(m: Measurement) -> tuple[float, str]:
        return m.result["items"], "bodies/s"

    measure(ctx, "attributedBody", "coldtexts", "_run_stages:typedstream_coldtexts", kwargs,
            size=items, per_message=True,
            note="decode_attributed_body, as the reader runs it (prefix cache on)")
    measure(ctx, "attributedBody", "coldtexts, no cache", "_run_stages:typedstream_coldtexts",
            {**kwargs, "use_cache": False}, size=items, per_message=True,
            note="run cache off: every body fully parsed")
    if not ctx.args.skip_peers:
        measure(ctx, "attributedBody", "pytypedstream", "_run_stages:typedstream_pytypedstream",
                kwargs, size=items, per_message=True, note="unarchive_from_data")


def stage_pipeline(ctx: Context) -> None:
    """`coldtexts export` as a user runs it. Above --pdf-messages, PDF (~100 messages/s
    on two cores) would take most of the budget, so the first run renders the other
    formats of everything and a second run renders the PDF volumes holding the newest
    --pdf-messages messages, from which the full PDF time is extrapolated."""
    archive = Path(ctx.workload["root"]) / "archive"
    shutil.rmtree(archive, ignore_errors=True)
    common = {"backup_dir": ctx.backup, "password_file": ctx.workload["password_file"],
              "archive": str(archive), "timeout": ctx.args.export_timeout}
    since = None
    if ctx.args.pdf_messages and ctx.messages > ctx.args.pdf_messages:
        since = newest_day(ctx.sms_db, ctx.args.pdf_messages)
    formats = ["--formats", "html,txt,jsonl"] if since else []
    common["extra_args"] = [*formats, "--timezone", "UTC"]

    def per_message(m: Measurement) -> tuple[float, str]:
        return ctx.messages, "messages/s"

    what = "all formats" if not since else "HTML, TXT and JSONL (PDF measured below)"
    first = measure(ctx, "export, first run", "coldtexts", "_run_stages:export_cli", common,
                    size=per_message, per_message=True,
                    note=f"coldtexts export, {what}, one process tree")
    report_breakdown(ctx, first)
    if since:
        stage_pdf_slice(ctx, archive, common, since)
    measure(ctx, "re-run unchanged", "coldtexts", "_run_stages:export_cli", common,
            note="same backup again: everything skipped by render keys")
    later, generated = ensure_workload(ctx.args, ctx.args_messages, ctx.work, extra=1_000)
    ctx.rows.append(generated)
    row = measure(ctx, "re-run +1,000 in one chat", "coldtexts", "_run_stages:export_cli",
                  {**common, "backup_dir": str(later["backup_dir"])},
                  note="the next backup: 1,000 newer messages in the largest conversation")
    row.extra = {"report": row.extra.get("report", {})}
    stage_weasyprint_baseline(ctx, archive)


def newest_day(sms_db: str, count: int) -> str | None:
    """The first day (UTC) of the newest `count` messages in the workload's sms.db."""
    import sqlite3

    from coldtexts.messages.dates import apple_time

    with sqlite3.connect(f"file:{sms_db}?mode=ro", uri=True) as db:
        row = db.execute("SELECT date FROM message ORDER BY date DESC LIMIT 1 OFFSET ?",
                         (count - 1,)).fetchone()
    moment = apple_time(row[0]) if row else None
    return moment.date().isoformat() if moment else None


def stage_pdf_slice(ctx: Context, archive: Path, common: dict[str, Any], since: str) -> None:
    """PDF of the volumes that hold the newest messages: messages/s, and the full time."""
    extra_args = ["--formats", "pdf", "--since", since, "--timezone", "UTC"]
    row = measure(ctx, "export, PDF of the newest volumes", "coldtexts",
                  "_run_stages:export_cli", {**common, "extra_args": extra_args})
    counts = [volume_message_count(pdf) for pdf in archive.glob("conversations/*/*.pdf")]
    rendered = sum(c for c in counts if c)
    report = row.extra.get("report") or {}
    seconds = (report.get("timings") or {}).get("render")
    if row.status != "ok" or not rendered or not seconds:
        return
    ctx.pdf_seconds = seconds
    row.throughput, row.unit = rendered / seconds, "messages/s"
    row.us_per_message = seconds / rendered * 1e6
    row.note = (f"--formats pdf --since {since}: {len(counts)} volumes, "
                f"{rendered:,} messages, rendered in {seconds:.0f} s; all {ctx.messages:,} "
                f"would take ~{ctx.messages / row.throughput / 60:.0f} min")


def volume_message_count(pdf: Path) -> int | None:
    """A volume's message count, from its HTML page's header (the PDF shares it)."""
    page = pdf.with_suffix(".html")
    if not page.is_file():
        return None
    found = re.search(r'class="span">[^<]*?· ([\d,]+) messages? ·',
                      page.read_text("utf-8"))
    return int(found.group(1).replace(",", "")) if found else None


def report_breakdown(ctx: Context, row: Row) -> None:
    """Stage times from the export's own run report (same process: no per-stage RSS)."""
    report = row.extra.get("report") or {}
    timings = report.get("timings") or report.get("stages") or {}
    for name, seconds in timings.items() if isinstance(timings, dict) else ():
        if isinstance(seconds, int | float):
            ctx.rows.append(Row(stage=f"  {name}", tool="coldtexts", seconds=float(seconds),
                                throughput=ctx.messages / seconds if seconds else None,
                                unit="messages/s",
                                us_per_message=seconds / ctx.messages * 1e6,
                                note="from the run report (inside the export process)"))


def stage_weasyprint_baseline(ctx: Context, archive: Path) -> None:
    """Plain single-process WeasyPrint on the archive's largest HTML page, in pages/s,
    against coldtexts' PDF pages/s over the whole archive."""
    pages = sorted(archive.glob("conversations/*/*.html"), key=lambda p: p.stat().st_size)
    if not pages:
        missing(ctx, "render pdf", "WeasyPrint, plain", "no HTML pages in the archive")
        return
    html = pages[-1]
    row = measure(ctx, "render pdf (pages/s)", "WeasyPrint, plain",
                  "_run_stages:weasyprint_plain", {"html_files": [str(html)]},
                  size=lambda m: (m.result["pages"], "pages/s"),
                  note=f"the largest HTML page ({html.parent.name}/{html.name}), one process")
    pdf_pages = count_pdf_pages(archive)
    stage_seconds = {r.stage.strip(): r.seconds for r in ctx.rows if r.seconds}
    pdf_seconds = ctx.pdf_seconds or stage_seconds.get("render pdf")
    bound = ""
    if pdf_seconds is None and "render" in stage_seconds:
        # The run report times all formats' rendering together: a lower bound on PDF speed.
        pdf_seconds, bound = stage_seconds["render"], " (lower bound: all formats' render time)"
    if pdf_pages and pdf_seconds and row.throughput:
        ours = pdf_pages / pdf_seconds
        ctx.rows.append(Row(stage="render pdf (pages/s)", tool="coldtexts", seconds=pdf_seconds,
                            throughput=ours, unit="pages/s",
                            note=f"{pdf_pages:,} PDF pages rendered; {ours / row.throughput:.2f}x"
                                 f" the plain WeasyPrint rate{bound}"))


def count_pdf_pages(archive: Path) -> int:
    try:
        import pikepdf
    except ImportError:
        return 0
    total = 0
    for pdf in archive.glob("conversations/*/*.pdf"):
        with pikepdf.open(pdf) as document:
            total += len(document.pages)
    return total


def stage_read(ctx: Context) -> None:
    """The sms.db reader on the workload's database (bench_reader.py's measured stage)."""

    def messages(m: Measurement) -> tuple[float, str]:
        return m.result["messages"], "messages/s"

    from coldtexts.messages.reader_parallel import MIN_ROWS

    two = (f"two processes from {MIN_ROWS:,} rows with a date index, on two or more "
           "cores")
    measure(ctx, "read sms.db", "coldtexts", "bench_reader:read_all", {"path": ctx.sms_db},
            size=messages, per_message=True,
            note=f"conversations, messages (bodies decoded), reactions; {two}")
    measure(ctx, "read + ingest", "coldtexts", "_run_stages:read_and_ingest",
            {"sms_db": ctx.sms_db, "archive_dir": str(ctx.work / "scratch" / "ingest")},
            size=messages, per_message=True,
            note=f"reader streamed into a new store (no attachment files, no rendering); {two}")


STAGES = {
    "unlock": stage_key_derivation,
    "decrypt": stage_decrypt,
    "typedstream": stage_typedstream,
    "read": stage_read,
    "pipeline": stage_pipeline,
}


# --- reporting -------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    return markdown_table(
        ("Stage", "Tool", "Wall s", "Throughput", "µs/message", "Peak RSS MB",
         "Workers' peak MB", "Time vs coldtexts", "Note"),
        [(r.stage, r.tool, r.seconds if r.status == "ok" else r.status,
          f"{r.throughput:,.1f} {r.unit}" if r.throughput else None, r.us_per_message,
          r.peak_rss_mb, r.workers_peak_rss_mb,
          f"{r.vs_coldtexts:.2f}x" if r.vs_coldtexts else None, r.note) for r in rows])


def scaling_table(runs: list[dict[str, Any]]) -> str:
    """µs/message per stage for each size: flat is the goal."""
    sizes = [run["messages"] for run in runs]
    stages: dict[tuple[str, str], dict[int, float]] = {}
    for run in runs:
        for row in run["rows"]:
            if row.get("us_per_message"):
                stages.setdefault((row["stage"], row["tool"]), {})[run["messages"]] = \
                    row["us_per_message"]
    return markdown_table(("Stage", "Tool", *(f"µs/msg @ {n:,}" for n in sizes)),
                          [(s, t, *(v.get(n) for n in sizes)) for (s, t), v in stages.items()])


def run_size(args: argparse.Namespace, messages: int, work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    workload, generated = ensure_workload(args, messages, work)
    ctx = Context(args=args, messages=workload["messages"], workload=workload, work=work,
                  args_messages=messages)
    ctx.rows.append(generated)
    for name, stage in STAGES.items():
        if args.stages and name not in args.stages:
            continue
        if name == "decrypt" and ctx.key is None:
            ctx.rows.append(Row(stage="decrypt", tool="all", status="skipped: no derived key"))
            continue
        stage(ctx)
    ratios(ctx.rows)
    shutil.rmtree(work / "scratch", ignore_errors=True)
    if not args.keep:
        shutil.rmtree(Path(workload["root"]) / "archive", ignore_errors=True)
    return {"messages": ctx.messages, "seed": args.seed, "workload": workload,
            "total_seconds": time.perf_counter() - started,
            "rows": [row_json(r) for r in ctx.rows]}


def row_json(row: Row) -> dict[str, Any]:
    return asdict(row)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", default="10000",
                        help="message count, or several separated by commas")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="JSON results file")
    parser.add_argument("--keep", action="store_true", help="keep the archives produced")
    parser.add_argument("--work", type=Path, default=BENCH_DIR / "work",
                        help="workloads, photo cache and scratch (default benchmarks/work)")
    parser.add_argument("--photo-megapixels", type=float, default=1.0,
                        help="pixel size of generated photos (12 = a real iPhone photo)")
    parser.add_argument("--attachment-ratio", type=float, default=0.08,
                        help="share of messages with attachments (default 0.08)")
    parser.add_argument("--dpic", type=int, default=REAL_DPIC,
                        help="PBKDF2-SHA256 rounds in the keybag (real backups: 10,000,000)")
    parser.add_argument("--password", default="bench", help=argparse.SUPPRESS)
    parser.add_argument("--typedstream-limit", type=int, default=0,
                        help="decode at most this many bodies per decoder (0: all)")
    parser.add_argument("--skip-peers", action="store_true",
                        help="measure coldtexts only, not the alternatives")
    parser.add_argument("--stages", nargs="*", choices=sorted(STAGES),
                        help="only these stages (default: all)")
    parser.add_argument("--pdf-messages", type=int, default=10_000,
                        help="above this many messages, PDF is rendered (and timed) for the "
                             "volumes holding the newest this many (0: always all)")
    parser.add_argument("--export-timeout", type=float, default=3600,
                        help="stop an export run (and its workers) after this many seconds")
    parser.add_argument("--profile", type=Path,
                        help="write a pyinstrument profile of every stage into this folder")
    parser.add_argument("--compare", nargs="*", type=Path,
                        help="print the µs/message-by-size table from earlier JSON results")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.compare:
        runs = [run for path in args.compare for run in json.loads(path.read_text())["runs"]]
        print(scaling_table(sorted(runs, key=lambda r: r["messages"])))
        return 0
    sizes = [int(part.replace("_", "")) for part in args.messages.split(",")]
    machine = machine_info()
    runs = []
    for messages in sizes:
        run = run_size(args, messages, args.work)
        runs.append(run)
        rows = [Row(**r) for r in run["rows"]]
        print(f"\n### {run['messages']:,} messages (seed {args.seed}, "
              f"{args.photo_megapixels:g} MP photos) — {run['total_seconds']:.0f} s in all\n")
        print(table(rows))
    if len(runs) > 1:
        print("\n### Cost per message by size\n")
        print(scaling_table(runs))
    out = args.out or BENCH_DIR / "results" / f"run-{'-'.join(map(str, sizes))}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine, "command": sys.argv, "runs": runs},
                              indent=2, ensure_ascii=False) + "\n")
    print(f"\nMachine: {machine.get('cpu')}, {machine.get('cores')} cores, "
          f"{machine.get('ram_gb')} GB; results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
