"""The synthetic workload's shape model, texts and media bytes (pure parts, no builders)."""

from __future__ import annotations

import io
import itertools
import random
import struct
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from coldtexts.fixtures.workload_media import (
    DEFAULT_MIX,
    PhotoPool,
    caf_audio,
    quicktime_video,
    unique_photo,
)
from coldtexts.fixtures.workload_messages import iter_messages
from coldtexts.fixtures.workload_shape import (
    conversation_sizes,
    message_times,
    plan_workload,
)


@pytest.mark.parametrize(("messages", "count"), [(10, 3), (300, 12), (10_000, 70),
                                                 (1_000_000, 700), (5, 5)])
def test_conversation_sizes_sum_exactly_and_the_largest_holds_a_third(messages: int,
                                                                     count: int) -> None:
    sizes = conversation_sizes(messages, count)
    assert sum(sizes) == messages
    assert len(sizes) == count
    assert min(sizes) >= 1
    assert sizes[0] == max(sizes)
    if messages >= 300:
        assert abs(sizes[0] / messages - 1 / 3) < 0.01
    if count >= 50:  # heavy tail: the smallest half of conversations holds under a tenth
        assert sum(sorted(sizes)[: count // 2]) < 0.1 * messages


def test_plan_is_deterministic_and_seed_dependent() -> None:
    assert plan_workload(2_000, seed=3) == plan_workload(2_000, seed=3)
    assert plan_workload(2_000, seed=3) != plan_workload(2_000, seed=4)


def test_message_times_ascend_within_the_span_and_come_in_bursts() -> None:
    plan = plan_workload(5_000, seed=1, years=10)
    conversation = plan.conversations[0]
    times = list(message_times(conversation, random.Random(1)))
    assert len(times) == conversation.message_count
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    short = sum(1 for g in gaps if g < 600 * 10**9)
    assert short / len(gaps) > 0.6  # most messages follow the previous within minutes
    span_years = (times[-1] - times[0]) / 10**9 / 86_400 / 365
    assert 8.5 < span_years <= 10.01


def test_messages_have_the_requested_mix() -> None:
    plan = plan_workload(6_000, seed=0)
    specs = list(iter_messages(plan, attachment_ratio=0.08, media_mix=DEFAULT_MIX))
    assert len(specs) == 6_000
    assert [s.row for s in specs] == list(range(6_000))
    with_attachments = sum(1 for s in specs if s.attachments)
    assert abs(with_attachments / 6_000 - 0.08) < 0.015
    kinds = Counter(a.kind for s in specs for a in s.attachments)
    assert kinds["heic"] + kinds["jpeg"] > 0.6 * sum(kinds.values())
    assert kinds["mov"] > 0 and kinds["caf"] > 0
    assert sum(1 for s in specs if s.reaction) > 0.04 * 6_000
    assert any(s.reply_to for s in specs) and any(s.edited_from for s in specs)
    assert any(s.link for s in specs) and any(s.group_event for s in specs)
    guids = {s.guid for s in specs}
    assert len(guids) == len(specs)
    assert all(s.reaction.target_guid in guids for s in specs if s.reaction)
    text = "".join(s.text or "" for s in specs)
    for low, high in ((0x4E00, 0x9FFF), (0x0600, 0x06FF), (0x0400, 0x04FF), (0x1F300, 0x1FAFF)):
        assert any(low <= ord(ch) <= high for ch in text), hex(low)
    per_conversation = Counter(s.conversation for s in specs)
    assert per_conversation.most_common(1)[0][1] == 2_000
    assert any(c.is_group for c in plan.conversations)


def test_unique_photos_differ_and_still_decode(tmp_path: Path) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    pool = PhotoPool(0.02, tmp_path / "cache")
    for kind in ("heic", "jpeg", "png"):
        base = pool.base(kind, 0)
        one, two = unique_photo(kind, base, "a"), unique_photo(kind, base, "b")
        assert one != two != base
        for data in (one, two):
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                assert image.size == Image.open(io.BytesIO(base)).size
    assert len(list((tmp_path / "cache").iterdir())) == 18  # 6 bases per format, cached
    again = PhotoPool(0.02, tmp_path / "cache")
    assert again.base("heic", 1) == pool.base("heic", 1)


def test_audio_is_a_well_formed_caf_and_video_has_the_requested_size() -> None:
    audio = caf_audio(2.0, "x", random.Random(0))
    assert audio[:4] == b"caff"
    chunks = {}
    offset = 8
    while offset < len(audio):
        kind = audio[offset:offset + 4]
        (size,) = struct.unpack(">q", audio[offset + 4:offset + 12])
        chunks[kind] = audio[offset + 12:offset + 12 + size]
        offset += 12 + size
    assert offset == len(audio)
    assert set(chunks) == {b"desc", b"info", b"data"}
    assert len(chunks[b"data"]) == 4 + 2 * 2 * 8_000  # edit count + 2 s of 16-bit mono
    video = quicktime_video(50_000, random.Random(0))
    assert len(video) == 50_000 and video[4:8] == b"ftyp"
