"""Spasm Expert: explained decision support for involuntary muscle movements.

>>> import expert
>>> result = expert.assess({"age": 34, "answers": {"movement": "cramp", "sites": ["calf"]}})
>>> result.triage.level, [c.id for c in result.causes][:3]
>>> result.to_dict()      # the JSON contract; result.how(id) / result.why_not(id) explain it

The tool suggests possible causes and next steps; it never makes a diagnosis.
"""
from .assessment import Assessment
from .case import Case
from .consultation import Consultation, Question
from .errors import CaseError, KnowledgeError, Problem, SpasmError, UnknownIdError
from .model import TRIAGE_LEVELS, KnowledgeBase
from .system import Expert, assess, default_expert

__version__ = "0.1.0"

__all__ = ["Assessment", "Case", "CaseError", "Consultation", "Expert", "KnowledgeBase", "KnowledgeError",
           "Problem", "Question", "SpasmError", "TRIAGE_LEVELS", "UnknownIdError", "assess", "default_expert",
           "__version__"]
