"""Real, small media files for the showcase's attachments, written where the archive
keeps originals (attachments/ab/<sha>.<ext>), so previews and PDFs have pixels to draw.

The files are real (a HEIC that pillow-heif decodes, a JPEG with an EXIF orientation, an
AMR voice message in a CAF container as older iPhones recorded them, an MPEG-4 video),
but smaller than the sizes the views claim: exporters show the archive's recorded size.
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Callable
from pathlib import Path

from view_factory import FILES, archive_path

JPEG_ORIENTATION_RIGHT = 6  # EXIF: the camera was turned; show the image rotated 90° CW


def picture(width: int, height: int, seed: int = 0) -> object:
    """A photo-like RGB picture: a sky gradient, a sun and a sea band."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        shade = int(180 * y / height)
        draw.line([(0, y), (width, y)], fill=(70 + shade // 3, 140 + shade // 4, 235 - shade))
    draw.ellipse([width * 0.6, height * 0.1, width * 0.8, height * 0.1 + width * 0.2],
                 fill=(255, 205, 40 + seed % 50))
    draw.rectangle([0, int(height * 0.7), width, height], fill=(20, 90, 160))
    return image


def heic_bytes(width: int = 800, height: int = 600) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    picture(width, height).save(out, "HEIF", quality=60)  # type: ignore[attr-defined]
    return out.getvalue()


def jpeg_bytes(width: int = 640, height: int = 480, orientation: int | None = None) -> bytes:
    from PIL import Image

    image = picture(width, height, seed=1)
    assert isinstance(image, Image.Image)
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def png_bytes(width: int = 300, height: int = 300, transparent: bool = False) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (width, height), (0, 0, 0, 0) if transparent else "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse([20, 20, width - 20, height - 20], fill=(255, 140, 0, 255))
    draw.ellipse([width * 0.3, height * 0.35, width * 0.4, height * 0.45], fill="black")
    draw.ellipse([width * 0.6, height * 0.35, width * 0.7, height * 0.45], fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _tone(rate: int, samples: int) -> bytes:
    return struct.pack(f"<{samples}h", *(int(6000 * math.sin(2 * math.pi * 440 * k / rate))
                                        for k in range(samples)))


def audio_bytes(container: str, codec: str, rate: int, seconds: float = 1.0) -> bytes:
    """A tone in `container` (e.g. "caf" with AMR, as older iPhones recorded voice)."""
    import av

    frame_samples = 160 if "amr" in codec else 1024
    out = io.BytesIO()
    with av.open(out, "w", format=container) as muxer:
        stream = muxer.add_stream(codec, rate=rate, layout="mono")
        for start in range(0, int(rate * seconds), frame_samples):
            frame = av.AudioFrame(format="s16", layout="mono", samples=frame_samples)
            frame.planes[0].update(_tone(rate, frame_samples))
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):  # type: ignore[attr-defined]
                muxer.mux(packet)
        for packet in stream.encode(None):  # type: ignore[attr-defined]
            muxer.mux(packet)
    return out.getvalue()


def video_bytes() -> bytes:
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="mov") as muxer:
        stream = muxer.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"  # type: ignore
        for i in range(10):
            image = picture(160, 120, seed=i * 10)
            frame = av.VideoFrame.from_image(image)  # type: ignore[arg-type]
            for packet in stream.encode(frame):  # type: ignore[attr-defined]
                muxer.mux(packet)
        for packet in stream.encode(None):  # type: ignore[attr-defined]
            muxer.mux(packet)
    return out.getvalue()


MAKERS: dict[str, Callable[[], bytes]] = {
    "photo-heic": heic_bytes,
    "photo-jpeg": lambda: jpeg_bytes(orientation=JPEG_ORIENTATION_RIGHT),
    "photo-png": lambda: png_bytes(400, 250),
    "sticker": lambda: png_bytes(transparent=True),
    "tapback-sticker": lambda: png_bytes(120, 120, transparent=True),
    "video": video_bytes,
    "voice": lambda: audio_bytes("caf", "libopencore_amrnb", 8000),
    "song": lambda: audio_bytes("mp3", "mp3", 44100) if _has_mp3() else b"ID3",
    "pdf": lambda: b"%PDF-1.4\n% a stand-in boarding pass\n%%EOF\n",
    "preview-image": lambda: jpeg_bytes(600, 315),
}


def _has_mp3() -> bool:
    import av

    return "mp3" in av.codecs_available or "libmp3lame" in av.codecs_available


def write_originals(root: Path, labels: tuple[str, ...] = tuple(FILES)) -> list[Path]:
    """Write the stored original of each labelled attachment under `root`."""
    written = []
    for label in labels:
        path = root / archive_path(label)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(MAKERS[label]())
        written.append(path)
    return written
