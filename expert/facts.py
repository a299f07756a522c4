"""The kinds of fact in working memory, one class per kind (Experta matches on the class)."""
from ._experta import Fact


class Obs(Fact):
    """An answered observation: ``id`` and ``value`` (a set answer is a frozenset)."""


class Finding(Fact):
    """A derived finding was concluded: ``id``."""


class RedFlag(Fact):
    """A red flag was raised: ``id`` and its triage ``level``."""


class Evidence(Fact):
    """One evidence rule fired for or against a cause: ``cause``, ``rule``, ``cf``."""


class CauseScore(Fact):
    """A cause's combined certainty once all evidence is in: ``id``, ``score``."""


class Triage(Fact):
    """The case's triage ``level``, the most urgent any red flag sets."""


class Advice(Fact):
    """A piece of advice applies: ``id``."""


class Test(Fact):
    """A suggested test applies: ``id``."""
    __test__ = False  # not a pytest test class
