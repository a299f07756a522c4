"""Random valid cases over a knowledge base's vocabulary, for benchmarks and batch tests."""
from __future__ import annotations

import random


def generated_cases(kb, count: int, seed: int = 42) -> list[dict]:
    """Valid random cases over the whole vocabulary, about a third of the questions answered."""
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        answers = {}
        for obs in kb.observations.values():
            if obs.top_level or rng.random() > 0.35:
                continue
            if obs.type == "bool":
                answers[obs.id] = rng.random() < 0.35
            elif obs.type == "enum":
                answers[obs.id] = rng.choice(obs.values)
            elif obs.type == "set":
                answers[obs.id] = [v for v in obs.values if rng.random() < 0.15]
            else:
                answers[obs.id] = rng.choice([0.5, 2, 10, 30, 90])
        cases.append({"age": rng.randint(1, 95), "sex": rng.choice(["female", "male"]), "answers": answers})
    return cases
