"""An expert system: one validated knowledge base compiled into an Experta engine, ready for cases.

Compiling happens once per :class:`Expert`; each thread then reuses its own engine instance
(reset before every case), so assessments are fast, independent and deterministic. The shipped
knowledge base is compiled at most once per process, on first use, by :func:`default_expert`.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Mapping, Union

from . import loader
from .assessment import Assessment
from .case import Case, parse_case
from .compiler import compile_engine
from .decider import Logic
from .documents import Document
from .engine import SpasmEngine
from .model import KnowledgeBase

CaseSource = Union[Mapping[str, Any], str, "os.PathLike[str]", Document, Case]


class Expert:
    """A knowledge base and its compiled engine."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.engine_class = compile_engine(kb)
        self.logic = Logic(kb)
        self._local = threading.local()

    @classmethod
    def from_directory(cls, directory: str | os.PathLike) -> "Expert":
        """Load, validate and compile the knowledge base in ``directory`` (raises KnowledgeError)."""
        return cls(loader.load(directory))

    def new_engine(self) -> SpasmEngine:
        """A fresh engine instance: its own working memory and agenda over the shared compiled network."""
        return self.engine_class()

    def _thread_engine(self) -> SpasmEngine:
        engine = getattr(self._local, "engine", None)
        if engine is None:
            engine = self._local.engine = self.new_engine()
        return engine

    def case(self, source: CaseSource) -> Case:
        """Validate a case (a mapping, a path to a JSON or YAML file, or a parsed document)."""
        return source if isinstance(source, Case) else parse_case(source, self.kb)

    def assess(self, source: CaseSource, engine: SpasmEngine | None = None) -> Assessment:
        """Assess one case (raises CaseError if it is invalid)."""
        case = self.case(source)
        run = (engine or self._thread_engine()).evaluate(case.answers)
        return Assessment(self.logic, case, run)


_default: Expert | None = None
_default_lock = threading.Lock()


def default_expert() -> Expert:
    """The shipped knowledge base, compiled once per process."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Expert(loader.load())
    return _default


def assess(case: CaseSource) -> Assessment:
    """Assess a case with the shipped knowledge base: ``case`` is a mapping or a path to a file."""
    return default_expert().assess(case)
