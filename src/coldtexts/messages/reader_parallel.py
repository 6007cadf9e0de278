"""Reading a large sms.db in two processes.

Reading takes about 30 µs of one core per message (BENCHMARKS.md): half a minute for a
million. The message rows are cut into chunks of consecutive dates, found on the date
index (250 chunks of a million rows in ~30 ms). A worker process and this one each take
the next chunk nobody has taken; the worker sends what it read back as msgpack
(msgspec: a few µs a message each way), this process yields the chunks in date order.
Messages, and the problems reported on the way, come out exactly as a read in one
process gives them (tested), because a message reads the same whatever was read before.
The tapbacks (reactions()) are cut by the same dates, and their chunks follow the
messages' in the same count, so the worker starts on them while this process reads its
last messages.

When the worker cannot start or dies, this process reads its chunks itself: a slower
run, never a lost message. Memory stays flat: the worker holds one chunk and blocks on
the pipe until this process takes it; this process reads at most OWN_AHEAD ahead.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from .models import Message, Reaction, ReadProblem

if TYPE_CHECKING:
    from .reader import SmsDatabase

CHUNK_ROWS = 4000  # message rows per chunk: ~0.1 s of reading, ~2.5 MB on the pipe
OWN_AHEAD = 2  # chunks this process may read before their turn (memory stays flat)
SEND_AHEAD = 2  # chunks the worker may have read and not yet sent
MIN_ROWS = 50_000  # below this, starting a process costs more than it saves
_Chunk = tuple[int, list[Message], list[ReadProblem]]
_Reactions = tuple[int, list[Reaction], list[ReadProblem]]


def chunk_bounds(db: SmsDatabase, rows: int | None = None, min_rows: int | None = None
                 ) -> list[Any] | None:
    """The first date of each chunk of about `rows` (CHUNK_ROWS) message rows, or None
    when the database is better read in one process: smaller than `min_rows` (MIN_ROWS),
    no date index to cut it by, or a machine with one core."""
    rows = rows or CHUNK_ROWS
    min_rows = MIN_ROWS if min_rows is None else min_rows
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


def messages(db: SmsDatabase, bounds: Sequence[Any],
             keep: Callable[[Worker], None] | None = None) -> Iterator[Message]:
    """db.messages() read in two processes, chunk by chunk in date order.

    Both processes take the next chunk nobody has taken yet. This one takes one whenever
    it would otherwise wait for the worker, keeping what it read until its turn comes
    (at most OWN_AHEAD chunks), so the work splits by speed: about half each behind a
    quick consumer, nearly all to the worker behind a slow one such as the ingest.

    When every message has come out and the worker is still there, it is handed to
    `keep` for reactions() (the reactions' chunks follow the messages' in its order)."""
    worker = Worker(db.path, bounds)
    kept = False
    try:
        yield from merged(db, bounds, worker)
        if keep is not None and not worker.lost:
            keep(worker)
            kept = True
    finally:
        if not kept:
            worker.close()


def reactions(db: SmsDatabase, worker: Worker) -> Iterator[Reaction]:
    """db.reactions() after messages() kept its worker: the reaction chunks, read by both
    processes (the worker went on to them when no message chunk was left to take)."""
    try:
        yield from merged(db, worker.bounds, worker, reactions=True)
    finally:
        worker.close()


class ChunkSource(Protocol):
    """The worker as merged() sees it (tests drive merged() with a scripted one)."""

    lost: bool

    def claim(self, index: int) -> bool: ...
    def claim_next(self, stop: int) -> int | None: ...
    def ready(self) -> bool: ...
    def receive(self, index: int) -> tuple[list[Any], list[ReadProblem]] | None: ...


def merged(db: SmsDatabase, bounds: Sequence[Any], worker: ChunkSource, *,
           reactions: bool = False) -> Iterator[Any]:
    """The message chunks (or the reaction chunks) in order, each read here or received
    from `worker`. Chunk i < len(bounds) is the messages of dates i, chunk len(bounds) + i
    the reactions of the same dates."""
    read = _chunk_reader(db, bounds)
    first = len(bounds) if reactions else 0
    stop = first + len(bounds)
    # Chunks this process read before their turn, with the problems met reading them.
    ahead: dict[int, tuple[list[Any], list[ReadProblem]]] = {}
    try:
        for index in range(first, stop):
            if index in ahead:
                items, problems = ahead.pop(index)
                db.problems.extend(problems)
                yield from items
            elif worker.lost or worker.claim(index):
                yield from read(index)
            else:  # the worker's: read ahead while it is not there yet
                while len(ahead) < OWN_AHEAD and not worker.ready():
                    taken = worker.claim_next(stop)
                    if taken is None:
                        break
                    ahead[taken] = _read_aside(db, read, taken)
                received = worker.receive(index)
                if received is None:  # the worker is gone: this chunk is left to us
                    yield from read(index)
                else:
                    db.problems.extend(received[1])
                    yield from received[0]
    finally:
        gc.unfreeze()  # what _collector_held(kept=True) froze goes back to the collector


def _chunk_reader(db: SmsDatabase, bounds: Sequence[Any]) -> Callable[[int], Iterator[Any]]:
    """Chunk index -> its messages or reactions (see merged)."""
    count = len(bounds)

    def read(index: int) -> Iterator[Any]:
        if index < count:
            return db.messages_in_chunk(bounds, index)
        return db.reactions_in_chunk(bounds, index - count)

    return read


def _read_aside(db: SmsDatabase, read: Callable[[int], Iterator[Any]], index: int
                ) -> tuple[list[Any], list[ReadProblem]]:
    """Chunk `index` and its problems, kept out of db.problems until the chunk's turn."""
    mark = len(db.problems)
    with _collector_held(kept=True):
        items = list(read(index))
    problems = db.problems[mark:]
    del db.problems[mark:]
    return items, problems


