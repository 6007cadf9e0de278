"""Render-key fingerprints: what besides the data shapes an exporter's output."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from coldtexts import __version__

from .base import RenderOptions

HERE = Path(__file__).resolve().parent


def fingerprint(name: str, options: RenderOptions, files: Iterable[Path]) -> str:
    """SHA-256 over the tool version, the exporter's own code and templates, and the
    options that change its output (the renderer adds the code that builds the views)."""
    digest = hashlib.sha256(f"{name}\0{__version__}\0{options.timezone}\0"
                            f"{options.owner_name}\0".encode())
    for path in sorted(files):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def module_files(*names: str) -> list[Path]:
    return [HERE / f"{name}.py" for name in names]
