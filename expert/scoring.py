"""Certainty factors: how evidence for and against a cause becomes one score.

Each evidence rule carries a certainty factor (cf) in the knowledge base: how much it raises
(cf > 0) or lowers (cf < 0) belief in its cause. As in MYCIN, factors of one sign combine as
``a + b(1 - a)`` (that is, ``1 - prod(1 - cf)``), so each extra piece of evidence closes part of
the remaining gap without ever exceeding 1. Support S and opposition O are then merged as
``(S - O) / (1 - min(S, O))``, giving a score in [-1, 1]. Combining each sign first makes the
result independent of the order in which rules fired.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping

if TYPE_CHECKING:  # pragma: no cover
    from .model import KnowledgeBase, RuleDef


def combine(factors: Iterable[float]) -> float:
    """Combine factors of one sign, given as magnitudes in [0, 1]."""
    remaining = 1.0
    for factor in sorted(factors):  # a fixed order keeps the float result identical run to run
        remaining *= 1.0 - factor
    return 1.0 - remaining


def certainty(factors: Iterable[float]) -> float:
    """The score of a cause from its signed evidence factors."""
    factors = list(factors)
    support = combine(f for f in factors if f > 0)
    opposition = combine(-f for f in factors if f < 0)
    if support == opposition == 1.0:
        return 0.0
    return (support - opposition) / (1.0 - min(support, opposition))


def cause_scores(kb: "KnowledgeBase", fired: Iterable["RuleDef"]) -> dict[str, float]:
    """The score of every cause that some fired rule supports, from its fired evidence, by cause id.

    A cause that only opposing evidence touches is not suggested at all.
    """
    factors: dict[str, list[float]] = {}
    for rule in fired:
        if rule.is_evidence:
            factors.setdefault(rule.target, []).append(rule.cf)
    return {cause: certainty(factors[cause]) for cause in sorted(factors) if any(f > 0 for f in factors[cause])}


#: How many causes lead: the summary shows them, and an interview asks until they are settled.
LEADING = 3
#: A cause leads only with a score above this: one resting on a weak association alone (cf 0.1 to
#: 0.3) is listed among the possible causes but is not called likely.
LEADING_SCORE = 0.3


def ranked(scores: Mapping[str, float], order: Mapping[str, int]) -> list[str]:
    """Cause ids strongest first: by score to three places, then in the knowledge base's order."""
    return sorted(scores, key=lambda cause: (-round(scores[cause], 3), order[cause]))


def leading(scores: Mapping[str, float], order: Mapping[str, int], count: int = LEADING) -> tuple[str, ...]:
    """The strongest causes the evidence clearly favours (a score above LEADING_SCORE), at most ``count``."""
    return tuple(cause for cause in ranked(scores, order) if round(scores[cause], 3) > LEADING_SCORE)[:count]
