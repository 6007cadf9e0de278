"""`coldtexts inspect attributed-body FILE`: diagnosis of one message.attributedBody blob."""

from __future__ import annotations

import json
from pathlib import Path

import click

from coldtexts.errors import UndecodableError
from coldtexts.messages.typedstream import MALFORMED, decode_attributed_body, to_expected_shape

_REASONS = {
    MALFORMED: "it is not a valid typedstream (damaged or truncated)",
}


@click.group()
def inspect() -> None:
    """Look inside the blobs Messages stores (for diagnosis and bug reports)."""


@inspect.command("attributed-body")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def attributed_body(file: Path) -> None:
    """Print the decoded attributedBody in FILE as JSON: class, text and attribute runs
    (lengths in UTF-16 units). Exits with code 51 when FILE cannot be decoded."""
    try:
        blob = file.read_bytes()
    except OSError as exc:
        raise click.FileError(str(file), hint=exc.strerror) from exc
    try:
        shape = to_expected_shape(decode_attributed_body(blob))
    except UndecodableError as exc:
        reason = _REASONS.get(exc.message, exc.message)
        raise UndecodableError(
            f"{file} cannot be decoded as a message attributedBody: {reason}; "
            "check that the file holds the raw bytes of message.attributedBody.") from exc
    click.echo(json.dumps(shape, sort_keys=True, ensure_ascii=False))
