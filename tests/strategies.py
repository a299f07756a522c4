"""Valid cases over a knowledge base's vocabulary: hypothesis strategies, and plain random ones.

Both draw answers from the same table of values (:func:`all_values`), so every test that needs
generated cases exercises the same ground.
"""
import json
import random
from hypothesis import strategies as st

from expert.model import KnowledgeBase, Observation

#: numbers around every threshold the knowledge uses, plus a few ordinary values
NUMBERS = [0, 0.5, 1, 2, 5, 9.5, 10, 10.5, 15, 30, 34, 35, 44, 45, 59, 60, 61, 64, 65, 66, 90, 120]


def all_values(obs: Observation) -> list:
    """A value of each kind for one observation, for exhaustive checks (every choice, the empty and
    the full set, numbers around every threshold)."""
    if obs.type == "bool":
        return [True, False]
    if obs.type == "enum":
        return list(obs.values)
    if obs.type == "set":
        return [[]] + [[v] for v in obs.values] + [list(obs.values)]
    return [n for n in NUMBERS if obs.maximum is None or n <= obs.maximum]


def values(obs: Observation) -> st.SearchStrategy:
    """Every valid answer of one observation, in the contract's case format."""
    if obs.type == "bool":
        return st.booleans()
    if obs.type == "enum":
        return st.sampled_from(obs.values)
    if obs.type == "set":
        return st.lists(st.sampled_from(obs.values), unique=True, max_size=4)
    numbers = [n for n in NUMBERS if obs.maximum is None or n <= obs.maximum]
    return st.sampled_from(numbers)


def cases(kb: KnowledgeBase, max_answers: int | None = None) -> st.SearchStrategy:
    """Valid cases: some of the top-level fields, any subset of the answers."""
    top = {o.id: values(o) for o in kb.observations.values() if o.top_level}
    answers = {o.id: values(o) for o in kb.observations.values() if not o.top_level}
    answer_maps = st.fixed_dictionaries({}, optional=answers)
    if max_answers is not None:
        answer_maps = answer_maps.filter(lambda a: len(a) <= max_answers)
    return st.builds(lambda head, body: {**head, "answers": body},
                     st.fixed_dictionaries({}, optional=top), answer_maps)


def with_extra_answer(kb: KnowledgeBase) -> st.SearchStrategy:
    """A case and one more answer to a question it left open."""
    @st.composite
    def build(draw):
        case = draw(cases(kb))
        known = set(case["answers"]) | {k for k in case if k != "answers"}
        open_ = [o for o in kb.observations.values() if o.id not in known]
        if not open_:
            return case, None, None
        obs = draw(st.sampled_from(open_))
        return case, obs, draw(values(obs))
    return build()


def add_answer(case: dict, obs: Observation, value) -> dict:
    bigger = {**case, "answers": dict(case["answers"])}
    (bigger if obs.top_level else bigger["answers"])[obs.id] = value
    return bigger


def random_answers(kb: KnowledgeBase, rng: random.Random, fill: float = 0.7) -> dict:
    """Answers (as the engine holds them: sets as frozensets) to about ``fill`` of the questions."""
    answers = {}
    for obs in kb.observations.values():
        if rng.random() < fill:
            value = rng.choice(all_values(obs))
            answers[obs.id] = frozenset(value) if obs.type == "set" else value
    return answers


def random_cases(kb: KnowledgeBase, count: int, seed: int = 3, fill: float = 0.35) -> list[dict]:
    """``count`` valid cases in the contract's format, reproducible from ``seed``."""
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        answers = random_answers(kb, rng, fill)
        case: dict = {"answers": {}}
        for obs_id, value in answers.items():
            value = sorted(value, key=kb.observations[obs_id].values.index) if isinstance(value, frozenset) else value
            (case if kb.observations[obs_id].top_level else case["answers"])[obs_id] = value
        found.append(case)
    return found


def case_lines(kb: KnowledgeBase, count: int, seed: int = 3) -> list[str]:
    """``count`` valid cases, each a line of JSON (for ``spasm batch``)."""
    return [json.dumps(case) for case in random_cases(kb, count, seed)]
