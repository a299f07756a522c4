"""Assessments: the contract's JSON, ordering, determinism, and never hiding a red flag."""
import json
import subprocess
import sys

import jsonschema

import expert
from expert.schema import assessment_schema, case_schema

CASE = {"age": 67, "sex": "female", "answers": {"movement": "twitch", "sites": ["hand"], "weakness": True, "wasting": True,
                                                 "heat": True, "thirst": True, "exercise": True}}


def test_to_dict_has_the_contract_fields(small):
    data = small.assess(CASE).to_dict()
    assert list(data)[:7] == ["triage", "red_flags", "causes", "advice", "tests", "unanswered", "knowledge_version"]
    jsonschema.validate(data, assessment_schema(expert.default_expert().kb))
    assert data["triage"]["level"] == "urgent"
    assert data["triage"]["because"] == ["red_flag.weak_and_wasting", "red_flag.heat_exhaustion"]
    flag = data["red_flags"][0]
    assert {"id", "label", "rule", "facts", "sources"} <= set(flag)
    assert flag["facts"] == [{"id": "weakness", "value": True}, {"id": "wasting", "value": True}]
    cause = next(c for c in data["causes"] if c["id"] == "nerve_disease")
    assert cause["for"][0]["rule"] == "cause.nerve_disease.twitch_weak"
    assert cause["for"][1]["facts"] == [{"id": "age", "value": 67}, {"id": "movement", "value": "twitch"}]
    assert data["knowledge_version"] == small.kb.knowledge_version


def test_facts_of_a_rule_on_a_finding_reach_down_to_the_answers(small):
    data = small.assess({"answers": {"movement": "cramp", "episode_minutes": 20, "sites": ["calf"]}}).to_dict()
    support = data["causes"][0]["for"][0]
    assert support["rule"] == "cause.overuse.long_calf"
    assert support["findings"] == ["long_cramp", "long_calf_cramp"]
    assert support["facts"] == [{"id": "movement", "value": "cramp"}, {"id": "sites", "value": ["calf"]},
                                {"id": "episode_minutes", "value": 20}]


def test_red_flags_are_listed_most_urgent_first_and_all_of_them(small):
    result = small.assess({"answers": {"movement": "convulsion", "weakness": True, "wasting": True}})
    assert [(f.id, f.level) for f in result.red_flags] == [
        ("convulsion", "emergency"), ("weak_and_wasting", "urgent"), ("weakness", "routine")]
    assert result.triage.level == "emergency" and result.triage.because == ("red_flag.convulsion",)


def test_no_rule_means_self_care(small):
    result = small.assess({})
    assert result.triage.level == "self_care" and result.triage.because == ()
    assert result.red_flags == [] and result.causes == []


def test_the_same_case_gives_byte_identical_json(small):
    first = small.assess(CASE).to_json()
    assert all(small.assess(CASE).to_json() == first for _ in range(5))
    assert small.new_engine() is not None and small.assess(CASE, engine=small.new_engine()).to_json() == first


def test_json_is_identical_across_processes():
    """Experta's network layout depends on hash order; the result must not."""
    code = ("import expert, json, sys; print(expert.assess(json.loads(sys.argv[1])).to_json(explain=True))")
    case = json.dumps({"age": 70, "answers": {"movement": "cramp", "sites": ["calf"], "pattern": "recurrent",
                                              "medications": ["diuretic"], "weakness": True, "at_night": True}})
    outputs = {subprocess.run([sys.executable, "-c", code, case], capture_output=True, text=True, check=True,
                              env={"PYTHONHASHSEED": str(seed), "PATH": ""}).stdout for seed in (0, 1, 2)}
    assert len(outputs) == 1
    assert json.loads(outputs.pop())["triage"]["level"] == "routine"


def test_case_schema_accepts_valid_cases_and_rejects_invalid_ones(small):
    schema = case_schema(small.kb)
    jsonschema.validate(CASE, schema)
    jsonschema.validate({"answers": {"movement": "unknown"}}, schema)
    for bad in ({"answers": {"movement": "x"}}, {"extra": 1}, {"answers": {"sites": "calf"}}):
        try:
            jsonschema.validate(bad, schema)
        except jsonschema.ValidationError:
            continue
        raise AssertionError(f"schema accepted {bad}")


def test_shipped_assessment_matches_the_schema_and_says_it_is_not_a_diagnosis():
    data = expert.assess({"age": 50, "answers": {"movement": "cramp", "sites": ["calf"]}}).to_dict(explain=True)
    jsonschema.validate(data, assessment_schema(expert.default_expert().kb))
    assert "not a diagnosis" in data["disclaimer"]
    assert "triage" in data["explanations"]


def test_every_conclusion_cites_a_rule_and_a_source(small):
    data = small.assess(CASE).to_dict()
    items = data["red_flags"] + data["advice"] + data["tests"] + [s for c in data["causes"] for s in c["for"] + c["against"]]
    assert items
    for item in items:
        assert item["rule"] in small.kb.rules and item["sources"]
        assert set(item["sources"]) <= set(small.kb.sources)


def test_unknown_answers_give_the_same_result_as_answers_left_out():
    """'unknown' means the same as leaving the answer out: a danger question answered that way
    still counts towards could_rise_to, so a skipped screening never reads as reassurance."""
    kb = expert.default_expert().kb
    base = {"age": 45, "answers": {"movement": "spasm", "sites": ["chest_wall"]}}
    omitted = expert.assess(base)
    assert omitted.triage.could_rise_to == "emergency" and omitted.triage.questions
    every_unknown = {"age": 45, "answers": {**base["answers"],
                                             **{o: "unknown" for o in kb.observations if o not in base["answers"]
                                                and o not in kb.top_level()}}}
    skipped = expert.assess(every_unknown)
    assert skipped.case.skipped and skipped.to_json() == omitted.to_json()
    danger = {"age": 45, "answers": {**base["answers"], **{q: "unknown" for q in omitted.triage.questions
                                                            if q not in kb.top_level()}}}
    assert expert.assess(danger).triage.could_rise_to == "emergency"
