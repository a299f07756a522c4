"""The adaptive interview never leaves out a question whose answer could change the triage.

Checked against exhaustive evaluation: for small random partial cases, every unanswered
observation and every value it could take is tried; whenever that changes the triage, the
observation must be among the assessment's ``unanswered``.
"""
import random

import pytest

import expert
from expert.case import Case
from tests.strategies import all_values, random_answers


def _typed(obs, value):
    """A case value as the engine holds it (a set answer is a frozenset)."""
    return frozenset(value) if obs.type == "set" else value


def check(chosen, rng, cases, fill):
    kb = chosen.kb
    engine = chosen.new_engine()
    for _ in range(cases):
        answers = random_answers(kb, rng, fill)
        base = chosen.assess(Case(answers), engine=engine)
        unanswered = set(base.unanswered)
        decider = chosen.logic.decider(answers)
        for obs in kb.observations.values():
            if obs.id in answers or not decider.applicable(obs):
                continue
            for value in all_values(obs):
                changed = chosen.assess(Case({**answers, obs.id: _typed(obs, value)}), engine=engine)
                if changed.triage.level != base.triage.level:
                    assert obs.id in unanswered, (obs.id, value, answers, base.triage.level)
                    break


def test_small_knowledge_base_exhaustively(small):
    check(small, random.Random(7), cases=60, fill=0.4)


@pytest.mark.parametrize("seed", [1, 2])
def test_shipped_knowledge_base_exhaustively(seed):
    check(expert.default_expert(), random.Random(seed), cases=6, fill=0.5)
