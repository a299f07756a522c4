"""The compiler: each condition construct becomes Experta patterns that fire exactly when it holds."""
import random
import shutil

import pytest

import expert
from expert.conditions import Truth
from expert.decider import reference_run
from tests.conftest import SMALL_KB
from tests.strategies import random_answers


def probe(tmp_path, condition: str, kind: str = "finding"):
    """An expert whose only extra rule is a ``probe`` of ``kind`` with the given condition."""
    directory = tmp_path / "kb"
    shutil.copytree(SMALL_KB, directory)
    if kind == "finding":
        text = f"findings:\n  - id: probe\n    label: Probe\n    when: {condition}\n    sources: [doc]\n"
    elif kind == "cause":
        text = (f"causes:\n  - id: probe\n    label: Probe\n    description: A probe.\n    sources: [doc]\n"
                f"    for:\n      - {{id: it, cf: 0.5, when: {condition}, sources: [doc]}}\n")
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
    """As cause evidence, which is decided in three-valued logic: a ``not`` needs an answer."""
    expert_ = probe(tmp_path, condition, kind="cause")
    assert fired(expert_, dict(holds), "cause.probe.it"), f"{condition} should hold for {holds}"
    assert not fired(expert_, dict(fails), "cause.probe.it"), f"{condition} should not hold for {fails}"


def status(expert_, answers, rule="finding.probe"):
    firing = expert_.assess({"answers": answers}).run.by_rule.get(rule)
    return None if firing is None else ("possible" if firing.possible else "confirmed")


LENIENT = [
    # condition, answers, status of a finding (or red flag) with that condition
    ("{not: {weakness: true}}", {}, "possible"),  # an unanswered exclusion counts as absent...
    ("{not: {weakness: true}}", {"weakness": False}, "confirmed"),  # ...until it is answered
    ("{not: {weakness: true}}", {"weakness": True}, None),
    ("{movement: cramp, not: {sites: calf}}", {"movement": "cramp"}, "possible"),
    ("{movement: cramp, not: {sites: calf}}", {}, None),  # a positive requirement needs its answer
    ("{movement: cramp, weakness: false}", {"movement": "cramp"}, None),  # "is no" is a requirement
    ("{not: {any: [{weakness: true}, {thirst: true}]}}", {"weakness": False}, "possible"),
    ("{not: {any: [{weakness: true}, {thirst: true}]}}", {"weakness": False, "thirst": True}, None),
    ("{any: [{not: {weakness: true}}, {thirst: true}]}", {"thirst": True}, "confirmed"),
    ("{count: {at_least: 2, of: [{heat: true}, {not: {thirst: true}}, {not: {weakness: true}}]}}",
     {"heat": True}, "possible"),
    ("{finding: long_cramp, not: {finding: heat_signs}}", {"movement": "cramp", "episode_minutes": 30}, "possible"),
    ("{finding: long_cramp, not: {finding: heat_signs}}",
     {"movement": "cramp", "episode_minutes": 30, "heat": False, "exercise": False}, "confirmed"),
]


@pytest.mark.parametrize("condition, answers, expected", LENIENT, ids=[f"{c[0]} {c[1]}" for c in LENIENT])
def test_findings_and_red_flags_hold_as_possible_while_an_exclusion_is_unanswered(tmp_path, condition, answers,
                                                                                 expected):
    assert status(probe(tmp_path, condition), dict(answers)) == expected


def test_a_possible_finding_makes_what_rests_on_it_possible_and_feeds_no_evidence(tmp_path):
    expert_ = probe(tmp_path, "{movement: cramp, not: {weakness: true}}")
    directory = tmp_path / "kb"
    (directory / "uses.yaml").write_text(
        "red_flags:\n  - {id: uses_probe, label: U, level: routine, reason: R., when: {finding: probe}, sources: [doc]}\n"
        "causes:\n  - id: from_probe\n    label: P\n    description: D.\n    sources: [doc]\n"
        "    for: [{id: it, cf: 0.4, when: {finding: probe}, sources: [doc]}]\n")
    expert_ = expert.Expert.from_directory(directory)
    possible = expert_.assess({"answers": {"movement": "cramp"}})
    assert status(expert_, {"movement": "cramp"}, "red_flag.uses_probe") == "possible"
    assert "from_probe" not in {c.id for c in possible.causes}  # evidence keeps three-valued logic
    flag = next(f for f in possible.red_flags if f.id == "uses_probe")
    assert flag.status == "possible" and flag.pending == ("weakness",)
    confirmed = expert_.assess({"answers": {"movement": "cramp", "weakness": False}})
    assert "from_probe" in {c.id for c in confirmed.causes}
    assert next(f for f in confirmed.red_flags if f.id == "uses_probe").status == "confirmed"


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
    assert sorted(firing.answers) == [("wasting", True), ("weakness", True)] and firing.uses == ()


