"""attributedBody decoding: coldtexts' decoder against pytypedstream, side by side.

    .venv/bin/python benchmarks/bench_typedstream.py [--bodies 3000] [--rounds 3]

Sets: the real-device blobs in ../shared/realdata/typedstream (when present; the two that
are not attributed strings are left out) and encoder-built typical bodies (plain text of
2-40 words, some with emoji, bold runs, mentions, links or an attachment). Each decoder
decodes the same set; the best of `rounds` passes is reported.

Our decoder is measured twice: "cold" with the run cache off (every body fully parsed),
and "cached", the default, starting from an empty cache each pass: bodies of the same
shape and length share their run decoding, as they do in a real sms.db. On the small
real-data set the cache is warm after the first of each blob, so read its "cached" line
as the upper bound; the typical set is the realistic figure.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH_DIR), str(BENCH_DIR.parent / "src")]

import typedstream  # noqa: E402
from _common import machine_info, markdown_table  # noqa: E402

from coldtexts.fixtures.typedstream_writer import NSURLValue, encode_attributed_body  # noqa: E402
from coldtexts.messages import typedstream as ours  # noqa: E402
from coldtexts.messages.typedstream import utf16_length  # noqa: E402

REALDATA = BENCH_DIR.parent.parent / "shared" / "realdata" / "typedstream"
PART = "__kIMMessagePartAttributeName"
WORDS = ("the", "see", "you", "at", "dinner", "tomorrow", "love", "okay", "call", "me",
         "when", "home", "thanks", "😀", "❤️", "🎉", "café", "naïve", "meeting", "school")


def real_blobs() -> list[bytes]:
    if not REALDATA.is_dir():
        return []
    skip = {"expected.json", "HugeWithRefs", "ExtraData"}
    return [p.read_bytes() for p in sorted(REALDATA.iterdir()) if p.name not in skip]


def typical_bodies(count: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    bodies = []
    for index in range(count):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 40)))
        runs: list[tuple[int, dict[str, object]]]
        kind = index % 10
        if kind == 0:  # a bold first word
            head, _, tail = text.partition(" ")
            runs = [(utf16_length(head), {PART: 0, "__kIMTextBoldAttributeName": 1}),
                    (utf16_length(tail) + 1, {PART: 0})]
        elif kind == 1:  # a mention in front
            text = "Sam " + text
            runs = [(3, {PART: 0, "__kIMMentionConfirmedMention": "+15551234567"}),
                    (utf16_length(text) - 3, {PART: 0})]
        elif kind == 2:  # a link
            text = text + " https://example.com/" + str(index)
            url_len = utf16_length(" https://example.com/" + str(index))
            runs = [(utf16_length(text) - url_len, {PART: 0}),
                    (url_len, {PART: 0, "__kIMLinkAttributeName":
                               NSURLValue("https://example.com/" + str(index))})]
        elif kind == 3:  # a photo then a caption
            text = "\ufffc" + text
            runs = [(1, {PART: 0, "__kIMFileTransferGUIDAttributeName": f"at_0_{index:08d}",
                         "__kIMInlineMediaWidthAttributeName": 1024.0}),
                    (utf16_length(text) - 1, {PART: 1})]
        else:
            runs = [(utf16_length(text), {PART: 0})]
        bodies.append(encode_attributed_body(text, runs))
    return bodies


def rate(decode: Callable[[bytes], object], blobs: Sequence[bytes], rounds: int,
         before: Callable[[], None] = lambda: None) -> float:
    best = float("inf")
    for _ in range(rounds):
        before()
        start = time.perf_counter()
        for blob in blobs:
            decode(blob)
        best = min(best, time.perf_counter() - start)
    return len(blobs) / best


def measure(name: str, blobs: list[bytes], rounds: int) -> list[list[object]]:
    def cold(blob: bytes) -> object:
        return ours.decode_attributed_body(blob)

    ours.cache_enabled = False
    cold_rate = rate(cold, blobs, rounds)
    ours.cache_enabled = True
    cached_rate = rate(cold, blobs, rounds, before=ours.clear_cache)
    reference = rate(typedstream.unarchive_from_data, blobs, rounds)
    size = sum(map(len, blobs)) / len(blobs)
    return [
        [name, len(blobs), round(size), "pytypedstream 0.1.0", round(reference),
         f"{1e6 / reference:.1f}", "1.0×"],
        [name, len(blobs), round(size), "coldtexts, cold (no cache)", round(cold_rate),
         f"{1e6 / cold_rate:.1f}", f"{cold_rate / reference:.1f}×"],
        [name, len(blobs), round(size), "coldtexts, cached (default)", round(cached_rate),
         f"{1e6 / cached_rate:.1f}", f"{cached_rate / reference:.1f}×"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows: list[list[object]] = []
    real = real_blobs()
    if real:
        rows += measure("real-device blobs", real, args.rounds * 20)
    rows += measure("typical (encoder-built)", typical_bodies(args.bodies), args.rounds)
    info = machine_info()
    print(f"machine: {info.get('cpu', '?')}, {info.get('cores', '?')} cores, "
          f"Python {info.get('python', '?')}")
    print(markdown_table(["set", "bodies", "avg bytes", "decoder", "bodies/s", "µs/body",
                          "vs pytypedstream"], rows))


if __name__ == "__main__":
    main()
