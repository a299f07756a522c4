"""Spasm Expert: explained decision support for involuntary muscle movements.

>>> import expert
>>> result = expert.assess({"age": 34, "answers": {"movement": "cramp", "sites": ["calf"]}})
>>> result.triage.level, [c.id for c in result.causes][:3]
>>> result.to_dict()      # the JSON contract; result.how(id) / result.why_not(id) explain it

The tool suggests possible causes and next steps; it never makes a diagnosis.

The names below load on first use, so that importing a submodule (the ``spasm`` command's
start-up, ``expert.errors``) does not load the rule engine.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

#: public name -> the submodule that defines it
_EXPORTS = {
    "Assessment": "assessment", "Case": "case", "Consultation": "consultation", "Question": "consultation",
    "CaseError": "errors", "KnowledgeError": "errors", "Problem": "errors", "SpasmError": "errors",
    "UnknownIdError": "errors", "KnowledgeBase": "model", "TRIAGE_LEVELS": "contract",
    "Expert": "system", "assess": "system", "default_expert": "system",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .assessment import Assessment
    from .case import Case
    from .consultation import Consultation, Question
    from .errors import CaseError, KnowledgeError, Problem, SpasmError, UnknownIdError
    from .contract import TRIAGE_LEVELS
    from .model import KnowledgeBase
    from .system import Expert, assess, default_expert


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'expert' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
