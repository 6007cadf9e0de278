"""Output formats (installed as coldtexts.exporters): one module per format."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .base import Exporter
from .html import HtmlExporter
from .jsonl import JsonlExporter
from .pdf import PdfExporter
from .txt import TxtExporter

#: name → factory; the order is the order outputs are rendered in.
REGISTRY: dict[str, Callable[[], Exporter]] = {
    "html": HtmlExporter,
    "pdf": PdfExporter,
    "txt": TxtExporter,
    "jsonl": JsonlExporter,
}


def get_exporters(names: Sequence[str]) -> list[Exporter]:
    """The exporters for `names`, in registry order; unknown names are a ValueError."""
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown format(s): {', '.join(unknown)}")
    return [factory() for name, factory in REGISTRY.items() if name in names]