class Worker:
    """This process's end of the worker, and the count of chunks taken so far (shared,
    so each chunk is taken once, by whichever process asks first)."""

    def __init__(self, path: Path, bounds: Sequence[Any]) -> None:
        # Not fork: a forked worker would inherit the archive lock (exporters/workers.py).
        context = (multiprocessing.get_context("forkserver") if os.name == "posix"
                   else multiprocessing.get_context("spawn"))
        self.bounds = bounds  # chunk i < len(bounds): messages; then the reactions' (merged)
        self._decoders = (msgspec.msgpack.Decoder(_Chunk), msgspec.msgpack.Decoder(_Reactions))
        self._process: BaseProcess | None = None
        self.lost = True  # until the worker is running
        try:
            self._taken = context.Value("q", 0)
            self._pipe, sending = context.Pipe(duplex=False)
        except (OSError, ImportError):  # no shared memory or semaphores here (sandboxes)
            return
        try:
            self._process = context.Process(
                target=_serve, args=(str(path), list(bounds), self._taken, sending),
                daemon=True, name="coldtexts-reader")
            self._process.start()
            self.lost = False
        except (OSError, RuntimeError):  # no process to be had: read everything here
            self._process = None
        finally:
            sending.close()  # the worker's end: its exit then reads as EOF here

    def claim(self, index: int) -> bool:
        """Take chunk `index` if nobody has; False when the worker took it."""
        with self._taken.get_lock():
            if self._taken.value != index:
                return False
            self._taken.value = index + 1
            return True

    def claim_next(self, stop: int) -> int | None:
        """Take the next chunk nobody has taken, if any is left before `stop`."""
        return _take_next(self._taken, stop)

    def ready(self) -> bool:
        return self.lost or self._pipe.poll()

    def receive(self, index: int) -> tuple[list[Any], list[ReadProblem]] | None:
        """Chunk `index` as the worker read it (it sends its chunks in order), or None
        when the worker is gone: read it yourself."""
        if self.lost:
            return None
        decoder = self._decoders[index >= len(self.bounds)]
        try:
            data = self._pipe.recv_bytes()
            with _collector_held(kept=True):
                got, items, problems = decoder.decode(data)
        except (EOFError, OSError, msgspec.DecodeError):
            got = -1
        if got != index:  # the worker died or failed (it says nothing, it just ends)
            self.lost = True
            return None
        return items, problems

    def close(self) -> None:
        if self._process is None:
            return
        with self._taken.get_lock():
            self._taken.value = 2 * len(self.bounds)  # nothing more to take
        self._pipe.close()  # a worker blocked on sending now fails and ends
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


@contextlib.contextmanager
def _collector_held(*, kept: bool = False) -> Iterator[None]:
    """Hold off the cyclic garbage collector while a whole chunk is built in memory.

    Tens of thousands of objects made at once and kept set it off over and over, and
    each pass walks all of them: it took half the decoding time, and about a tenth of
    reading a chunk into a list (measured). Reading and decoding make no cycles.

    The allocations still count while it is off, so the first one after it is back on
    sets off a pass over everything made meanwhile. For a chunk let go at once (the
    worker's, once sent) that pass finds little. A chunk `kept` to be yielded later is
    frozen instead (gc.freeze(), which also resets the count): the collector leaves it
    alone, reference counting still frees it as it is consumed, and merged() unfreezes
    at the end of the read. Without this, those passes took 11 % of the run's process
    in a two-process read of 1,000,000 rows (py-spy)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if kept:
            gc.freeze()
        if enabled:
            gc.enable()


def _serve(path: str, bounds: list[Any], taken: Any, sending: Connection) -> None:
    """The worker: take the next chunk nobody has, read it, send it; until none is left.

    A thread sends, so reading goes on while the run is busy with a chunk of its own:
    sending directly, the worker sat blocked on the pipe about half the time (measured).
    """
    from .reader import SmsDatabase  # a fresh process: the reader is not imported yet

    # Ctrl-C reaches the whole process group; the run handles it, and its closing the
    # pipe is this worker's signal to end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    encoder = msgspec.msgpack.Encoder()
    outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=SEND_AHEAD)
    sender = threading.Thread(target=_send_all, args=(outbox, sending), daemon=True)
    sender.start()
    try:
        with SmsDatabase.open(Path(path), private_copy=False) as db:
            read = _chunk_reader(db, bounds)
            while (index := _take_next(taken, 2 * len(bounds))) is not None:
                with _collector_held():
                    data = encoder.encode((index, list(read(index)), db.problems))
                if not _post(outbox, sender, data):
                    break  # the run stopped listening
                db.problems.clear()
    except Exception:  # the run reads this chunk itself, and reports what is wrong
        pass
    finally:
        _post(outbox, sender, None)
        sender.join()
        sending.close()


def _take_next(taken: Any, chunks: int) -> int | None:
    """Take the next chunk nobody has taken (either process), if any is left."""
    with taken.get_lock():
        index = int(taken.value)
        if index >= chunks:
            return None
        taken.value = index + 1
        return index


def _post(outbox: queue.Queue[bytes | None], sender: threading.Thread,
          item: bytes | None) -> bool:
    """Queue `item` for the sender; False once the sender has ended (pipe closed)."""
    while sender.is_alive():
        try:
            outbox.put(item, timeout=0.5)
            return True
        except queue.Full:
            continue
    return False


def _send_all(outbox: queue.Queue[bytes | None], sending: Connection) -> None:
    try:
        while (data := outbox.get()) is not None:
            sending.send_bytes(data)
    except OSError:  # the run closed its end: it stopped early or is gone
        pass
