"""The one place Experta is imported from (by ``engine.py`` and ``compiler.py`` only).

Experta 1.9.4 pins frozendict 1.2, which reads ``collections.Mapping`` (removed in Python 3.10);
aliasing it to ``collections.abc.Mapping`` before the import lets the pinned release load unchanged.
Experta's modules also call ``logging.basicConfig()`` on import, which would configure logging for
the host application; a placeholder handler on the root logger makes that call a no-op.
"""
import collections
import collections.abc
import logging

if not hasattr(collections, "Mapping"):
    collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]

_root = logging.getLogger()
_placeholder = logging.NullHandler()
_root.addHandler(_placeholder)
try:
    from experta import Fact, KnowledgeEngine, Rule
    from experta.abstract import Matcher, Strategy
    from experta.activation import Activation
    from experta.agenda import Agenda
    from experta.fact import InitialFact
    from experta.factlist import FactList
finally:
    _root.removeHandler(_placeholder)

__all__ = ["Activation", "Agenda", "Fact", "FactList", "InitialFact", "KnowledgeEngine", "Matcher", "Rule", "Strategy"]
