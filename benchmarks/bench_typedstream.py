"""attributedBody decoding: coldtexts' decoder against pytypedstream, side by side.

    .venv/bin/python benchmarks/bench_typedstream.py [--bodies 3000] [--rounds 3]

Sets: the real-device blobs in ../shared/realdata/typedstream (when present; the two that
are not attributed strings are left out) and encoder-built typical bodies (plain text of
2-40 words, some with emoji, bold runs, mentions, links or an attachment). Each decoder
decodes the same set; the best of `rounds` passes is reported.

Our decoder is measured twice, each pass starting from empty caches: with the run cache
off (every body fully parsed; only the class-chain cache helps, and it is warm after the
first body), and as it runs by default, where bodies of the same shape and length share
their run decoding, as they do in a real sms.db. Each real blob occurs once per pass, so
the run cache never hits there; on the typical set it does, as in a real database.
Times are CPU time of this process (the machine is shared and noisy).
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


def _pass(decode: Callable[[bytes], object], blobs: Sequence[bytes]) -> float:
    """CPU seconds of one pass (process time: other processes on this shared, noisy machine
    then do not count against whichever decoder happened to run while they were busy)."""
    ours.clear_cache()
    start = time.process_time()
    for blob in blobs:
        decode(blob)
    return time.process_time() - start


def _ours_cold(blob: bytes) -> object:
    return ours.decode_uncached(blob)


DECODERS: list[tuple[str, Callable[[bytes], object]]] = [
    ("pytypedstream 0.1.0", typedstream.unarchive_from_data),
    ("coldtexts, no run cache", _ours_cold),
    ("coldtexts, default (run cache)", ours.decode_attributed_body),
]


def measure(name: str, blobs: list[bytes], rounds: int) -> list[list[object]]:
    """Interleaved passes (A B C A B C ...), best pass per decoder; caches start empty."""
    best = {label: float("inf") for label, _ in DECODERS}
    for _ in range(rounds):
        for label, decode in DECODERS:
            best[label] = min(best[label], _pass(decode, blobs))
    size = round(sum(map(len, blobs)) / len(blobs))
    reference = len(blobs) / best[DECODERS[0][0]]
    rows: list[list[object]] = []
    for label, _ in DECODERS:
        per_second = len(blobs) / best[label]
        rows.append([name, len(blobs), size, label, round(per_second),
                     f"{1e6 / per_second:.1f}", f"{per_second / reference:.1f}×"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
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
