"""Writing results: to stdout, or to a file without ever damaging what is at the path.

Every command that writes a file (``-o``, session files) goes through :func:`output_file`:

- a regular file (or a new path) is written to a temporary file next to it and renamed over
  it at the end, keeping its permissions, so a reader never sees half a report and a failure
  leaves the old file whole; a symbolic link is written through, to the file it points to;
- anything else (``/dev/null``, a terminal, a FIFO) is written straight, never replaced,
  truncated or removed;
- the output may not be one of the command's inputs, which it would destroy.
"""
from __future__ import annotations

import os
import signal
import stat
import sys
import tempfile
from contextlib import contextmanager, suppress
from typing import IO, Any, Iterable, Iterator

import click

from expert.errors import InputError, Problem


ISSUES_HINT = "This is a bug in Spasm Expert; please report it with the command you ran and the input."


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGTERM and Ctrl-C until the block is done, so that a line being written is written
    whole; the signal is then acted on at once. (Without POSIX signal masks, nothing is held.)"""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def use_color(stream: IO[Any] | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


class OutputError(InputError):
    default_title = "cannot write the output"


class Output:
    """A binary stream whose write failures (a full disk, ...) name the file and exit 2."""

    def __init__(self, stream: IO[bytes], name: str):
        self.stream, self.name = stream, name

    def write(self, data: bytes) -> None:
        try:
            self.stream.write(data)
        except BrokenPipeError:  # the reader stopped reading: not an error of ours (see main)
            raise
        except OSError as error:
            raise _failure(self.name, error) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise _failure(self.name, error) from None


def _failure(name: str, error: OSError) -> OutputError:
    return OutputError(Problem(f"cannot write: {error.strerror or error}", file=name))


def _identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _refuse_inputs(name: str, info: os.stat_result | None, inputs: Iterable[int | str],
                   what: str = "also the input") -> None:
    """Refuse to write over an input (given by path or open descriptor): it would be lost."""
    inputs = list(inputs)
    refused = OutputError(Problem(f"is {what}; writing the results there would destroy it", file=name,
                                  hint="choose another output file"))
    if name != "<stdout>" and any(isinstance(source, str) and os.path.realpath(source) == os.path.realpath(name)
                                  for source in inputs):  # an input not yet written (a new session file)
        raise refused
    if info is None or not stat.S_ISREG(info.st_mode):
        return
    for source in inputs:
        try:
            other = os.fstat(source) if isinstance(source, int) else os.stat(source)
        except (OSError, ValueError):
            continue
        if _identity(other) == _identity(info):
            raise refused


@contextmanager
def output_file(path: str, inputs: Iterable[int | str] = ()) -> Iterator[Output]:
    """Write to ``path`` (``-`` is stdout) as the module docstring says; refuse ``inputs``.

    If the block fails or is interrupted, a regular file keeps its old content (the
    temporary file is removed); a device or FIFO keeps whatever complete writes reached it.
    """
    if path == "-":
        stream = sys.stdout.buffer
        try:
            own: os.stat_result | None = os.fstat(stream.fileno())
        except (OSError, ValueError):  # not a real file (a test runner's buffer)
            own = None
        _refuse_inputs("<stdout>", own, inputs)
        yield from _write_to(stream, "<stdout>")
        return
    target, info = _target(path, inputs)
    if info is not None and not stat.S_ISREG(info.st_mode):
        yield from _write_straight(path, target)
    else:
        yield from _write_replacing(path, target, info)


def _knowledge_files() -> list[str]:
    """The files of the knowledge base in use (``--knowledge`` or the shipped one): inputs of
    every command, so never written over."""
    context = click.get_current_context(silent=True)
    directory = getattr(context.find_root().obj, "knowledge", None) if context else None
    if directory is None:
        from expert.loader import default_directory
        directory = str(default_directory())
    try:
        return [entry.path for entry in os.scandir(directory) if entry.is_file()]
    except OSError:  # no such directory: the command reports it when it loads the knowledge
        return []


def _target(path: str, inputs: Iterable[int | str]) -> tuple[str, os.stat_result | None]:
    """The file ``path`` leads to and what is there now; refused if it is a directory or an input."""
    if not path:
        raise OutputError(Problem("the output file name is empty", hint="name a file, or - for the screen"))
    if path.endswith(("/", os.sep)):
        raise OutputError(Problem("ends with a slash, as a folder does", file=path, hint="give the name of a file to write"))
    target = os.path.realpath(path)
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    except (OSError, ValueError) as error:
        raise OutputError(Problem(f"cannot write: {getattr(error, 'strerror', None) or error}", file=path)) from None
    _refuse_inputs(path, info, inputs)
    _refuse_inputs(path, info, _knowledge_files(), "a file of the knowledge base in use")
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(Problem("is a directory", file=path, hint="give the name of a file to write"))
    return target, info


def check_writable(path: str, inputs: Iterable[int | str] = ()) -> None:
    """Refuse now, before any work, an output that could not be written later."""
    if path == "-":
        return
    target, info = _target(path, inputs)
    folder = os.path.dirname(target) or "."
    if info is None and not os.path.isdir(folder):
        raise OutputError(Problem("its folder does not exist", file=path, hint="create the folder or choose another file"))
    if not os.access(target if info is not None else folder, os.W_OK):
        raise OutputError(Problem("cannot write: permission denied", file=path))


def _write_straight(path: str, target: str) -> Iterator[Output]:
    """A device, FIFO or socket: opened for writing only, neither created nor truncated."""
    try:
        descriptor = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise _failure(path, error) from None
    stream = os.fdopen(descriptor, "wb")
    try:
        yield from _write_to(stream, path)
    finally:
        with suppress(OSError):  # already reported, or the reader went away
            stream.close()


def _write_to(stream: IO[bytes], name: str) -> Iterator[Output]:
    """Write straight to an open stream; if the block fails, what it wrote whole still goes out."""
    out = Output(stream, name)
    try:
        yield out
    except BaseException:
        with suppress(OSError, ValueError):
            stream.flush()
        raise
    out.flush()


def _write_replacing(path: str, target: str, info: os.stat_result | None) -> Iterator[Output]:
    """A regular file or a new one: a temporary file beside it, renamed over it when complete."""
    if info is not None:
        mode = stat.S_IMODE(info.st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=".spasm-", dir=os.path.dirname(target))
    except OSError as error:
        raise _failure(path, error) from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            out = Output(stream, path)
            yield out
            out.flush()
            try:
                os.fsync(stream.fileno())
                os.fchmod(stream.fileno(), mode)
            except OSError as error:
                raise _failure(path, error) from None
        try:
            os.replace(temporary, target)
        except OSError as error:
            raise _failure(path, error) from None
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def emit(text: str, output: str | None, inputs: Iterable[int | str] = ()) -> None:
    """Print to stdout, or write to ``output`` (``-`` is stdout) through :func:`output_file`."""
    if output is not None and output != "-":
        with output_file(output, inputs) as out:
            out.write(text.encode("utf-8"))
    else:
        click.echo(text, nl=False, color=use_color())
