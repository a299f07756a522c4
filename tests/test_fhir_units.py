"""FHIR QuestionnaireResponse -> case: units of valueQuantity, fields of the wrong JSON type, and
responses that are not answers to this service's Questionnaire (each a case error, never a crash)."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

import expert
from expert import fhir

KB = expert.default_expert().kb
SPASM = str(Path(sys.executable).parent / "spasm")


def response(*items: dict, **fields) -> dict:
    """A completed response: a cramp, plus ``items``."""
    return {"resourceType": "QuestionnaireResponse", "status": "completed", **fields,
            "item": [{"linkId": "movement", "answer": [{"valueCoding": {"code": "cramp"}}]}, *items]}


def duration(quantity: dict) -> dict:
    return {"linkId": "episode_minutes", "answer": [{"valueQuantity": quantity}]}


def minutes(quantity: dict):
    return fhir.case_from_fhir(response(duration(quantity)), KB)["answers"]["episode_minutes"]


# --------------------------------------------------------------------------------- B1: units

@pytest.mark.parametrize("quantity, expected", [
    ({"value": 1, "code": "h", "system": fhir.UCUM}, 60),
    ({"value": 30, "code": "s", "system": fhir.UCUM}, 0.5),
    ({"value": 0.1, "code": "h"}, 6),
    ({"value": 1, "code": "d"}, 1440),
    ({"value": 2, "code": "wk"}, 20160),
    ({"value": 90, "code": "min"}, 90),
    ({"value": 1, "unit": "hours"}, 60),  # the unit word the Questionnaire displays
    ({"value": 12, "unit": "minutes"}, 12),
    ({"value": 12}, 12),  # no unit: the question's own (minutes)
])
def test_quantity_is_put_in_the_questions_unit(quantity, expected):
    assert minutes(quantity) == expected


def test_an_hour_long_cramp_raises_the_flag_and_thirty_seconds_does_not():
    hour = expert.assess(response(duration({"value": 1, "code": "h", "system": fhir.UCUM})))
    assert "will_not_stop" in [f.id for f in hour.red_flags]
    assert hour.triage.level in ("urgent", "emergency")
    seconds = expert.assess(response(duration({"value": 30, "code": "s", "system": fhir.UCUM})))
    assert "will_not_stop" not in [f.id for f in seconds.red_flags]


def test_the_questionnaire_declares_the_unit_that_is_assumed():
    item = next(i for i in fhir.questionnaire(KB)["item"] if i["linkId"] == "episode_minutes")
    unit = next(e for e in item["extension"] if e["url"] == fhir.UNIT)["valueCoding"]
    assert unit == {"system": fhir.UCUM, "code": "min", "display": "minutes"}


def test_age_in_months_is_converted_to_years():
    months = {"linkId": "age", "answer": [{"valueQuantity": {"value": 6, "code": "mo"}}]}
    case = fhir.case_from_fhir(response(months), KB)
    assert case["age"] == 0.5


@pytest.mark.parametrize("quantity, field, words", [
    ({"value": 1, "code": "kg", "system": fhir.UCUM}, "item[1].answer[0].valueQuantity", "'kg' is not allowed"),
    ({"value": 1, "unit": "kg"}, "item[1].answer[0].valueQuantity", "'kg' is not allowed"),
    ({"value": 1, "code": "h", "system": "http://snomed.info/sct"}, "item[1].answer[0].valueQuantity.system",
     "not UCUM"),
    ({"value": 1, "code": ["h"]}, "item[1].answer[0].valueQuantity.code", "must be text"),
])
def test_other_units_are_refused_naming_the_item_and_the_allowed_units(quantity, field, words):
    with pytest.raises(expert.CaseError) as raised:
        expert.assess(response(duration(quantity)))
    problem = raised.value.problems[0]
    assert problem.field == field
    assert words in problem.message and "episode_minutes" in problem.message
    assert "s, min, h, d, wk, mo, a" in problem.hint and "minutes" in problem.hint


def test_a_bound_is_not_an_answer():
    with pytest.raises(expert.CaseError, match="comparator") as raised:
        expert.assess(response(duration({"value": 1, "code": "h", "comparator": ">"})))
    assert raised.value.problems[0].field == "item[1].answer[0].valueQuantity.comparator"


def test_a_refused_unit_exits_2_on_the_command_line(tmp_path):
    path = tmp_path / "qr.json"
    path.write_text(json.dumps(response(duration({"value": 1, "code": "kg"}))))
    run = subprocess.run([SPASM, "assess", str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "episode_minutes" in run.stderr and "kg" in run.stderr and "internal error" not in run.stderr


def test_an_answer_with_two_values_is_refused():
    with pytest.raises(expert.CaseError, match="one value"):
        expert.assess(response({"linkId": "swelling", "answer": [{"valueBoolean": True, "valueDecimal": 1}]}))


# ------------------------------------------------------------------- C2: wrong JSON types

def bundle(patient: dict, qr: dict | None = None) -> dict:
    return {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", **patient}},
                                                {"resource": qr or response(authored="2026-01-01")}]}


@pytest.mark.parametrize("gender", [["male"], {"a": 1}, 5, True])
def test_patient_gender_of_the_wrong_type_is_a_case_error(gender):
    with pytest.raises(expert.CaseError) as raised:
        expert.assess(bundle({"gender": gender}))
    problem = raised.value.problems[0]
    assert problem.field == "Patient.gender" and "NoneType" not in problem.message
    assert "male, female, other or unknown" in problem.hint


def test_patient_gender_list_exits_2_on_the_command_line(tmp_path):
    path = tmp_path / "pg.json"
    path.write_text(json.dumps(bundle({"gender": ["male"]})))
    run = subprocess.run([SPASM, "assess", str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Patient.gender" in run.stderr and "internal error" not in run.stderr


BAD_VALUES = [None, True, 1, 1.5, "x", [], [1], {}, {"a": 1}, 10 ** 400]


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, path + (index,))


def test_every_field_of_the_wrong_type_is_a_case_error_or_accepted():
    """Each field of a Patient and a QuestionnaireResponse replaced by each JSON type: never a crash."""
    base = bundle({"id": "p", "gender": "male", "birthDate": "1970-01-02"}, response(
        duration({"value": 1, "code": "h", "system": fhir.UCUM, "unit": "hours"}),
        {"linkId": "sites", "answer": [{"valueCoding": {"code": "calf"}}]},
        questionnaire=fhir.QUESTIONNAIRE_URL, authored="2026-01-01"))
    for path in list(_paths(base))[1:]:
        for bad in BAD_VALUES:
            data = copy.deepcopy(base)
            node = data
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = bad
            try:
                expert.assess(data)
            except expert.CaseError:
                pass


# ---------------------------------------------------- D16: status and questionnaire checked

@pytest.mark.parametrize("status", [["entered-in-error"], {"a": 1}, 1, "draft"])
def test_a_status_that_is_not_a_status_is_refused(status):
    with pytest.raises(expert.CaseError) as raised:
        expert.assess(response(status=status))
    assert raised.value.problems[0].field == "status"


@pytest.mark.parametrize("canonical", ["urn:other", "http://example.org/Questionnaire/phq-9", 5, ["x"], "#missing"])
def test_a_response_to_another_questionnaire_is_refused(canonical):
    with pytest.raises(expert.CaseError) as raised:
        expert.assess(response(questionnaire=canonical))
    assert raised.value.problems[0].field == "questionnaire"


def test_a_contained_questionnaire_from_elsewhere_is_refused():
    other = {"resourceType": "Questionnaire", "id": "q", "status": "active", "derivedFrom": ["urn:other"]}
    with pytest.raises(expert.CaseError, match="not derived from"):
        expert.assess(response(questionnaire="#q", contained=[other]))


@pytest.mark.parametrize("canonical", [fhir.QUESTIONNAIRE_URL, fhir.QUESTIONNAIRE_URL + "|1.0.0", "#adaptive",
                                       "Questionnaire/spasm-expert",
                                       "https://cds.example.org/fhir/Questionnaire/spasm-expert"])
def test_this_questionnaire_is_accepted_in_every_form(canonical):
    adaptive = {"resourceType": "Questionnaire", "id": "adaptive", "status": "active",
                "derivedFrom": [fhir.QUESTIONNAIRE_URL]}
    expert.assess(response(questionnaire=canonical, contained=[adaptive]))
