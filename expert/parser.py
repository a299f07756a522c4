"""Parsing conditions from YAML into the condition tree, reporting every mistake with its line.

The grammar is described in ``knowledge/README.md``: a mapping of observation tests (several keys
must all hold), the constructs all / any / not / unless / count, and references to conclusions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from .conditions import CONSTRUCTS, NUMBER_TESTS, SET_TESTS, AllOf, AnyOf, Condition, Count, Is, Not, Ref, Unless
from .documents import Document, Path
from .errors import Problem, described, suggest
from .model import REFERABLE, Observation


@dataclass
class Vocabulary:
    """What a condition may name: observations by id (with type and values) and conclusion ids."""

    observations: Mapping[str, Observation]
    references: Mapping[str, Sequence[str]]  # kind -> known ids
    #: Ids defined but invalid (already reported): conditions using them raise no further problems.
    broken: frozenset[str] = frozenset()


class _Parser:
    def __init__(self, doc: Document, vocabulary: Vocabulary, problems: list[Problem]):
        self.doc, self.vocabulary, self.problems = doc, vocabulary, problems

    def fail(self, path: Path, message: str, hint: str | None = None) -> None:
        self.problems.append(self.doc.problem(path, message, hint))

    def condition(self, data: object, path: Path) -> Condition | None:
        if isinstance(data, list):
            return self.sequence(AllOf, data, path)
        if not isinstance(data, dict) or not data:
            self.fail(path, "a condition must be a mapping such as {movement: cramp}",
                      "combine conditions with all, any, not or count")
            return None
        parts = [self.entry(key, value, path + (key,)) for key, value in data.items()]
        if any(p is None for p in parts):
            return None
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))  # type: ignore[arg-type]

    def sequence(self, kind, data: object, path: Path):
        if not isinstance(data, list) or not data:
            self.fail(path, "expected a non-empty list of conditions")
            return None
        items = [self.condition(item, path + (i,)) for i, item in enumerate(data)]
        return None if any(i is None for i in items) else kind(tuple(items))

    def entry(self, key: object, value: object, path: Path) -> Condition | None:
        if key in ("all", "any"):
            return self.sequence(AllOf if key == "all" else AnyOf, value, path)
        if key in ("not", "unless"):
            inner = self.condition(value, path)
            return None if inner is None else (Not if key == "not" else Unless)(inner)
        if key == "count":
            return self.count(value, path)
        if key in REFERABLE:
            return self.reference(str(key), value, path)
        if key in self.vocabulary.observations:
            return self.observation(str(key), value, path)
        if key in self.vocabulary.broken:
            return Is(str(key), "equals", value)  # stands in; the knowledge base will not load anyway
        self.fail(path, f"unknown observation {key!r}",
                  suggest(key, list(self.vocabulary.observations) + list(CONSTRUCTS) + list(REFERABLE)))
        return None

    def count(self, value: object, path: Path) -> Condition | None:
        if not isinstance(value, dict) or set(value) != {"at_least", "of"}:
            self.fail(path, "count needs exactly the keys at_least and of", "e.g. {at_least: 2, of: [...]}")
            return None
        least, items = value["at_least"], self.sequence(AllOf, value["of"], path + ("of",))
        if items is None:
            return None
        if not isinstance(least, int) or isinstance(least, bool) or not 1 <= least <= len(items.items):
            self.fail(path + ("at_least",), f"must be a whole number from 1 to {len(items.items)}")
            return None
        return Count(least, items.items)

    def reference(self, kind: str, value: object, path: Path) -> Condition | None:
        known = list(self.vocabulary.references.get(kind, ()))
        min_score = None
        if kind == "cause" and isinstance(value, dict):
            if set(value) - {"id", "min_score"} or "id" not in value:
                self.fail(path, "a cause reference is an id or {id: ..., min_score: ...}")
                return None
            min_score = value.get("min_score")
            if not isinstance(min_score, (int, float)) or isinstance(min_score, bool) or not -1 <= min_score <= 1:
                self.fail(path + ("min_score",), "must be a number from -1 to 1")
                return None
            value = value["id"]
        targets = value if kind == "triage" and isinstance(value, list) else [value]
        bad = [t for t in targets if t not in known]
        for target in bad:
            self.fail(path, f"unknown {kind.replace('_', ' ')} {target!r}" if not isinstance(target, (list, dict))
                      else f"expected a {kind.replace('_', ' ')} id, got {described(target)}", suggest(target, known))
        if bad or not targets:
            return None
        target = tuple(map(str, targets)) if kind == "triage" else str(targets[0])
        return Ref(kind, target, float(min_score) if min_score is not None else None)

    def observation(self, name: str, value: object, path: Path) -> Condition | None:
        obs = self.vocabulary.observations[name]
        kind = obs.type
        if kind == "bool":
            if not isinstance(value, bool):
                self.fail(path, f"{name} is yes/no; expected true or false, got {described(value)}")
                return None
            return Is(name, "equals", value)
        if kind == "number":
            return self.number(name, value, path)
        values = list(obs.values)
        if kind == "enum":
            return self.choice(name, value, path, values, "equals", "one_of")
        return self.set_test(name, value, path, values)

    def checked_values(self, name: str, items: list, path: Path, values: list) -> bool:
        ok = True
        for i, item in enumerate(items):
            if item not in values:
                message = f"{item!r} is not a value of {name}" if not isinstance(item, (list, dict)) \
                    else f"expected a value of {name}, got {described(item)}"
                self.fail(path + (i,) if len(items) > 1 else path, message, suggest(item, values))
                ok = False
        return ok

    def choice(self, name, value, path, values, single: str, several: str) -> Condition | None:
        if isinstance(value, list):
            if not value:
                self.fail(path, "expected at least one value")
                return None
            return Is(name, several, tuple(value)) if self.checked_values(name, value, path, values) else None
        if self.checked_values(name, [value], path, values):
            return Is(name, single, value)
        return None

    def set_test(self, name, value, path, values) -> Condition | None:
        if not isinstance(value, dict):
            return self.choice(name, value, path, values, "includes", "includes_any")
        if len(value) != 1 or next(iter(value)) not in SET_TESTS:
            self.fail(path, f"a test on {name} is one of {', '.join(SET_TESTS)}", "e.g. {includes: calf}")
            return None
        test, operand = next(iter(value.items()))
        items = operand if isinstance(operand, list) else [operand]
        if test == "includes" and isinstance(operand, list) or not items:
            self.fail(path + (test,), "includes takes one value; includes_any, includes_all and includes_none take a list")
            return None
        if not self.checked_values(name, items, path + (test,), values):
            return None
        return Is(name, test, operand if test == "includes" else tuple(items))

    def number(self, name, value, path) -> Condition | None:
        if not isinstance(value, dict) or not value:
            self.fail(path, f"{name} is a number; test it with {', '.join(NUMBER_TESTS)}", "e.g. {at_least: 10}")
            return None
        tests = []
        for test, bound in value.items():
            if test not in NUMBER_TESTS:
                self.fail(path + (test,), f"unknown numeric test {test!r}", suggest(test, list(NUMBER_TESTS)))
            elif not isinstance(bound, (int, float)) or isinstance(bound, bool) or bound < 0:
                self.fail(path + (test,), f"expected a non-negative number, got {described(bound)}")
            else:
                tests.append(Is(name, test, bound))
        if len(tests) != len(value):
            return None
        return tests[0] if len(tests) == 1 else AllOf(tuple(tests))


def parse(data: object, path: Path, doc: Document, vocabulary: Vocabulary,
          problems: list[Problem]) -> Condition | None:
    """Parse a YAML condition; on error append to ``problems`` and return None."""
    return _Parser(doc, vocabulary, problems).condition(data, path)
