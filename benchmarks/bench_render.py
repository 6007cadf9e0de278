"""Render benchmark: TXT, JSONL, HTML and PDF of one long conversation, each stage in a
fresh process (time and peak memory of that stage alone, workers included).

    .venv/bin/python benchmarks/bench_render.py [--messages 100000] [--pdf-messages 8000]
        [--stages txt jsonl html pdf] [--profile DIR]

The conversation is tests/view_factory.bulk_volume: plausible one-to-one messages (2 to
30 words, some emoji, CJK and Arabic words, a tapback on every 7th, a reply on every 25th,
a photo on every 40th), split into volumes of VOLUME_MAX messages as the archive does.
View construction is not timed: each stage times its exporter's render_many only.

PDF is compared side by side, in the same run and on the same messages, with a plain
single-process WeasyPrint render of one HTML document with simple bubble CSS (the
baseline the issue names); both run on a slice (--pdf-messages) because the baseline
alone would take the better part of an hour and several GB on the full conversation.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent / "tests")]

from _common import (  # noqa: E402
    Measurement,
    machine_info,
    markdown_table,
    run_isolated,
)

VOLUME_MAX = 4000  # coldtexts.archive.volumes.VOLUME_MAX
PLAIN_CSS = """
@page { size: A4; margin: 15mm; }
body { font-family: "Noto Sans", sans-serif; font-size: 10pt; }
.m { margin: 2px 0; }
.m.me { text-align: right; }
.b { display: inline-block; max-width: 75%; padding: 3px 8px; border-radius: 9px;
     background: #e9e9eb; text-align: left; }
.me .b { background: #0a84ff; color: white; }
.t { font-size: 7pt; color: #888; }
"""


def volumes(messages: int, *, start_year: int = 2000) -> tuple[Any, ...]:
    """`messages` split into volumes of VOLUME_MAX, keyed by year like the archive."""
    from view_factory import bulk_volume, with_volumes

    groups = []
    left, year = messages, start_year
    while left > 0:
        size = min(left, VOLUME_MAX)
        volume = bulk_volume(size, key=str(year), seed=year)
        groups.append((volume.volume.key, volume.volume.label, volume.messages))
        left -= size
        year += 1
    return with_volumes(bulk_volume(1).conversation, groups)


def _context(root: str, workers: int = 0) -> Any:
    from coldtexts.exporters.base import RenderContext, RenderOptions

    return RenderContext(Path(root), RenderOptions(timezone="America/New_York",
                                                   pdf_workers=workers))


class Descendants:
    """Samples every descendant process (PDF workers are grandchildren, under the
    forkserver, so RUSAGE_CHILDREN misses them): largest RSS and CPU seconds (Linux)."""

    def __init__(self) -> None:
        self.peak_rss_mb = 0.0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Descendants:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.wait(0.2):
            for pid in _descendants(me):
                try:
                    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                self.cpu[pid] = (int(stat[11]) + int(stat[12])) / tick
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_rss_mb = max(self.peak_rss_mb, int(line.split()[1]) / 1024)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        for child in parents.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def render_stage(name: str, messages: int, root: str, workers: int = 0) -> dict[str, Any]:
    """Build the views, then time one exporter's render_many over every volume."""
    from coldtexts.exporters import get_exporters
    from coldtexts.exporters.base import RenderJob

    views = volumes(messages)
    exporter = get_exporters([name])[0]
    conversation = views[0].conversation
    if exporter.scope == "conversation":
        jobs = [RenderJob(exporter.output_path(conversation, None), conversation, views)]
    else:
        jobs = [RenderJob(exporter.output_path(conversation, v.volume.key), conversation, (v,))
                for v in views]
    ctx = _context(root, workers)
    with Descendants() as workers_seen:
        start, cpu = time.perf_counter(), time.process_time()
        sizes = [len(r.data or b"") for r in exporter.render_many(jobs, ctx)]
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        close = getattr(exporter, "close", None)
        if close is not None:
            close()
    return {"seconds": seconds, "messages": messages, "outputs": len(sizes),
            "bytes": sum(sizes), "volumes": len(views),
            "cpu_seconds": cpu + workers_seen.cpu_seconds,
            "worker_peak_rss_mb": workers_seen.peak_rss_mb}


def plain_html(views: tuple[Any, ...]) -> str:
    """The same messages as one document with the plainest bubble markup."""
    rows = []
    for volume in views:
        for view in volume.messages:
            side = "m me" if view.message.is_from_me else "m"
            when = view.message.date.strftime("%Y-%m-%d %H:%M")
            rows.append(f'<div class="{side}"><div class="b">{html.escape(view.message.text)}'
                        f'</div><div class="t">{html.escape(view.sender_name)} {when}</div>'
                        "</div>")
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>plain</title>'
            "</head><body>" + "\n".join(rows) + "</body></html>")


def plain_pdf_stage(messages: int) -> dict[str, Any]:
    """The baseline: one WeasyPrint document, one process, simple bubble CSS."""
    from weasyprint import CSS, HTML

    source = plain_html(volumes(messages))
    start, cpu = time.perf_counter(), time.process_time()
    data = HTML(string=source).write_pdf(stylesheets=[CSS(string=PLAIN_CSS)])
    return {"seconds": time.perf_counter() - start, "messages": messages, "bytes": len(data),
            "cpu_seconds": time.process_time() - cpu, "worker_peak_rss_mb": 0.0}


def _rate(m: Measurement) -> float:
    return float(m.result["messages"]) / m.seconds


def run(args: argparse.Namespace) -> dict[str, Any]:
    env = {"COLDTEXTS_BENCH_PROFILE": args.profile} if args.profile else None
    report: dict[str, Any] = {"machine": machine_info(), "messages": args.messages,
                              "pdf_messages": args.pdf_messages, "stages": {}}
    with tempfile.TemporaryDirectory(prefix="bench-render-") as root:
        for name in args.stages:
            count = args.pdf_messages if name == "pdf" else args.messages
            if name == "pdf":
                baseline = run_isolated("bench_render:plain_pdf_stage", {"messages": count},
                                        env=_label(env, "pdf-plain"))
                report["stages"]["pdf-plain"] = _row(baseline)
                print(_line("pdf-plain", baseline), flush=True)
            measured = run_isolated("bench_render:render_stage",
                                    {"name": name, "messages": count, "root": root,
                                     "workers": args.workers}, env=_label(env, name))
            report["stages"][name] = _row(measured)
            print(_line(name, measured), flush=True)
    stages = report["stages"]
    if "pdf" in stages and "pdf-plain" in stages:
        report["pdf_speedup"] = stages["pdf"]["msg_per_s"] / stages["pdf-plain"]["msg_per_s"]
    return report


def _label(env: dict[str, str] | None, label: str) -> dict[str, str] | None:
    return None if env is None else {**env, "COLDTEXTS_BENCH_PROFILE_LABEL": f"render-{label}"}


def _row(m: Measurement) -> dict[str, Any]:
    return {"seconds": m.seconds, "msg_per_s": _rate(m), "peak_rss_mb": m.peak_rss_mb,
            "msg_per_cpu_s": m.result["messages"] / max(m.result["cpu_seconds"], 1e-9),
            **m.result}


def _line(name: str, m: Measurement) -> str:
    return (f"{name:10} {m.result['messages']:>8,} messages  {m.seconds:8.2f} s  "
            f"{_rate(m):>10,.0f} msg/s  {m.result['cpu_seconds']:8.2f} CPU s  "
            f"peak {m.peak_rss_mb:,.0f} MB (largest worker "
            f"{m.result['worker_peak_rss_mb']:,.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--pdf-messages", type=int, default=8_000)
    parser.add_argument("--workers", type=int, default=0, help="PDF workers (0: one per core)")
    parser.add_argument("--stages", nargs="+", default=["txt", "jsonl", "html", "pdf"],
                        choices=["txt", "jsonl", "html", "pdf"])
    parser.add_argument("--profile", help="folder for one pyinstrument profile per stage")
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    report = run(args)
    rows = [(name, s["messages"], s["seconds"], s["msg_per_s"], s["cpu_seconds"],
             s["msg_per_cpu_s"], s["peak_rss_mb"], s["worker_peak_rss_mb"])
            for name, s in report["stages"].items()]
    print(markdown_table(["stage", "messages", "wall s", "msg/s", "CPU s", "msg/CPU s",
                          "peak MB", "largest worker MB"], rows))
    if "pdf_speedup" in report:
        print(f"PDF: {report['pdf_speedup']:.2f}x the plain single-process WeasyPrint render")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
