"""Reading a large sms.db in two processes.

Reading takes about 30 µs of one core per message (BENCHMARKS.md): half a minute for a
million. The message rows are cut into chunks of consecutive dates, found on the date
index (250 chunks of a million rows in ~30 ms); a worker process reads every other
chunk and sends its messages back as msgpack (msgspec: ~3 µs to encode a message, ~5 to
decode it) while this process reads the chunks between, so the two cores share the
work. Messages, and the problems reported on the way, come out exactly as a read in one
process gives them (tested), because a message reads the same whatever was read before.

When the worker cannot start or dies, this process reads its chunks itself: a slower
run, never a lost message. Memory stays flat: the worker holds one chunk, and blocks on
the pipe until this process takes it.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from .models import Message, ReadProblem

if TYPE_CHECKING:
    from .reader import SmsDatabase

CHUNK_ROWS = 4000  # message rows per chunk: ~0.1 s of reading, ~1 MB on the pipe
MIN_ROWS = 50_000  # below this, starting a process costs more than it saves
_Chunk = tuple[int, list[Message], list[ReadProblem]]


def chunk_bounds(db: SmsDatabase, rows: int = CHUNK_ROWS, min_rows: int = MIN_ROWS
                 ) -> list[Any] | None:
    """The first date of each chunk of about `rows` message rows, or None when the
    database is better read in one process: small, no date index to cut it by, or a
    machine with one core."""
    if (os.cpu_count() or 1) < 2 or not db.has_date_index:
        return None
    connection = db.connection
    first = connection.execute("SELECT min(date) FROM message").fetchone()[0]
    if first is None:
        return None
    # Stepping the index rows-1 rows at a time runs in SQLite: no row reaches Python.
    step = f"SELECT date FROM message WHERE date > ? ORDER BY date LIMIT 1 OFFSET {rows - 1}"
    bounds = [first]
    while (row := connection.execute(step, (bounds[-1],)).fetchone()) is not None:
        bounds.append(row[0])
    return bounds if len(bounds) * rows >= min_rows else None


def chunk_dates(bounds: Sequence[Any] | None, index: int) -> tuple[str, tuple[Any, ...]]:
    """The DATE_RANGES key and parameters of chunk `index` (every date when no bounds)."""
    if bounds is None or len(bounds) < 2:
        return "", ()
    if index == 0:
        return "first", (bounds[1],)
    if index == len(bounds) - 1:
        return "last", (bounds[index],)
    return "middle", (bounds[index], bounds[index + 1])


def messages(db: SmsDatabase, bounds: Sequence[Any]) -> Iterator[Message]:
    """db.messages() read in two processes: the worker takes the odd chunks."""
    worker = _Worker(db.path, bounds, range(1, len(bounds), 2))
    try:
        for index in range(len(bounds)):
            received = worker.receive(index) if index % 2 else None
            if received is None:
                yield from db.messages_in_chunk(bounds, index)
            else:
                db.problems.extend(received[1])
                yield from received[0]
    finally:
        worker.close()


class _Worker:
    """This process's end of the worker: chunks come in the order they were asked for."""

    def __init__(self, path: Path, bounds: Sequence[Any], indices: range) -> None:
        # Not fork: a forked worker would inherit the archive lock (exporters/workers.py).
        context = (multiprocessing.get_context("forkserver") if os.name == "posix"
                   else multiprocessing.get_context("spawn"))
        self._pipe, sending = context.Pipe(duplex=False)
        self._decoder = msgspec.msgpack.Decoder(_Chunk)
        self._process = context.Process(
            target=_serve, args=(str(path), list(bounds), list(indices), sending),
            daemon=True, name="coldtexts-reader")
        try:
            self._process.start()
            self.lost = False
        except (OSError, RuntimeError):  # no process to be had: read everything here
            self.lost = True
        finally:
            sending.close()  # the worker's end: its exit then reads as EOF here

    def receive(self, index: int) -> tuple[list[Message], list[ReadProblem]] | None:
        """Chunk `index` as the worker read it, or None: read it yourself."""
        if self.lost:
            return None
        try:
            got, messages, problems = _decode_without_gc(self._decoder,
                                                         self._pipe.recv_bytes())
        except (EOFError, OSError, msgspec.DecodeError):
            got = -1
        if got != index:  # the worker died or failed (it says nothing, it just ends)
            self.lost = True
            return None
        return messages, problems

    def close(self) -> None:
        self._pipe.close()  # a worker blocked on sending now fails and ends
        if not self.lost:
            self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _decode_without_gc(decoder: msgspec.msgpack.Decoder[_Chunk], data: bytes) -> _Chunk:
    """Decoding makes a chunk's tens of thousands of objects at once, which set off the
    cyclic garbage collector over and over (half the decoding time, measured); decoding
    makes no cycles, so the collector is held off while it runs."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return decoder.decode(data)
    finally:
        if enabled:
            gc.enable()


def _serve(path: str, bounds: list[Any], indices: list[int], sending: Connection) -> None:
    """The worker: read the chunks asked for and send each back, in order."""
    from .reader import SmsDatabase  # a fresh process: the reader is not imported yet

    # Ctrl-C reaches the whole process group; the run handles it, and its closing the
    # pipe is this worker's signal to end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    encoder = msgspec.msgpack.Encoder()
    try:
        with SmsDatabase.open(Path(path), private_copy=False) as db:
            for index in indices:
                chunk = list(db.messages_in_chunk(bounds, index))
                sending.send_bytes(encoder.encode((index, chunk, db.problems)))
                db.problems.clear()
    except Exception:  # the run reads this chunk itself, and reports what is wrong
        pass
    finally:
        sending.close()
