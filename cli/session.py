"""Consultation session files: every confirmed answer saved atomically, so nothing is lost.

A session file is JSON: the presets (age, sex, answers from a file), the answers given in order,
and whether the consultation finished. It is rewritten through a temporary file and a rename
after every answer, so a crash, a closed terminal or SIGKILL leaves the last complete version.
A file that cannot be read as a session is reported, never discarded or overwritten. While a
consultation runs, it holds a lock on its file, so a second one on the same file is refused
rather than left to overwrite the first one's answers.
"""
from __future__ import annotations

import json
import os
from typing import Any

from expert.documents import open_input, parse_json, read_text
from expert.errors import CaseError, InputError, Problem, printable, shown

from .output import output_file

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: sessions are not locked there
    fcntl = None  # type: ignore[assignment]

FORMAT = "spasm-session"
VERSION = 1


class SessionError(InputError):
    default_title = "cannot resume this session"


class Lock:
    """This process's claim on a session file; ``release`` ends it (so does the process's end)."""

    def __init__(self, name: str | None = None, descriptor: int | None = None):
        self.name, self.descriptor = name, descriptor

    def release(self) -> None:
        """Remove the lock file, then unlock: a process that locked it meanwhile finds the name gone."""
        if self.descriptor is not None:
            try:
                if self.name is not None:
                    os.unlink(self.name)
            except OSError:
                pass
            os.close(self.descriptor)
            self.descriptor = None


def lock(path: str) -> Lock:
    """Claim ``path`` for one consultation, or raise SessionError if another one has it.

    The lock is on a hidden file beside the session's real file (through any symbolic link),
    because each save replaces the session file itself with a new one.
    """
    if fcntl is None:  # pragma: no cover
        return Lock()
    real = os.path.realpath(path)
    name = os.path.join(os.path.dirname(real), f".{os.path.basename(real)}.lock")
    try:
        descriptor = os.open(name, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise SessionError(Problem(f"cannot save the session there: {error.strerror}", file=path,
                                   hint="choose another --session")) from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(descriptor).st_ino != os.stat(name).st_ino:  # released and removed meanwhile
            raise BlockingIOError
    except (BlockingIOError, FileNotFoundError):
        os.close(descriptor)
        raise SessionError(Problem("is in use by another consultation", file=path,
                                   hint="finish or quit that one first; two at once would lose answers")) from None
    except OSError:  # pragma: no cover - a file system without locks: go on unlocked
        pass
    return Lock(name, descriptor)


def save(path: str, consultation, finished: bool = False) -> None:
    """Write the session; a failure (full disk, missing folder) raises an InputError naming the file."""
    data = {"format": FORMAT, "version": VERSION, "knowledge_version": consultation.kb.knowledge_version,
            "preset": consultation.preset_case(), "history": [[obs, value] for obs, value in consultation.history],
            "finished": finished}
    with output_file(path) as out:
        out.write((json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def load(path: str) -> dict[str, Any]:
    """Read and check a session file; any problem raises SessionError naming the file."""
    with open_input(path, SessionError) as stream:
        text = read_text(stream, path, SessionError)
    try:
        data = parse_json(text, path, SessionError, with_lines=False).data
    except SessionError as error:
        first = error.problems[0]
        raise _bad(path, f"not a valid session file (JSON error: {first.message.removeprefix('JSON syntax error: ')})",
                   first.line) from None
    return checked(data, path)


def _bad(path: str, message: str, line: int | None = None) -> SessionError:
    return SessionError(Problem(message, file=path, line=line,
                                hint="the file was left as it is; fix it or start a new consultation"))


def is_session(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


def checked(data: Any, path: str) -> dict[str, Any]:
    """The parsed content of a session file, checked."""
    if not is_session(data):
        raise _bad(path, "not a Spasm Expert session file")
    if data.get("version") != VERSION or isinstance(data.get("version"), bool):  # true == 1 in Python
        raise _bad(path, f"session format version {shown(data.get('version'))} is not supported (expected {VERSION})")
    history = data.get("history")
    if not isinstance(data.get("preset"), dict) or not isinstance(history, list) or not all(
            isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) for item in history):
        raise _bad(path, "the session file is damaged: preset or history is malformed")
    version = data.get("knowledge_version")  # shown to the user when it differs: printable and short
    data["knowledge_version"] = printable(version[:80]) if isinstance(version, str) else shown(version)
    return data


def replayed(data: dict[str, Any], path: str, expert_):
    """A consultation rebuilt from a checked session, with every saved answer replayed."""
    from expert.consultation import Consultation
    preset = dict(data["preset"])
    try:
        consultation = Consultation(expert_, answers=preset.pop("answers", None), **preset)
    except (CaseError, TypeError) as error:
        raise SessionError(Problem(f"the saved presets no longer fit the knowledge base: {error}", file=path,
                                   hint="the file was left as it is")) from None
    for number, (question, value) in enumerate(data["history"], 1):
        try:
            consultation.answer(question, value)
        except (CaseError, KeyError) as error:
            raise SessionError(Problem(f"saved answer {number} ({shown(question)}) no longer fits the knowledge "
                                       f"base: {error}", file=path, hint="the file was left as it is")) from None
    return consultation


def resume(path: str, expert_):
    """A consultation rebuilt from a session file, and the file's content."""
    data = load(path)
    return replayed(data, path, expert_), data


def read_case(source: str, expert_):
    """The case in a case file, a saved session, or stdin (``-``): what ``spasm assess`` and
    ``spasm consult --answers`` read."""
    import sys

    from expert.documents import parse_text, read_file
    if source == "-":  # read at most SPASM_MAX_FILE_BYTES: an endless stream stops there
        doc = parse_text(read_text(sys.stdin.buffer, "<stdin>", CaseError), "<stdin>", CaseError)
    else:
        doc = read_file(source, CaseError)
    if is_session(doc.data):
        return replayed(checked(doc.data, doc.file or source), doc.file or source, expert_).case()
    return expert_.case(doc)


def default_path() -> str:
    import time
    return os.path.abspath(time.strftime("spasm-consult-%Y%m%d-%H%M%S.session.json"))
