"""Assessing many cases: one JSON case per line in, one JSON result per line out, in order.

Lines are processed in chunks, by worker processes when ``jobs`` > 1, with only a bounded
number of chunks in flight, so memory stays flat however long the input is. A line that is not
a valid case yields an error record for that line and the run goes on; so does a line that
hits a bug (its record says so), so one line can never cost the others their results.

Workers end with the process that started them, however it ends: on Linux the kernel sends
them SIGTERM when it dies, and elsewhere each worker notices within a second.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import IO, Any, Generator, Iterable, Iterator

from . import loader
from .documents import MAX_LINE_BYTES, byte_limit, decode, parse_json
from .errors import CaseError, InputError, Problem
from .system import Expert, default_expert

CHUNK = 100  # lines per task sent to a worker
IN_FLIGHT_PER_JOB = 4  # chunks queued per worker: enough to keep it busy, few enough to stay flat
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass(frozen=True)
class Result:
    """One output line: the JSON text, and the triage level (None for an error record)."""

    line: int
    text: str
    level: str | None
    internal: bool = False  # the error record is for a bug, not for bad input


@dataclass(frozen=True)
class TooLong:
    """Stands for an input line longer than the limit, which was skipped rather than read."""

    size: int
    limit: int


class BoundedLines:
    """The lines of a binary stream, each at most ``limit`` bytes, counting the bytes read.

    A longer line is never held in memory: the rest of it is read and dropped in pieces, and
    it is given as a :class:`TooLong`, which becomes an error record for that line.
    """

    PIECE = 1 << 16

    def __init__(self, stream: IO[bytes], limit: int | None = None):
        self.stream = stream
        self.limit = limit if limit is not None else byte_limit("SPASM_MAX_LINE_BYTES", MAX_LINE_BYTES)
        self.bytes = 0

    def __iter__(self) -> Iterator[bytes | TooLong]:
        while True:
            line = self.stream.readline(self.limit + 1)
            if not line:
                return
            self.bytes += len(line)
            if len(line) <= self.limit or line.endswith(b"\n"):
                yield line
                continue
            size = len(line)
            while not line.endswith(b"\n"):
                line = self.stream.readline(self.PIECE)
                if not line:
                    break
                self.bytes += len(line)
                size += len(line)
            yield TooLong(size - line.endswith(b"\n"), self.limit)


def assess_line(expert_: Expert, number: int, raw: bytes | str | TooLong, explain: bool = False) -> Result:
    """Assess one JSONL line; bad input becomes an error record naming the line."""
    where = f"line {number}"
    try:
        if isinstance(raw, TooLong):
            raise CaseError(Problem(f"longer than {raw.limit:,} bytes ({raw.size:,}); skipped", file=where,
                                    hint="set SPASM_MAX_LINE_BYTES to a larger number of bytes to read it"))
        text = (decode(raw, where, CaseError) if isinstance(raw, bytes) else raw).strip()
        if not text:
            raise CaseError(Problem("empty line; each line must hold one JSON case", file=where))
        assessment = expert_.assess(parse_json(text, where, CaseError, with_lines=False))
        return Result(number, assessment.to_json(explain=explain, indent=None), assessment.triage.level)
    except InputError as error:
        return _record(number, str(error), [p.to_dict() for p in error.problems])
    except Exception as error:  # noqa: BLE001 - a bug on one line must not lose the other lines
        message = f"{where}: internal error: {type(error).__name__}: {error}"
        return _record(number, message, [{"message": message}], internal=True)


def _record(number: int, message: str, problems: list[dict], internal: bool = False) -> Result:
    error = {"message": message, "problems": problems}
    return Result(number, json.dumps({"line": number, "error": error}, ensure_ascii=False), None, internal)


# --------------------------------------------------------------------- worker processes
_worker: Expert | None = None


def _end_with_parent(parent: int) -> None:
    """Make this worker end when ``parent`` (the process that started the pool) ends.

    Its own SIGTERM ends it at once and Ctrl-C is left to the parent, which stops the pool.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
        except (OSError, AttributeError):  # pragma: no cover - no usable libc
            pass
    first = os.getppid()

    def watch() -> None:  # everywhere, and for the moment before prctl took effect
        while os.getppid() == first and _alive(parent):
            time.sleep(0.5)
        os._exit(143)
    threading.Thread(target=watch, name="spasm-watch-parent", daemon=True).start()


def _alive(pid: int) -> bool:
    if os.name != "posix":  # pragma: no cover - os.kill would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - it exists, run by another user
        return True
    return True


def _start_worker(knowledge: str | None, parent: int) -> None:
    global _worker
    _end_with_parent(parent)
    _worker = Expert.from_directory(knowledge) if knowledge is not None else default_expert()


def _work(chunk: list[tuple[int, bytes | str | TooLong]], explain: bool) -> list[Result]:
    assert _worker is not None
    return [assess_line(_worker, number, raw, explain) for number, raw in chunk]


def _chunks(lines: Iterable, size: int) -> Iterator[list[tuple[int, bytes | str | TooLong]]]:
    chunk = []
    for number, raw in enumerate(lines, 1):
        chunk.append((number, raw))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def assess_lines(lines: Iterable[bytes | str | TooLong], jobs: int = 1, explain: bool = False,
                 knowledge: str | os.PathLike | None = None, chunk: int = CHUNK) -> Generator[Result, None, None]:
    """Assess JSONL lines in order, yielding one :class:`Result` per line as soon as it is ready.

    A knowledge base that cannot be loaded raises KnowledgeError here, before any worker starts.
    Closing the iterator early (or an exception while it waits) stops the workers once their
    current chunks are done.
    """
    directory = os.fspath(knowledge) if knowledge is not None else None
    if jobs <= 1:
        expert_ = Expert.from_directory(directory) if directory is not None else default_expert()
        for number, raw in enumerate(lines, 1):
            yield assess_line(expert_, number, raw, explain)
        return
    if directory is not None:
        loader.load(directory)  # reported once, here, rather than as a broken pool by every worker
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker, initargs=(directory, os.getpid()))
    try:
        pending: deque[Any] = deque()
        for part in _chunks(lines, chunk):
            pending.append(pool.submit(_work, part, explain))
            if len(pending) >= jobs * IN_FLIGHT_PER_JOB:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        # Stopped early, the chunks not yet started are cancelled and the few being assessed are let
        # finish (a fraction of a second): a worker terminated while sending its results would leave
        # a half-written message that the pool then waits on for ever.
        pool.shutdown(wait=True, cancel_futures=True)
