"""Rebuild the sample encrypted backup in examples/sample-backup/.

    .venv/bin/python examples/build_sample.py

It holds one family's Messages (the builder's showcase: a 1:1 chat with Mom, one with
Alex, the group "Family", every message kind, photos, stickers and a voice message), an
AddressBook naming them, and uses the real 10,000,000-round key derivation, so unlocking
it costs what a real backup costs. Password: coldtexts-sample. Deterministic: running it
again rewrites the same bytes.
"""

from __future__ import annotations

import io
import random
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw

from coldtexts.fixtures.addressbook_builder import write_address_book
from coldtexts.fixtures.backup_writer import BackupFile, write_backup
from coldtexts.fixtures.smsdb_builder_showcase import SHOWCASE_CONTACTS, build_showcase_database
from coldtexts.fixtures.workload_media import PhotoPool, caf_audio

HERE = Path(__file__).resolve().parent
TARGET = HERE / "sample-backup"
PASSWORD = "coldtexts-sample"
UDID = "00008110-001A2B3C4D5E801E"
BACKUP_DATE = datetime(2024, 6, 2, 10, 15, tzinfo=UTC)
REAL_DPIC = 10_000_000


def _sticker(color: tuple[int, int, int]) -> bytes:
    """A round, transparent sticker (HEIC with alpha, like Messages stickers)."""
    import pillow_heif

    image = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((16, 16, 240, 240), fill=(*color, 255), outline=(255, 255, 255, 255), width=10)
    draw.ellipse((80, 90, 105, 120), fill=(40, 40, 40, 255))
    draw.ellipse((150, 90, 175, 120), fill=(40, 40, 40, 255))
    draw.arc((70, 110, 186, 200), 20, 160, fill=(40, 40, 40, 255), width=8)
    heif = pillow_heif.from_pillow(image)
    out = io.BytesIO()
    heif.save(out, quality=80)
    return out.getvalue()


def _media_for(device_path: str, index: int, photos: PhotoPool) -> bytes:
    name = device_path.rsplit("/", 1)[-1].lower()
    if name.endswith(".caf"):
        return caf_audio(4.0, f"sample-{index}", random.Random(index))
    if "sticker" in name or "genmoji" in name:
        return _sticker((255, 200, 40) if "sticker" in name else (120, 190, 255))
    if name.endswith(".heic"):
        return photos.base("heic", index)
    return photos.base("jpeg", index)


def build(target: Path = TARGET, dpic: int = REAL_DPIC) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        device_paths = build_showcase_database(work / "sms.db", "ios18")
        write_address_book(work / "AddressBook.sqlitedb", SHOWCASE_CONTACTS)
        photos = PhotoPool(megapixels=0.8, cache_dir=None, seed=7)
        files = [
            BackupFile("HomeDomain", "Library/SMS/sms.db", work / "sms.db", 4, BACKUP_DATE),
            BackupFile("HomeDomain", "Library/AddressBook/AddressBook.sqlitedb",
                       work / "AddressBook.sqlitedb", 4, BACKUP_DATE),
        ]
        for index, device_path in enumerate(device_paths):
            files.append(BackupFile("MediaDomain", device_path.removeprefix("~/"),
                                    _media_for(device_path, index, photos), 3, BACKUP_DATE))
        if target.exists():
            shutil.rmtree(target)
        write_backup(target, files, password=PASSWORD, udid=UDID, device_name="Sam's iPhone",
                     product_type="iPhone14,5", ios_version="18.5", backup_date=BACKUP_DATE,
                     dpic=dpic, iterations=10_000, seed=2024)
    return target


if __name__ == "__main__":
    print(f"wrote {build()}")
