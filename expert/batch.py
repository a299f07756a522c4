"""Assessing many cases: one JSON case per line in, one JSON result per line out, in order.

Lines are processed in chunks, by worker processes when ``jobs`` > 1, with only a bounded
number of chunks in flight, so memory stays flat however long the input is. A line that is not
a valid case yields an error record for that line and the run goes on.
"""
from __future__ import annotations

import json
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Iterator

from .documents import parse_json
from .errors import CaseError
from .system import Expert, default_expert

CHUNK = 100  # lines per task sent to a worker
IN_FLIGHT_PER_JOB = 4  # chunks queued per worker: enough to keep it busy, few enough to stay flat


@dataclass(frozen=True)
class Result:
    """One output line: the JSON text, and the triage level (None for an error record)."""

    line: int
    text: str
    level: str | None


def assess_line(expert_: Expert, number: int, raw: bytes | str, explain: bool = False) -> Result:
    """Assess one JSONL line; bad input becomes an error record naming the line."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as error:
        return _error(number, f"not UTF-8 text (byte {error.start})")
    text = text.strip()
    if not text:
        return _error(number, "empty line; each line must hold one JSON case")
    try:
        assessment = expert_.assess(parse_json(text, f"line {number}", CaseError, with_lines=False))
    except CaseError as error:
        return Result(number, json.dumps({"line": number, "error": {
            "message": str(error), "problems": [p.to_dict() for p in error.problems]}}, ensure_ascii=False), None)
    return Result(number, assessment.to_json(explain=explain, indent=None), assessment.triage.level)


def _error(number: int, message: str) -> Result:
    return Result(number, json.dumps({"line": number, "error": {"message": f"line {number}: {message}",
                                                                "problems": [{"message": message}]}}), None)


# --------------------------------------------------------------------- worker processes
_worker: Expert | None = None


def _start_worker(knowledge: str | None) -> None:
    global _worker
    _worker = Expert.from_directory(knowledge) if knowledge else default_expert()


def _work(chunk: list[tuple[int, bytes]], explain: bool) -> list[Result]:
    assert _worker is not None
    return [assess_line(_worker, number, raw, explain) for number, raw in chunk]


def _chunks(lines: Iterable[bytes | str], size: int) -> Iterator[list[tuple[int, bytes | str]]]:
    chunk = []
    for number, raw in enumerate(lines, 1):
        chunk.append((number, raw))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def assess_lines(lines: Iterable[bytes | str], jobs: int = 1, explain: bool = False,
                 knowledge: str | os.PathLike | None = None, chunk: int = CHUNK) -> Iterator[Result]:
    """Assess JSONL lines in order, yielding one :class:`Result` per line as soon as it is ready."""
    if jobs <= 1:
        expert_ = Expert.from_directory(knowledge) if knowledge else default_expert()
        for number, raw in enumerate(lines, 1):
            yield assess_line(expert_, number, raw, explain)
        return
    directory = os.fspath(knowledge) if knowledge else None
    with ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker, initargs=(directory,)) as pool:
        pending: deque = deque()
        for part in _chunks(lines, chunk):
            pending.append(pool.submit(_work, part, explain))
            if len(pending) >= jobs * IN_FLIGHT_PER_JOB:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
