"""The compiled rule network: each rule's condition as patterns over working memory, routed by key.

Working memory, as the matcher sees it, maps a key to a value: ``("obs", id)`` to the answer,
``("finding", id)`` or ``("red_flag", id)`` to its presence, ``("cause", id)`` to its score,
``("triage", "")`` to the level, and ``("start", "")`` to the start of a run. Rules here never
join facts on shared variables, so matching is only this: each pattern tests the value at one
key, and a rule is re-examined only when a key it tests changes (alpha routing by key).

A pattern that matches reports the keys it matched; where several branches of an ``any`` or a
``count`` hold, it reports all of them, as a Rete network firing each branch would.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

Key = tuple[str, str]
START: Key = ("start", "")
TRIAGE: Key = ("triage", "")
_MISSING = object()


Match = Callable[[Mapping[Key, Any], list[Key]], bool]


class Pattern:
    """A test over working memory; its matcher appends the keys it matched to ``bound``."""

    def matcher(self) -> Match:
        """The test as one function (the engine calls it for every rule a change reaches)."""
        raise NotImplementedError

    def match(self, memory: Mapping[Key, Any], bound: list[Key]) -> bool:
        return self.matcher()(memory, bound)

    def keys(self) -> Iterator[Key]:
        """Every key this pattern reads: a change at any of them may change its result."""
        raise NotImplementedError

    def needs(self) -> frozenset[Key]:
        """Keys that must be in memory for this pattern to match (so a rule waits for all of them)."""
        return frozenset()


@dataclass(frozen=True, eq=False)
class Present(Pattern):
    """The key is in memory and its value passes ``test`` (any value, without one)."""

    key: Key
    test: Callable[[Any], bool] | None = None

    def matcher(self) -> Match:
        key, test = self.key, self.test

        def match(memory: Mapping[Key, Any], bound: list[Key]) -> bool:
            value = memory.get(key, _MISSING)
            if value is _MISSING or (test is not None and not test(value)):
                return False
            bound.append(key)
            return True
        return match

    def keys(self) -> Iterator[Key]:
        yield self.key

    def needs(self) -> frozenset[Key]:
        return frozenset((self.key,))


@dataclass(frozen=True, eq=False)
class Failing(Present):
    """The key is in memory and its value fails ``test``: an answer that rules something out."""

    def matcher(self) -> Match:
        key, test = self.key, self.test
        assert test is not None, "a failing test needs a test"

        def match(memory: Mapping[Key, Any], bound: list[Key]) -> bool:
            value = memory.get(key, _MISSING)
            if value is _MISSING or test(value):
                return False
            bound.append(key)
            return True
        return match


@dataclass(frozen=True, eq=False)
class Absent(Pattern):
    """``inner`` does not match: negation as failure, over conclusions already complete."""

    inner: Pattern

    def matcher(self) -> Match:
        inner = self.inner.matcher()
        return lambda memory, bound: not inner(memory, [])

    def keys(self) -> Iterator[Key]:
        return self.inner.keys()


@dataclass(frozen=True, eq=False)
class Every(Pattern):
    parts: tuple[Pattern, ...]

    def matcher(self) -> Match:
        parts = [part.matcher() for part in self.parts]

        def match(memory: Mapping[Key, Any], bound: list[Key]) -> bool:
            mark = len(bound)
            for part in parts:
                if not part(memory, bound):
                    del bound[mark:]
                    return False
            return True
        return match

    def keys(self) -> Iterator[Key]:
        return _keys_of(self.parts)

    def needs(self) -> frozenset[Key]:
        return _needs_of_all(self.parts)


@dataclass(frozen=True, eq=False)
class AtLeast(Pattern):
    """At least ``least`` of ``parts`` match (``least`` 1 is ``any``); every matching part is bound."""

    least: int
    parts: tuple[Pattern, ...]

    def matcher(self) -> Match:
        parts, least = [part.matcher() for part in self.parts], self.least

        def match(memory: Mapping[Key, Any], bound: list[Key]) -> bool:
            start = len(bound)
            held = 0
            for part in parts:
                mark = len(bound)
                if part(memory, bound):
                    held += 1
                else:
                    del bound[mark:]
            if held < least:
                del bound[start:]
                return False
            return True
        return match

    def keys(self) -> Iterator[Key]:
        return _keys_of(self.parts)

    def needs(self) -> frozenset[Key]:
        if self.least == len(self.parts):
            return _needs_of_all(self.parts)
        return frozenset.intersection(*(part.needs() for part in self.parts)) if self.parts else frozenset()


def _keys_of(parts: tuple[Pattern, ...]) -> Iterator[Key]:
    for part in parts:
        yield from part.keys()


def _needs_of_all(parts: tuple[Pattern, ...]) -> frozenset[Key]:
    """What a pattern needing every one of ``parts`` needs: all that each of them needs."""
    return frozenset().union(*(part.needs() for part in parts))


@dataclass(frozen=True)
class Conclusion:
    """What a rule concludes when it fires: a conclusion of ``kind`` named ``target``."""

    kind: str
    target: str
    level: str = ""  # red flags: the triage level they set


@dataclass(eq=False)
class CompiledRule:
    """One knowledge-base rule ready for the engine; ``index`` is its place in file order."""

    index: int
    id: str
    pattern: Pattern
    salience: int
    conclusion: Conclusion
    #: for a conclusion that may be only possible: the pattern that holds when the answers confirm it
    confirm: Pattern | None = None

    def __post_init__(self) -> None:
        self.match = self.pattern.matcher()
        self.confirmed = self.confirm.matcher() if self.confirm is not None else None


@dataclass(eq=False)
class Network:
    """All compiled rules and, for each key, the rules whose patterns read it.

    A rule is matched again only once every key it needs is in memory: ``needed`` routes a key to
    the rules that need it (each counts the needed keys present, out of ``need``), ``optional`` to
    the rules that read it without needing it, and ``routes`` to both.
    """

    rules: tuple[CompiledRule, ...]
    routes: dict[Key, tuple[int, ...]] = field(default_factory=dict)
    needed: dict[Key, tuple[int, ...]] = field(default_factory=dict)
    optional: dict[Key, tuple[int, ...]] = field(default_factory=dict)
    need: tuple[int, ...] = ()
    #: rules that can match before any answer arrives (only an absence to hold them back)
    at_start: tuple[int, ...] = ()
    #: keys some pattern reads: conclusions nobody reads need not enter working memory
    read: frozenset[Key] = frozenset()

    def __post_init__(self) -> None:
        routes: dict[Key, list[int]] = {}
        needed: dict[Key, list[int]] = {}
        for rule in self.rules:
            for key in dict.fromkeys(rule.pattern.keys()):
                routes.setdefault(key, []).append(rule.index)
            for key in sorted(rule.pattern.needs()):
                needed.setdefault(key, []).append(rule.index)
        self.routes = {key: tuple(indexes) for key, indexes in routes.items()}
        self.needed = {key: tuple(indexes) for key, indexes in needed.items()}
        self.optional = {key: tuple(i for i in indexes if i not in set(self.needed.get(key, ())))
                         for key, indexes in routes.items()}
        self.need = tuple(len(rule.pattern.needs()) for rule in self.rules)
        self.at_start = tuple(rule.index for rule in self.rules if rule.pattern.match({START: True}, []))
        self.read = frozenset(routes)

    def to_dot(self) -> str:
        """The network as Graphviz DOT: each key routed to the rules that read it."""
        lines = ["digraph network {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
        for key in sorted(self.routes):
            name = f"{key[0]}:{key[1]}" if key[1] else key[0]
            lines.append(f'  "{name}" [shape=ellipse];')
            for index in self.routes[key]:
                lines.append(f'  "{name}" -> "{self.rules[index].id}";')
        for rule in self.rules:
            lines.append(f'  "{rule.id}" [shape=box];')
        lines.append("}")
        return "\n".join(lines) + "\n"