@pytest.mark.parametrize("which", ["small", "shipped"])
def test_the_engine_fires_exactly_the_rules_three_valued_logic_decides(small, which):
    """On random partial cases, cause evidence fires if and only if its condition is true whatever
    the unanswered questions turn out to be; a finding or red flag fires when it holds with its
    unanswered exclusions taken as absent, and is marked possible unless it is true that way too.
    This ties the Experta patterns to the meaning of the YAML."""
    chosen = small if which == "small" else expert.default_expert()
    kb = chosen.kb
    rng = random.Random(1234)
    engine = chosen.new_engine()
    for _ in range(150):
        answers = random_answers(kb, rng, fill=rng.choice([0.3, 0.7, 1.0]))
        firings = engine.evaluate(answers).by_rule
        decider = chosen.logic.decider(answers)
        for rule in kb.rules.values():
            true = decider.condition(rule.when) is Truth.TRUE
            if rule.kind == "cause":
                assert (rule.id in firings) == true, (rule.id, answers)
            elif rule.kind in ("finding", "red_flag"):
                assert (rule.id in firings) == decider.holds(rule), (rule.id, answers)
                assert rule.id not in firings or firings[rule.id].possible == (not true), (rule.id, answers)
                assert not true or decider.holds(rule), "what is confirmed is possible too"


@pytest.mark.parametrize("which", ["small", "shipped"])
def test_the_engine_run_equals_the_reference_evaluator(small, which):
    """Every rule, advice and tests included, fires on the same answers and conclusions, and the
    scores and triage agree, whether Experta draws them or three-valued logic decides them."""
    chosen = small if which == "small" else expert.default_expert()
    rng = random.Random(99)
    engine = chosen.new_engine()
    for _ in range(150):
        answers = random_answers(chosen.kb, rng, fill=rng.choice([0.2, 0.5, 1.0]))
        run, reference = engine.evaluate(answers), reference_run(chosen.logic, answers)
        assert (run.triage, dict(run.scores)) == (reference.triage, dict(reference.scores))
        by_rule = {f.rule: (dict(f.answers), set(f.uses), f.possible) for f in run.firings}
        assert by_rule == {f.rule: (dict(f.answers), set(f.uses), f.possible) for f in reference.firings}, answers


def test_unless_is_refused_outside_advice_and_tests(kb_copy):
    from expert import KnowledgeError, loader
    directory = kb_copy("rules.yaml", "when: {weakness: true}\n", "when: {unless: {weakness: false}}\n")
    with pytest.raises(KnowledgeError, match="unless is for advice and tests"):
        loader.load(directory)


def test_the_agenda_removes_exactly_the_withdrawn_activations(small):
    """Activations of one layer share a salience; withdrawing some of them, in another order than
    they arrived, removes exactly those (Experta's stock depth strategy looks for an activation to
    remove only near the bisection point, and could leave a withdrawn one to fire:
    nilp0inter/experta#10)."""
    from experta.activation import Activation
    from experta.agenda import Agenda

    from expert.engine import LayerStrategy
    rules = small.engine_class.rule_objects[:6]
    activations = []
    for index, rule in enumerate(rules):
        activation = Activation(rule, (), {"bound": ()})
        activation.key = (300, -index)
        activations.append(activation)
    agenda, strategy = Agenda(), LayerStrategy()
    strategy.update_agenda(agenda, activations, [])
    strategy.update_agenda(agenda, [], [activations[4], activations[1]])
    assert [a.key[1] for a in agenda.activations] == [-5, -3, -2, 0]
    assert [agenda.get_next() for _ in range(4)] == [activations[0], activations[2], activations[3], activations[5]]


def test_the_network_routes_each_answer_only_to_the_rules_that_read_it(small):
    network = small.engine_class.network
    readers = {network.rules[i].id for i in network.routes[("obs", "weakness")]}
    assert readers and all("weakness" in {o for o in _observations(small, rule)} for rule in readers)
    engine = small.new_engine()
    assert "weakness" in engine.matcher.print_network()


def _observations(chosen, rule_id):
    from expert.conditions import observations_in
    rule = chosen.kb.rules[rule_id]
    return set(observations_in(rule.when)) | {o for ref in rule.when.nodes() if getattr(ref, "kind", "") == "finding"
                                               for o in observations_in(chosen.kb.findings[ref.target].rule.when)}


def test_working_memory_refuses_a_duplicate_fact_and_takes_a_reused_one_in_the_next_case():
    """The engine's fact list works out each fact's identity once and declares the same fact object
    again in later cases; a duplicate, the same object or an equal one made apart, is still refused."""
    from expert.engine import Obs, WorkingMemory
    first, memory = Obs(id="weakness", value=True), WorkingMemory()
    assert memory.declare(first) is first and first.__factid__ == 0
    assert memory.declare(first) is None
    assert memory.declare(Obs(id="weakness", value=True)) is None
    other = Obs(id="weakness", value=False)
    assert memory.declare(other) is other and other.__factid__ == 1
    assert list(memory) == [0, 1] and memory.changes == ([first, other], [])
    next_case = WorkingMemory()
    assert next_case.declare(other) is other and other.__factid__ == 0
