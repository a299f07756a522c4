"""The compiler: each condition construct becomes Experta patterns that fire exactly when it holds."""
import random
import shutil

import pytest

import expert
from expert.conditions import Truth
from expert.relevance import Decider
from tests.conftest import SMALL_KB


def probe(tmp_path, condition: str, kind: str = "finding"):
    """An expert whose only extra rule is a ``probe`` of ``kind`` with the given condition."""
    directory = tmp_path / "kb"
    shutil.copytree(SMALL_KB, directory)
    if kind == "finding":
        text = f"findings:\n  - id: probe\n    label: Probe\n    when: {condition}\n    sources: [doc]\n"
    else:
        text = f"advice:\n  - id: probe\n    text: Probe.\n    when: {condition}\n    sources: [doc]\n"
    (directory / "probe.yaml").write_text(text)
    return expert.Expert.from_directory(directory)


def fired(expert_, answers, rule="finding.probe"):
    age = answers.pop("age", None)
    case = {"answers": answers} if age is None else {"age": age, "answers": answers}
    return rule in {f.rule for f in expert_.assess(case).run.firings}


CONSTRUCTS = [
    # condition, answers that make it hold, answers that do not
    ("{movement: cramp}", {"movement": "cramp"}, {"movement": "twitch"}),
    ("{movement: [cramp, twitch]}", {"movement": "twitch"}, {"movement": "convulsion"}),
    ("{weakness: true}", {"weakness": True}, {"weakness": False}),
    ("{weakness: false}", {"weakness": False}, {"weakness": True}),
    ("{sites: calf}", {"sites": ["calf", "hand"]}, {"sites": ["hand"]}),
    ("{sites: {includes: eyelid}}", {"sites": ["eyelid"]}, {"sites": []}),
    ("{sites: [calf, eyelid]}", {"sites": ["eyelid"]}, {"sites": ["hand"]}),
    ("{sites: {includes_all: [calf, hand]}}", {"sites": ["calf", "hand"]}, {"sites": ["calf"]}),
    ("{sites: {includes_none: [calf, hand]}}", {"sites": ["eyelid"]}, {"sites": ["hand"]}),
    ("{episode_minutes: {at_least: 10}}", {"episode_minutes": 10}, {"episode_minutes": 9.5}),
    ("{episode_minutes: {above: 10}}", {"episode_minutes": 10.5}, {"episode_minutes": 10}),
    ("{episode_minutes: {at_most: 10}}", {"episode_minutes": 10}, {"episode_minutes": 11}),
    ("{episode_minutes: {below: 10}}", {"episode_minutes": 0}, {"episode_minutes": 10}),
    ("{episode_minutes: {equals: 5}}", {"episode_minutes": 5}, {"episode_minutes": 6}),
    ("{episode_minutes: {at_least: 5, below: 10}}", {"episode_minutes": 7}, {"episode_minutes": 10}),
    ("{age: {at_least: 65}}", {"age": 70}, {"age": 30}),
    ("{all: [{weakness: true}, {wasting: true}]}", {"weakness": True, "wasting": True}, {"weakness": True}),
    ("{weakness: true, wasting: true}", {"weakness": True, "wasting": True}, {"wasting": True}),
    ("{any: [{weakness: true}, {thirst: true}]}", {"thirst": True}, {"weakness": False, "thirst": False}),
    ("{not: {weakness: true}}", {"weakness": False}, {"weakness": True}),
    ("{not: {weakness: true}}", {"weakness": False}, {}),  # not needs an answer: silence rules nothing out
    ("{not: {sites: calf}}", {"sites": []}, {}),
    ("{not: {episode_minutes: {at_least: 10}}}", {"episode_minutes": 3}, {}),
    ("{not: {count: {at_least: 2, of: [{weakness: true}, {thirst: true}, {heat: true}]}}}",
     {"weakness": False, "thirst": False}, {"weakness": False}),
    ("{not: {not: {weakness: true}}}", {"weakness": True}, {"weakness": False}),
    ("{not: {any: [{weakness: true}, {thirst: true}]}}", {"weakness": False, "thirst": False}, {"weakness": False}),
    ("{movement: cramp, not: {sites: calf}}", {"movement": "cramp", "sites": ["hand"]},
     {"movement": "cramp", "sites": ["calf"]}),
    ("{count: {at_least: 2, of: [{weakness: true}, {thirst: true}, {heat: true}]}}",
     {"heat": True, "thirst": True}, {"heat": True, "weakness": False}),
    ("{finding: long_calf_cramp}", {"movement": "cramp", "episode_minutes": 12, "sites": ["calf"]},
     {"movement": "cramp", "episode_minutes": 12, "sites": ["hand"]}),
    ("{not: {finding: long_cramp}}", {"movement": "twitch"}, {"movement": "cramp", "episode_minutes": 30}),
    ("{not: {finding: long_cramp}}", {"movement": "cramp", "episode_minutes": 3}, {"movement": "cramp"}),
]


@pytest.mark.parametrize("condition, holds, fails", CONSTRUCTS, ids=[c[0] for c in CONSTRUCTS])
def test_each_construct_fires_exactly_when_it_holds(tmp_path, condition, holds, fails):
    expert_ = probe(tmp_path, condition)
    assert fired(expert_, dict(holds)), f"{condition} should hold for {holds}"
    assert not fired(expert_, dict(fails)), f"{condition} should not hold for {fails}"


