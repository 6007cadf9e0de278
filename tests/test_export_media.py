"""Derived media: JPEG previews of every photo (HEIC included, EXIF-oriented, scaled),
PNG stickers, browser-playable audio; made once per content hash, atomically."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from coldtexts.exporters import media, workers
from PIL import Image

from coldtexts.view import AttachmentView
from view_factory import archive_path, attachment_view, sha
from view_factory_media import jpeg_bytes, write_originals


def views(*labels: str) -> list[AttachmentView]:
    return [attachment_view(label) for label in labels]


def made(root: Path, label: str, kind: str) -> Path:
    return root / media.preview_path(sha(label), kind)


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_preview_path_is_named_by_content_hash() -> None:
    digest = "ab" + "0" * 62
    assert media.preview_path(digest, "image") == f"previews/ab/{digest}.jpg"
    assert media.preview_path(digest, "sticker") == f"previews/ab/{digest}.png"
    assert media.preview_path(digest, "audio") == f"previews/ab/{digest}.m4a"


def test_photos_become_oriented_scaled_jpegs(tmp_path: Path) -> None:
    write_originals(tmp_path, ("photo-heic", "photo-jpeg", "photo-png"))
    assert media.ensure_previews(tmp_path, views("photo-heic", "photo-jpeg", "photo-png"),
                                 workers=2) == []
    with Image.open(made(tmp_path, "photo-heic", "image")) as heic:
        assert heic.format == "JPEG" and heic.size == (800, 600)
    with Image.open(made(tmp_path, "photo-jpeg", "image")) as turned:
        assert turned.size == (480, 640)  # EXIF orientation 6: stored 640x480, shown upright
    with Image.open(made(tmp_path, "photo-png", "image")) as png:
        assert png.format == "JPEG"


def test_large_photos_are_scaled_to_display_size(tmp_path: Path) -> None:
    target = tmp_path / archive_path("photo-jpeg")
    target.parent.mkdir(parents=True)
    target.write_bytes(jpeg_bytes(4032, 3024))
    assert media.ensure_previews(tmp_path, views("photo-jpeg")) == []
    with Image.open(made(tmp_path, "photo-jpeg", "image")) as preview:
        assert max(preview.size) == media.PREVIEW_EDGE
        assert abs(preview.width / preview.height - 4032 / 3024) < 0.01
    assert made(tmp_path, "photo-jpeg", "image").stat().st_size < 400_000


def test_stickers_keep_their_transparency(tmp_path: Path) -> None:
    write_originals(tmp_path, ("sticker",))
    media.ensure_previews(tmp_path, views("sticker"))
    with Image.open(made(tmp_path, "sticker", "sticker")) as sticker:
        assert sticker.format == "PNG" and sticker.mode == "RGBA"
        assert sticker.getpixel((0, 0))[3] == 0


def test_voice_messages_browsers_cannot_play_become_aac(tmp_path: Path) -> None:
    write_originals(tmp_path, ("voice", "song"))
    assert media.ensure_previews(tmp_path, views("voice", "song")) == []
    with av.open(str(made(tmp_path, "voice", "audio"))) as converted:
        stream = converted.streams.audio[0]
        assert stream.codec_context.name == "aac"
        seconds = sum(f.samples for f in converted.decode(stream)) / stream.rate
    assert 0.8 < seconds < 1.3  # the one-second original
    assert not made(tmp_path, "song", "audio").exists()  # MP3 plays as it is
    assert media.derived_for(attachment_view("voice"), tmp_path) == media.preview_path(
        sha("voice"), "audio")
    assert media.derived_for(attachment_view("song"), tmp_path) is None


def test_made_once_ever(tmp_path: Path) -> None:
    write_originals(tmp_path, ("photo-heic",))
    twice = views("photo-heic") + views("photo-heic")  # the same content twice: one job
    media.ensure_previews(tmp_path, twice)
    preview = made(tmp_path, "photo-heic", "image")
    first = preview.stat().st_mtime_ns
    (tmp_path / archive_path("photo-heic")).unlink()  # a second run must not even look
    assert media.ensure_previews(tmp_path, twice) == []
    assert preview.stat().st_mtime_ns == first


def test_a_damaged_file_fails_alone_and_leaves_nothing_half_written(tmp_path: Path) -> None:
    write_originals(tmp_path, ("photo-jpeg", "sticker"))
    (tmp_path / archive_path("photo-heic")).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / archive_path("photo-heic")).write_bytes(b"not an image at all")
    before = files_under(tmp_path)
    failures = media.ensure_previews(tmp_path, views("photo-heic", "photo-jpeg", "sticker"),
                                     workers=2)
    assert len(failures) == 1 and sha("photo-heic") in failures[0]
    assert made(tmp_path, "photo-jpeg", "image").is_file()
    assert made(tmp_path, "sticker", "sticker").is_file()
    assert not made(tmp_path, "photo-heic", "image").exists()
    new = files_under(tmp_path) - before
    assert all(p.startswith("previews/") for p in new)
    assert not any(p.endswith((".tmp", ".part")) or "/." in p for p in new)


@pytest.mark.parametrize("label", ["video", "pdf"])
def test_other_kinds_get_no_derived_copy(tmp_path: Path, label: str) -> None:
    write_originals(tmp_path, (label,))
    before = files_under(tmp_path)
    assert media.ensure_previews(tmp_path, views(label)) == []
    assert files_under(tmp_path) == before


def test_missing_originals_are_skipped(tmp_path: Path) -> None:
    from view_factory import missing_view

    assert media.ensure_previews(tmp_path, [missing_view("photo-heic", "gone")]) == []
    assert files_under(tmp_path) == set()


def test_one_worker_pool_serves_every_batch_of_a_run(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    labels = ("photo-heic", "photo-jpeg", "photo-png", "sticker", "voice", "song")
    write_originals(tmp_path, labels)
    pools: list[object] = []
    real = workers.new_pool

    def counted(workers: int) -> object:
        pools.append(real(workers))
        return pools[-1]

    monkeypatch.setattr(workers, "new_pool", counted)
    monkeypatch.setattr(media, "POOL_THRESHOLD", 2)
    with media.PreviewMaker(workers=2) as maker:
        assert maker.ensure(tmp_path, views(*labels[:3])) == []
        assert maker.ensure(tmp_path, views(*labels[3:])) == []
        assert maker.ensure(tmp_path, views(*labels)) == []  # all made: nothing to do
    assert len(pools) == 1
    assert all(made(tmp_path, label, kind).is_file() for label, kind in (
        ("photo-heic", "image"), ("sticker", "sticker"), ("voice", "audio")))
