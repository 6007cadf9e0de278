"""Render-key fingerprints: what besides the data shapes an exporter's output."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterable
from pathlib import Path

from coldtexts import __version__

from .base import RenderOptions

HERE = Path(__file__).resolve().parent


# Every exporter renders the views the archive builds for it: what those say (a reply's
# excerpt, an event in words) is part of each output as much as the exporter's own code.
VIEW_MODULES = ("coldtexts.archive.views", "coldtexts.archive.words")


def fingerprint(name: str, options: RenderOptions, files: Iterable[Path]) -> str:
    """SHA-256 over the tool version, the exporter's own code and templates, the code that
    builds the views it renders, and the options that change its output."""
    digest = hashlib.sha256(f"{name}\0{__version__}\0{options.timezone}\0"
                            f"{options.owner_name}\0".encode())
    for path in [*sorted(files), *view_files()]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def view_files() -> list[Path]:
    """The archive's view-building modules, found without importing them."""
    found = []
    for module in VIEW_MODULES:
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin is not None, module
        found.append(Path(spec.origin))
    return found


def module_files(*names: str) -> list[Path]:
    return [HERE / f"{name}.py" for name in names]
