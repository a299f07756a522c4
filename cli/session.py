"""Consultation session files: every confirmed answer saved atomically, so nothing is lost.

A session file is JSON: the presets (age, sex, answers from a file), the answers given in order,
and whether the consultation finished. It is rewritten through a temporary file and a rename
after every answer, so a crash, a closed terminal or SIGKILL leaves the last complete version.
A file that cannot be read as a session is reported, never discarded or overwritten.
"""
from __future__ import annotations

import json
import os
from typing import Any

from expert.errors import CaseError, InputError, Problem

from .output import atomic_write

FORMAT = "spasm-session"
VERSION = 1


class SessionError(InputError):
    default_title = "cannot resume this session"


def save(path: str, consultation, finished: bool = False) -> None:
    data = {"format": FORMAT, "version": VERSION, "knowledge_version": consultation.kb.knowledge_version,
            "preset": consultation.preset_case(), "history": [[obs, value] for obs, value in consultation.history],
            "finished": finished}
    atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def load(path: str) -> dict[str, Any]:
    """Read and check a session file; any problem raises SessionError naming the file."""
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except FileNotFoundError:
        raise SessionError(Problem("session file not found", file=path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise SessionError(Problem(f"cannot read session file: {error}", file=path)) from None

    def bad(message: str, line: int | None = None) -> SessionError:
        return SessionError(Problem(message, file=path, line=line,
                                    hint="the file was left as it is; fix it or start a new consultation"))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise bad(f"not a valid session file (JSON error: {error.msg})", error.lineno) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad("not a Spasm Expert session file")
    if data.get("version") != VERSION:
        raise bad(f"session format version {data.get('version')!r} is not supported (expected {VERSION})")
    history = data.get("history")
    if not isinstance(data.get("preset"), dict) or not isinstance(history, list) or not all(
            isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) for item in history):
        raise bad("the session file is damaged: preset or history is malformed")
    return data


def resume(path: str, expert_):
    """A consultation rebuilt from a session file, with every saved answer replayed."""
    from expert.consultation import Consultation
    data = load(path)
    preset = dict(data["preset"])
    try:
        consultation = Consultation(expert_, age=preset.pop("age", None), sex=preset.pop("sex", None),
                                    answers=preset.get("answers"))
    except CaseError as error:
        raise SessionError(Problem(f"the saved presets no longer fit the knowledge base: {error}", file=path,
                                   hint="the file was left as it is")) from None
    for number, (obs, value) in enumerate(data["history"], 1):
        try:
            consultation.answer(obs, value)
        except (CaseError, KeyError) as error:
            raise SessionError(Problem(f"saved answer {number} ({obs}) no longer fits the knowledge base: {error}",
                                       file=path, hint="the file was left as it is")) from None
    return consultation, data


def default_path() -> str:
    import time
    return os.path.abspath(time.strftime("spasm-consult-%Y%m%d-%H%M%S.session.json"))
