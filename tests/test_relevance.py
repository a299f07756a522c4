"""The adaptive interview never leaves out a question whose answer could change the triage.

Checked against exhaustive evaluation: for small random partial cases, every unanswered
observation and every value it could take is tried; whenever that changes the triage, the
observation must be among the assessment's ``unanswered``.
"""
import random

import pytest

import expert
from expert.case import Case

NUMBERS = [0, 0.5, 1, 5, 9.5, 10, 10.5, 30, 44, 45, 59, 60, 61, 64, 65, 66, 100, 120]


def values_of(obs):
    if obs.type == "bool":
        return [True, False]
    if obs.type == "enum":
        return list(obs.values)
    if obs.type == "set":
        return [frozenset()] + [frozenset([v]) for v in obs.values] + [frozenset(obs.values)]
    return [n for n in NUMBERS if obs.maximum is None or n <= obs.maximum]


def check(chosen, rng, cases, fill):
    kb = chosen.kb
    engine = chosen.new_engine()
    from expert.relevance import Decider
    for _ in range(cases):
        answers = {}
        for obs in kb.observations.values():
            if rng.random() < fill:
                answers[obs.id] = rng.choice(values_of(obs))
        base = chosen.assess(Case(answers), engine=engine)
        unanswered = set(base.unanswered)
        decider = Decider(kb, answers)
        for obs in kb.observations.values():
            if obs.id in answers or not decider.applicable(obs):
                continue
            for value in values_of(obs):
                changed = chosen.assess(Case({**answers, obs.id: value}), engine=engine)
                if changed.triage.level != base.triage.level:
                    assert obs.id in unanswered, (obs.id, value, answers, base.triage.level)
                    break


def test_small_knowledge_base_exhaustively(small):
    check(small, random.Random(7), cases=60, fill=0.4)


@pytest.mark.parametrize("seed", [1, 2])
def test_shipped_knowledge_base_exhaustively(seed):
    check(expert.default_expert(), random.Random(seed), cases=6, fill=0.5)
