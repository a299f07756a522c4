"""Typed errors that carry every problem found, each located by file, line and field.

The library raises these; the CLI turns them into exit code 2 with one line per problem.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what is wrong, and what would be right."""

    message: str
    field: str = ""
    file: str | None = None
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        elif self.line:
            where = f"line {self.line}: "
        text = where + (f"{self.field}: " if self.field else "") + self.message
        return text + (f" ({self.hint})" if self.hint else "")

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


def suggest(word: object, choices: Sequence[str]) -> str:
    """A hint naming the closest allowed word, or the allowed words when there are few."""
    if not choices:
        return "none are defined"
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
    return f"allowed: {shown}"
