"""Safety properties over generated valid cases (hypothesis).

- monotone triage: one more answer never lowers the triage nor removes a red flag, unless it
  answers a question a possible red flag was pending on; a confirmed red flag is never removed;
- missing answers never silence a red flag: every red flag raised when the unanswered exclusions
  are answered "no" is raised already, at least as possible;
- determinism: the same case gives the same JSON, whatever engine or order it is assessed in;
- traceability: every conclusion cites a rule and a source, and every fact it names is in the
  case (or, for findings, derived from it);
- the interview never leaves out a question whose answer could change the triage level.
"""
import functools
import json

from hypothesis import HealthCheck, given, settings

import expert
from expert.case import output_value
from tests.strategies import add_answer, all_values, cases, with_extra_answer

EXPERT = expert.default_expert()
KB = EXPERT.kb
SECOND_ENGINE = EXPERT.new_engine()  # its own working memory and agenda, apart from the thread's
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _exclusions() -> tuple[set[str], set[str]]:
    """Observations tested under a ``not`` in findings and red flags, and those tested positively there."""
    from expert.conditions import Is, leaves
    excluded, required = set(), set()
    for rule in KB.rules.values():
        if rule.kind in ("finding", "red_flag"):
            for leaf, polarity in leaves(rule.when):
                if isinstance(leaf, Is):
                    (excluded if polarity.negated else required).add(leaf.observation)
    return excluded, required


EXCLUDED, REQUIRED = _exclusions()


@PROPERTY
@given(with_extra_answer(KB))
def test_one_more_answer_never_lowers_triage_unless_it_settles_a_possible_red_flag(drawn):
    case, obs, value = drawn
    if obs is None:
        return
    before = EXPERT.assess(case)
    after = EXPERT.assess(add_answer(case, obs, value))
    raised = {f.id: f for f in after.red_flags}
    for flag in before.red_flags:
        if flag.status == "confirmed":
            assert flag.id in raised and raised[flag.id].status == "confirmed"
        elif obs.id not in flag.pending:
            assert flag.id in raised, "only answering what a possible flag waits on can withdraw it"
    settled = any(obs.id in f.pending for f in before.red_flags if f.level == before.triage.level)
    if not settled:
        assert KB.urgency(after.triage.level) >= KB.urgency(before.triage.level)


@PROPERTY
@given(cases(KB))
def test_every_red_flag_of_the_case_with_its_exclusions_denied_is_raised_already(case):
    base = EXPERT.assess(case)
    denied = [o for o in KB.observations.values() if o.id in EXCLUDED - REQUIRED and o.type == "bool"
              and o.id not in base.case.answers and o.id not in base.case.skipped]
    worst = EXPERT.assess(functools.reduce(lambda c, o: add_answer(c, o, False), denied, case))
    raised = {f.id for f in base.red_flags}
    assert {f.id for f in worst.red_flags} <= raised
    assert KB.urgency(base.triage.level) >= KB.urgency(worst.triage.level)
    for flag in base.red_flags:
        assert (flag.status == "possible") == bool(flag.pending), flag


@PROPERTY
@given(cases(KB))
def test_same_case_same_json_with_any_engine(case):
    first = EXPERT.assess(case).to_json(explain=True)
    assert EXPERT.assess(case).to_json(explain=True) == first
    assert EXPERT.assess(case, engine=SECOND_ENGINE).to_json(explain=True) == first
    reordered = {**case, "answers": dict(reversed(list(case["answers"].items())))}
    assert EXPERT.assess(reordered).to_json(explain=True) == first


@PROPERTY
@given(cases(KB))
def test_every_conclusion_cites_a_rule_and_a_source_and_only_facts_of_the_case(case):
    result = EXPERT.assess(case)
    data = result.to_dict()
    given_answers = result.case.answers
    fired = {f.rule for f in result.run.firings}
    supports = [f.support for f in result.red_flags] + [a.support for a in result.advice + result.tests] + \
        [s for c in result.causes for s in c.supporting + c.opposing]
    for support in supports:
        assert support.rule in KB.rules and support.rule in fired
        assert support.sources and set(support.sources) <= set(KB.sources)
        for obs_id, value in support.facts:
            assert obs_id in given_answers and output_value(KB.observations[obs_id], given_answers[obs_id]) == value
        for finding in support.findings:
            assert f"finding.{finding}" in fired
    assert set(data["triage"]["because"]) <= fired
    for rule_id in data["triage"]["because"]:
        assert KB.rules[rule_id].kind == "red_flag" and KB.red_flags[KB.rules[rule_id].target].level == \
            data["triage"]["level"]
    for cause in data["causes"]:
        assert cause["for"], "a cause is listed only with supporting evidence"
    json.dumps(data)  # plain data all the way down


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(KB, max_answers=6))
def test_no_question_that_could_change_the_triage_is_left_out(case):
    """Exhaustive check: try every value of every open question of a small case."""
    engine = EXPERT.new_engine()
    base = EXPERT.assess(case, engine=engine)
    unanswered = set(base.unanswered)
    decider = EXPERT.logic.decider(base.case.answers)
    known = set(case["answers"]) | {k for k in case if k != "answers"}
    for obs in KB.observations.values():
        if obs.id in known or not decider.applicable(obs):
            continue
        for value in all_values(obs):
            if EXPERT.assess(add_answer(case, obs, value), engine=engine).triage.level != base.triage.level:
                assert obs.id in unanswered, (obs.id, value, case)
                break


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(KB))
def test_a_consultation_replaying_a_case_gives_the_same_assessment(case):
    consultation = expert.Consultation(age=case.get("age"), sex=case.get("sex"))
    for obs_id, value in case["answers"].items():
        consultation.answer(obs_id, value)
    assert consultation.assessment().to_json() == EXPERT.assess(case).to_json()
    while consultation.undo():
        pass
    assert consultation.assessment().to_json() == EXPERT.assess(
        {k: v for k, v in case.items() if k != "answers"} | {"answers": {}}).to_json()
