"""``spasm batch``: many cases, one JSON line each, streamed in order."""
from __future__ import annotations

import os
import sys
import time
from collections import Counter

import click

from .output import use_color


class Progress:
    """A one-line progress display on stderr: cases done, rate, and percent and ETA for a file."""

    def __init__(self, enabled: bool, total_bytes: int | None):
        self.enabled, self.total = enabled, total_bytes
        self.started = self.shown = time.monotonic()

    def update(self, done: int, bytes_read: int | None, final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self.shown < 0.2):
            return
        self.shown = now
        elapsed = max(now - self.started, 1e-9)
        text = f"\r{done:,} cases · {done / elapsed:,.0f}/s"
        if self.total and bytes_read is not None:
            fraction = min(bytes_read / self.total, 1.0)
            remaining = elapsed * (1 - fraction) / fraction if fraction > 0 else 0
            text += f" · {fraction:4.0%} · ETA {int(remaining) // 60}:{int(remaining) % 60:02d}"
        click.echo(text + " " * 4, nl=final, err=True)


@click.command()
@click.argument("source", metavar="IN.jsonl", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", metavar="OUT.jsonl", default="-", show_default=True,
              help="Where to write one JSON result per input line.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Worker processes.")
@click.option("--explain", is_flag=True, help="Add derivation trees to each result.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress line on stderr (default: only when stderr is a terminal).")
@click.pass_obj
def batch(settings, source: str, output: str, jobs: int, explain: bool, progress: bool | None) -> None:
    """Assess one JSON case per line of IN.jsonl (- for stdin), writing results in input order.

    A line that is not a valid case gives an error record for that line ({"line": N, "error":
    {...}}) and the run goes on; the exit code is then 2. A summary goes to stderr at the end.
    An output file is replaced only once it is complete; on stdout (or a device or FIFO) results
    go out as they are ready, and SIGTERM or Ctrl-C stops the run after a complete line.

    \b
    Examples:
      spasm batch cases.jsonl -o results.jsonl --jobs 2
      spasm batch - < cases.jsonl | jq .triage.level
    """
    from contextlib import closing

    from expert.batch import BoundedLines, assess_lines
    from expert.documents import open_input

    from .output import ISSUES_HINT, signals_held
    from .output import output_file

    stream = sys.stdin.buffer if source == "-" else open_input(source)
    try:
        size = os.fstat(stream.fileno()).st_size if source != "-" else None
    except (OSError, ValueError):
        size = None
    show = progress if progress is not None else sys.stderr.isatty()
    meter = Progress(show, size or None)
    counts: Counter = Counter()
    errors: list[int] = []
    internal = 0
    try:
        lines = BoundedLines(stream)
        with output_file(output, inputs=_descriptors(stream)) as out, \
                closing(assess_lines(lines, jobs, explain, settings.knowledge)) as results:
            for done, result in enumerate(results, 1):
                with signals_held():  # SIGTERM or Ctrl-C never leaves half a line
                    out.write(result.text.encode("utf-8") + b"\n")
                if result.level is None:
                    errors.append(result.line)
                    internal += result.internal
                else:
                    counts[result.level] += 1
                meter.update(done, lines.bytes)
            meter.update(sum(counts.values()) + len(errors), lines.bytes, final=True)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    total = sum(counts.values()) + len(errors)
    levels = settings.expert.kb.triage_levels
    summary = f"{total:,} cases: " + ", ".join(f"{counts[level]:,} {level}" for level in levels)
    summary += f"; {len(errors):,} errors" + (f" (lines {', '.join(map(str, errors[:10]))}"
                                               f"{', ...' if len(errors) > 10 else ''})" if errors else "")
    click.echo(click.style(summary, bold=True) if use_color(sys.stderr) else summary, err=True)
    if internal:
        click.echo(f"spasm: internal error on {internal:,} lines (see their error records)\n{ISSUES_HINT}", err=True)
        raise click.exceptions.Exit(1)
    if errors:
        raise click.exceptions.Exit(2)


def _descriptors(stream) -> list[int]:
    """The input's file descriptor, for refusing to write the output over it."""
    try:
        return [stream.fileno()]
    except (OSError, ValueError):  # not a real file (a test runner's buffer)
        return []
