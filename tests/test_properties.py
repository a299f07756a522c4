"""Safety properties over generated valid cases (hypothesis).

- monotone triage: one more answer never lowers the triage, and never removes a red flag;
- determinism: the same case gives the same JSON, whatever engine or order it is assessed in;
- traceability: every conclusion cites a rule and a source, and every fact it names is in the
  case (or, for findings, derived from it);
- the interview never leaves out a question whose answer could change the triage level.
"""
import json

from hypothesis import HealthCheck, given, settings

import expert
from expert.case import output_value
from tests.strategies import add_answer, all_values, cases, with_extra_answer

EXPERT = expert.default_expert()
KB = EXPERT.kb
SECOND_ENGINE = EXPERT.new_engine()  # its own working memory and agenda, apart from the thread's
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(with_extra_answer(KB))
def test_one_more_answer_never_lowers_triage_nor_removes_a_red_flag(drawn):
    case, obs, value = drawn
    if obs is None:
        return
    before = EXPERT.assess(case)
    after = EXPERT.assess(add_answer(case, obs, value))
    assert KB.urgency(after.triage.level) >= KB.urgency(before.triage.level)
    assert {f.id for f in before.red_flags} <= {f.id for f in after.red_flags}


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
