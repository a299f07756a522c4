"""The one place Experta is imported from.

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
    from experta import AND, NOT, OR, Fact, KnowledgeEngine, L, P, Rule
finally:
    _root.removeHandler(_placeholder)
from experta.fact import InitialFact  # noqa: E402
from experta.matchers import ReteMatcher  # noqa: E402
from experta.matchers.rete.check import FeatureCheck, TypeCheck  # noqa: E402
from experta.matchers.rete.mixins import ChildNode  # noqa: E402
from experta.matchers.rete.nodes import FeatureTesterNode  # noqa: E402
from experta.strategies import DepthStrategy  # noqa: E402

__all__ = ["AND", "DepthStrategy", "NOT", "OR", "ChildNode", "Fact", "FeatureCheck", "FeatureTesterNode", "InitialFact",
           "KnowledgeEngine", "L", "P", "ReteMatcher", "Rule", "TypeCheck"]