REFERENCES = [
    ("{red_flag: weak_and_wasting}", {"weakness": True, "wasting": True}, {"weakness": True}),
    ("{cause: overuse}", {"exercise": True}, {"exercise": False}),
    ("{cause: {id: overuse, min_score: 0.7}}", {"exercise": True, "movement": "cramp", "episode_minutes": 20,
                                                "sites": ["calf"]}, {"exercise": True}),
    ("{cause: {id: dehydration, min_score: -0.5}}", {"thirst": True}, {"medications": []}),
    ("{triage: emergency}", {"movement": "convulsion"}, {"weakness": True}),
    ("{triage: [urgent, routine]}", {"weakness": True}, {}),
    ("{triage: self_care}", {}, {"weakness": True}),
    ("{unless: {weakness: true}}", {}, {"weakness": True}),  # unless is satisfied by silence
    ("{unless: {finding: heat_signs}}", {"heat": True}, {"heat": True, "thirst": True, "exercise": True}),
    ("{not: {red_flag: weakness}}", {}, {"weakness": True}),  # a conclusion not drawn is absent
    ("{not: {unless: {weakness: true}}}", {"weakness": True}, {}),
]


@pytest.mark.parametrize("condition, holds, fails", REFERENCES, ids=[c[0] for c in REFERENCES])
def test_advice_can_refer_to_red_flags_causes_and_triage(tmp_path, condition, holds, fails):
    expert_ = probe(tmp_path, condition, kind="advice")
    assert fired(expert_, dict(holds), "advice.probe")
    assert not fired(expert_, dict(fails), "advice.probe")


def test_a_cause_with_only_opposing_evidence_is_not_suggested(small):
    result = small.assess({"answers": {"medications": [], "exercise": False}})
    assert result.causes == []
    assert {f.rule for f in result.run.firings} >= {"cause.dehydration.no_diuretic", "cause.overuse.rested"}


def test_findings_fire_before_the_rules_that_use_them(small):
    result = small.assess({"answers": {"movement": "cramp", "episode_minutes": 12, "sites": ["calf"]}})
    order = [f.rule for f in result.run.firings]
    assert order.index("finding.long_cramp") < order.index("finding.long_calf_cramp") \
        < order.index("cause.overuse.long_calf") < order.index("engine.aggregate") < order.index("advice.rest")


def test_a_firing_records_the_facts_it_matched(small):
    result = small.assess({"answers": {"weakness": True, "wasting": True, "thirst": True}})
    firing = next(f for f in result.run.firings if f.rule == "red_flag.weak_and_wasting")
    assert sorted((dict(f)["id"], dict(f)["value"]) for f in firing.facts) == [("wasting", True), ("weakness", True)]


def random_answers(kb, rng, fill=0.7):
    answers = {}
    for obs in kb.observations.values():
        if rng.random() > fill:
            continue
        if obs.type == "bool":
            answers[obs.id] = rng.random() < 0.5
        elif obs.type == "enum":
            answers[obs.id] = rng.choice(obs.values)
        elif obs.type == "set":
            answers[obs.id] = frozenset(v for v in obs.values if rng.random() < 0.3)
        else:
            answers[obs.id] = rng.choice([0, 0.5, 1, 5, 9, 10, 11, 45, 60, 65, 66, 100])
    return answers


@pytest.mark.parametrize("which", ["small", "shipped"])
def test_the_engine_fires_exactly_the_rules_three_valued_logic_decides_true(small, which):
    """On random partial cases, each finding, red flag and evidence rule fires if and only if its
    condition is true whatever the unanswered questions turn out to be. This ties the Experta
    patterns to the meaning of the YAML, and makes these rules monotone in the answers."""
    chosen = small if which == "small" else expert.default_expert()
    kb = chosen.kb
    rng = random.Random(1234)
    engine = chosen.new_engine()
    for _ in range(150):
        answers = random_answers(kb, rng, fill=rng.choice([0.3, 0.7, 1.0]))
        fired_rules = {f.rule for f in engine.evaluate(answers).firings}
        decider = Decider(kb, answers)
        for rule in kb.rules.values():
            if rule.kind in ("finding", "red_flag", "evidence"):
                assert (rule.id in fired_rules) == (decider.truth(rule.when) is Truth.TRUE), (rule.id, answers)


def test_unless_is_refused_outside_advice_and_tests(kb_copy):
    from expert import KnowledgeError, loader
    directory = kb_copy("rules.yaml", "when: {weakness: true}\n", "when: {unless: {weakness: false}}\n")
    with pytest.raises(KnowledgeError, match="unless is for advice and tests"):
        loader.load(directory)


def activations_sharing_one_key(count):
    from experta.activation import Activation

    from expert._experta import InitialFact, Rule
    fact = InitialFact()
    fact.__factid__ = 0
    rules = [Rule(InitialFact(), salience=300)(lambda engine, n=n: n) for n in range(count)]
    return [Activation(rule, [fact]) for rule in rules]


@pytest.mark.parametrize("strategy, exact", [("ours", True), ("experta's", False)])
def test_the_agenda_removes_exactly_the_withdrawn_activations(strategy, exact):
    """Activations of one layer matching the same facts share a key; withdrawing some of them, in
    another order than they arrived, must remove exactly those (Experta's stock strategy checks
    only the bisection point and its neighbours: nilp0inter/experta#10)."""
    from experta.agenda import Agenda
    from experta.strategies import DepthStrategy

    from expert.engine import ExactRemovalStrategy
    chosen = ExactRemovalStrategy() if strategy == "ours" else DepthStrategy()
    activations = activations_sharing_one_key(6)
    agenda = Agenda()
    chosen.update_agenda(agenda, activations, [])
    chosen.update_agenda(agenda, [], [activations[4], activations[1]])
    left = {a.rule._wrapped(None) for a in agenda.activations}
    assert (left == {0, 2, 3, 5}) is exact
