"""Writing results: to stdout, or atomically to a file so a reader never sees half a report."""
from __future__ import annotations

import os
import sys
import tempfile
from typing import IO, Any

import click


def use_color(stream: IO[Any] | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def atomic_write(path: str, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same directory and a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".spasm-", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def emit(text: str, output: str | None) -> None:
    """Print to stdout, or write to ``output`` (``-`` is stdout)."""
    if output and output != "-":
        try:
            atomic_write(output, text)
        except OSError as error:
            raise click.FileError(output, error.strerror) from None
    else:
        click.echo(text, nl=False, color=use_color())
