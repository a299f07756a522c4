"""Typed errors that carry every problem found, each located by file, line and field.

The library raises these; the CLI turns them into exit code 2 with one line per problem.
"""
from __future__ import annotations

import difflib
import re
import reprlib
from dataclasses import dataclass
from typing import Sequence

#: Longest excerpt of an input value that a message quotes (the rest is cut with "…").
SHOWN_CHARS = 60

# C0 and C1 control characters (escape sequences start with ESC or CSI) and Unicode
# direction overrides, which could rewrite what a terminal shows.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, newlines: bool = False) -> str:
    """``text`` safe to print on a terminal: control characters shown as escapes (``\\x1b``).

    Input-derived text (a key, a file name, a saved id) reaches stderr through here, so a
    crafted file cannot move the cursor, retitle the window or clear the screen.
    """
    def escape(match: re.Match) -> str:
        char = match.group()
        if newlines and char == "\n":
            return char
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    return _UNPRINTABLE.sub(escape, text)


_REPR = reprlib.Repr()  # bounded: never builds the repr of a whole long list or string
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset, _REPR.maxfrozenset = 3, 4, 6, 6, 6, 6
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = SHOWN_CHARS


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """A short repr of an input value for a message: at most ``limit`` characters, then "…".

    Messages quote what was given, but a 50 MB value must not become a 50 MB message, and an
    integer longer than Python's digit limit for ``repr`` is described by its size instead.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3 * limit:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    try:
        text = _REPR.repr(value)
    except (ValueError, RecursionError):  # e.g. a huge integer inside a list
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what is wrong, and what would be right."""

    message: str
    field: str = ""
    file: str | None = None
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        """One line for a terminal; every part that may come from input is made printable."""
        where = ""
        if self.file:
            where = printable(self.file) + (f":{self.line}" if self.line else "") + ": "
        elif self.line:
            where = f"line {self.line}: "
        field = printable(self.field if len(self.field) <= 4 * SHOWN_CHARS else self.field[:4 * SHOWN_CHARS] + "…")
        text = where + (f"{field}: " if field else "") + printable(self.message, newlines=True)
        return text + (f" ({printable(self.hint, newlines=True)})" if self.hint else "")

    def to_dict(self) -> dict:
        return {k: v for k, v in (("file", self.file), ("line", self.line), ("field", self.field),
                                  ("message", self.message), ("hint", self.hint)) if v not in (None, "")}


class SpasmError(Exception):
    """Base class of every error this library raises on purpose."""


class InputError(SpasmError):
    """Bad input, with every problem found in it (not just the first)."""

    #: How many problems the message lists before summarising the rest.
    SHOWN = 20

    def __init__(self, problems: list[Problem] | Problem, title: str | None = None):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.title = title or self.default_title
        super().__init__(self.render())

    default_title = "invalid input"

    def render(self) -> str:
        lines = [f"{self.title}:"] if len(self.problems) != 1 else []
        shown = self.problems[: self.SHOWN]
        lines += [("  " if len(self.problems) != 1 else "") + str(p) for p in shown]
        if len(self.problems) > self.SHOWN:
            lines.append(f"  ... and {len(self.problems) - self.SHOWN} more problems")
        return "\n".join(lines)


class CaseError(InputError):
    """A case (the answers about one person) does not follow the case format."""

    default_title = "invalid case"


class KnowledgeError(InputError):
    """The knowledge base files are invalid; nothing is compiled until they are fixed."""

    default_title = "invalid knowledge base"


class UnknownIdError(SpasmError, KeyError):
    """An id that names nothing in the knowledge base (an observation, finding, cause, ...)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def described(value: object) -> str:
    """What a YAML value is, in plain words for a message ("a list", "a mapping", "nothing")."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {shown(value)}"
    return shown(value)


def json_kind(value: object) -> str:
    """What a JSON value is, in JSON's words for a message ("null", "an object")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


def suggest(word: object, choices: Sequence[str]) -> str:
    """A hint naming the closest allowed word, or the allowed words when there are few."""
    if not choices:
        return "none are defined"
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
    return f"allowed: {shown}"
