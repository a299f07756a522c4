"""FHIR R4: the Questionnaire, QuestionnaireResponse as a case, and the SDC adaptive $next-question.

Resources are validated with fhir.resources (R4B models: R4's for these resources).
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fhir.resources.R4B.parameters import Parameters
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.riskassessment import RiskAssessment
from serving import SPASM

import expert
from expert import fhir

KB = expert.default_expert().kb
NEXT = "/fhir/Questionnaire/$next-question"


def item(link, *answers):
    return {"linkId": link, **({"answer": list(answers)} if answers else {})}


def coding(code):
    return {"valueCoding": {"code": code}}


def test_questionnaire_is_valid_r4_and_covers_the_vocabulary():
    questionnaire = fhir.questionnaire(KB)
    Questionnaire.model_validate(questionnaire)
    items = {i["linkId"]: i for i in questionnaire["item"]}
    assert list(items) == list(KB.observations)
    for obs in KB.observations.values():
        entry = items[obs.id]
        assert entry["type"] == {"bool": "boolean", "enum": "choice", "set": "choice", "number": "decimal"}[obs.type]
        assert entry["text"] == obs.question
        if obs.type in ("enum", "set"):
            assert entry["repeats"] is (obs.type == "set")
            codes = [o["valueCoding"]["code"] for o in entry["answerOption"]]
            assert codes[:len(obs.values)] == list(obs.values)
        if obs.help:
            help_item = entry["item"][0]
            assert help_item["type"] == "display" and help_item["text"] == obs.help
            assert help_item["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "help"
    minutes = items["episode_minutes"]["extension"][0]["valueCoding"]
    assert minutes == {"system": "http://unitsofmeasure.org", "code": "min", "display": "minutes"}


def test_enable_when_says_what_ask_when_says():
    items = {i["linkId"]: i for i in fhir.questionnaire(KB)["item"]}
    assert items["pregnant"]["enableWhen"] == [
        {"question": "sex", "operator": "!=", "answerCoding": {"system": "urn:spasm-expert:observation:sex",
                                                               "code": "male"}},
        {"question": "age", "operator": ">=", "answerDecimal": 10},
        {"question": "age", "operator": "<=", "answerDecimal": 55}]
    assert items["pregnant"]["enableBehavior"] == "all"
    chest = items["chest_pain"]
    assert chest["enableBehavior"] == "any" and {w["answerCoding"]["code"] for w in chest["enableWhen"]} == \
        {"chest_wall", "arm", "jaw", "neck", "back", "whole_body"}
    assert "enableWhen" not in items["confused_or_collapsed"]  # asked of everyone
    for obs in KB.observations.values():
        if obs.ask_when is None:
            assert "enableWhen" not in items[obs.id]


def test_ask_when_fhir_cannot_say_is_left_out():
    from expert.conditions import AllOf, AnyOf, Is
    mixed = AllOf((AnyOf((Is("movement", "equals", "jerk"), Is("movement", "equals", "tic"))),
                   Is("sites", "includes_any", ("calf", "foot"))))
    assert fhir.enable_when_of(mixed, KB) is None
    assert fhir.enable_when_of(Is("sites", "includes_none", ("calf",)), KB) is None
    assert fhir.enable_when_of(Is("episode_minutes", "at_least", 10), KB) == (
        [{"question": "episode_minutes", "operator": ">=", "answerDecimal": 10}], "all")


def test_cli_prints_the_questionnaire():
    printed = subprocess.run([SPASM, "schema", "questionnaire"], capture_output=True, text=True, check=True).stdout
    assert json.loads(printed) == fhir.questionnaire(KB)


def full_response(authored="2026-02-01T08:00:00Z") -> dict:
    return {"resourceType": "QuestionnaireResponse", "questionnaire": fhir.QUESTIONNAIRE_URL, "status": "completed",
            "authored": authored, "subject": {"reference": "Patient/p9"},
            "item": [item("movement", coding("cramp")), item("sites", coding("calf"), coding("foot")),
                     item("episode_minutes", {"valueDecimal": 12.5}), item("hot_environment", {"valueBoolean": True}),
                     item("medications", coding(fhir.NONE_OF_THESE)), item("weakness")]}


def test_a_questionnaire_response_is_a_case_everywhere(tmp_path):
    response = full_response()
    QuestionnaireResponse.model_validate(response)
    case = {"answers": {"movement": "cramp", "sites": ["calf", "foot"], "episode_minutes": 12.5,
                        "hot_environment": True, "medications": [], "weakness": "unknown"}}
    assert fhir.case_from_fhir(response, KB) == case
    assert expert.assess(response).to_json() == expert.assess(case).to_json()
    path = tmp_path / "qr.json"
    path.write_text(json.dumps(response))
    printed = subprocess.run([SPASM, "assess", str(path), "--format", "json"], capture_output=True, check=True).stdout
    assert printed.decode() == expert.assess(case).to_json() + "\n"


def test_patient_gives_age_and_sex_deterministically():
    patient = {"resourceType": "Patient", "gender": "female", "birthDate": "1960-02-02"}
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": full_response("2026-02-01")}, {"resource": patient}]}
    assert fhir.case_from_fhir(bundle, KB)["age"] == 65  # the day before the birthday
    bundle["entry"][0]["resource"]["authored"] = "2026-02-02T00:00:00+10:00"
    assert fhir.case_from_fhir(bundle, KB)["age"] == 66
    assert fhir.case_from_fhir(bundle, KB)["sex"] == "female"
    parameters = {"resourceType": "Parameters", "parameter": [
        {"name": "questionnaire-response", "resource": full_response("2026-02-01")},
        {"name": "patient", "resource": patient}]}
    Parameters.model_validate(parameters)
    assert fhir.case_from_fhir(parameters, KB)["age"] == 65


@pytest.mark.parametrize("change, field, words", [
    (lambda r: r["item"].append(item("nonsense", {"valueBoolean": True})), "item[6].linkId", "unknown linkId"),
    (lambda r: r["item"].append(item("movement", coding("tic"))), "item[6].linkId", "twice"),
    (lambda r: r["item"][0]["answer"].append(coding("tic")), "item[0].answer", "one answer"),
    (lambda r: r["item"].__setitem__(3, item("hot_environment", {"valueString": "yes"})), "item[3].answer[0]",
     "valueBoolean"),
    (lambda r: r["item"].__setitem__(0, item("movement", {"valueCoding": {"system": "http://x", "code": "cramp"}})),
     "item[0].answer[0].valueCoding.system", "code system"),
    (lambda r: r["item"].__setitem__(0, item("movement", coding("wobble"))), "answers.movement", "not a value"),
    (lambda r: r.__setitem__("item", "lots"), "item", "list"),
    (lambda r: r.__setitem__("status", "entered-in-error"), "status", "in error"),
])
def test_bad_questionnaire_responses_name_the_item(change, field, words):
    response = full_response()
    change(response)
    with pytest.raises(expert.CaseError) as raised:
        expert.assess(response)
    problem = raised.value.problems[0]
    assert problem.field == field and words in problem.message


def test_patient_problems_are_named():
    def case(patient, authored="2026-01-01"):
        return {"resourceType": "Bundle", "entry": [{"resource": full_response(authored)}, {"resource": patient}]}
    for patient, authored, field in (({"resourceType": "Patient", "birthDate": "soon"}, "2026-01-01", "Patient.birthDate"),
                                     ({"resourceType": "Patient", "gender": "x"}, "2026-01-01", "Patient.gender"),
                                     ({"resourceType": "Patient", "birthDate": "1990"}, None,
                                      "QuestionnaireResponse.authored")):
        bundle = case(patient, authored)
        if authored is None:
            del bundle["entry"][0]["resource"]["authored"]
        with pytest.raises(expert.CaseError) as raised:
            fhir.case_from_fhir(bundle, KB)
        assert raised.value.problems[0].field == field
    with pytest.raises(expert.CaseError, match="exactly one QuestionnaireResponse"):
        fhir.case_from_fhir({"resourceType": "Bundle", "entry": []}, KB)
    with pytest.raises(expert.CaseError, match="not a case"):
        expert.assess({"resourceType": "Observation"})


# ------------------------------------------------------------------------------ over HTTP

def test_questionnaire_over_http(http):
    response = http.get("/fhir/Questionnaire/spasm-expert")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/fhir+json")
    assert response.json() == fhir.questionnaire(KB)


def answer_for(question: dict) -> list:
    """A deterministic answer to an asked item: yes, the last choice, or a middling number."""
    if question["type"] == "boolean":
        return [{"valueBoolean": True}]
    if question["type"] == "decimal":
        return [{"valueDecimal": 7}]
    options = [o for o in question["answerOption"] if o["valueCoding"]["code"] != fhir.NONE_OF_THESE]
    return [{"valueCoding": options[-1]["valueCoding"]}]


@pytest.mark.parametrize("wrap", [False, True], ids=["resource", "parameters"])
def test_adaptive_interview_to_completion_equals_assess(http, wrap):
    response = {"resourceType": "QuestionnaireResponse", "status": "in-progress", "authored": "2026-01-05",
                "subject": {"reference": "Patient/p1"}}
    skipped = False
    for step in range(100):
        body = {"resourceType": "Parameters", "parameter": [{"name": "questionnaire-response", "resource": response}]} \
            if wrap else response
        reply = http.post(NEXT, json=body)
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"].startswith("application/fhir+json")
        response = reply.json()
        QuestionnaireResponse.model_validate(response)
        questionnaire = next(r for r in response["contained"] if r["resourceType"] == "Questionnaire")
        assert response["questionnaire"] == "#" + questionnaire["id"]
        assert questionnaire["derivedFrom"] == [fhir.QUESTIONNAIRE_URL]
        Questionnaire.model_validate(questionnaire)
        if response["status"] == "completed":
            break
        answered = {i["linkId"] for i in response.get("item", [])}
        new = [i for i in questionnaire["item"] if i["linkId"] not in answered]  # a checklist adds several
        assert new and all(i["item"][-1]["text"].startswith("Why this is asked: ") for i in new)
        for asked in new:
            skip = not skipped  # left unanswered once: unknown, and not asked again
            skipped = skipped or skip
            response.setdefault("item", []).append(item(asked["linkId"], *([] if skip else answer_for(asked))))
    else:
        pytest.fail("the interview did not finish")
    assert step > 3 and skipped
    risk = next(r for r in response["contained"] if r["resourceType"] == "RiskAssessment")
    RiskAssessment.model_validate(risk)
    direct = expert.assess(fhir.case_from_response(response, KB))
    triage = next(e for e in risk["extension"] if e["url"].endswith("triage"))["valueCoding"]["code"]
    flags = [e["valueCoding"]["code"] for e in risk["extension"] if e["url"].endswith("red-flag")]
    causes = [(p["outcome"]["coding"][0]["code"], p["extension"][0]["valueDecimal"]) for p in risk["prediction"]]
    assert triage == direct.triage.level
    assert flags == [f.id for f in direct.red_flags]
    assert causes == [(c.id, c.score) for c in direct.causes]
    for prediction in risk["prediction"]:
        assert "probabilityDecimal" not in prediction and "not a probability" in prediction["qualitativeRisk"]["text"]
    assert KB.disclaimer in [n["text"] for n in risk["note"]]


def test_next_question_refuses_bad_input_with_an_operation_outcome(http):
    for body, status in (({"resourceType": "Patient"}, 422),
                         ({"resourceType": "QuestionnaireResponse"}, 422),  # status is required in FHIR
                         ({"resourceType": "QuestionnaireResponse", "status": "in-progress",
                           "item": [item("movement", coding("wobble"))]}, 422),
                         ([], 422)):
        reply = http.post(NEXT, json=body)
        assert reply.status_code == status
        outcome = reply.json()
        assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["severity"] == "error"
    reply = http.post(NEXT, content=b"{", headers={"Content-Type": "application/fhir+json"})
    assert reply.status_code == 400 and reply.json()["resourceType"] == "OperationOutcome"


def test_skipped_gating_question_is_not_asked_again():
    consultation = expert.Consultation(answers={"movement": "twisting", "hot_environment": True, "sites": "unknown"})
    assert "sites" in consultation.assessment().unanswered  # "unknown" still leaves it open...
    assert "sites" not in {question for question, _ in consultation.plan()}  # ...but it is not asked again


DOCS = Path(__file__).resolve().parents[2] / "docs" / "http"


def test_the_readme_examples_work(http, server):
    response = json.loads((DOCS / "questionnaire-response.json").read_text())
    QuestionnaireResponse.model_validate(response)
    assert http.post("/v1/assessments", json=response).json() == expert.assess(response).to_dict()
    started = http.post(NEXT, content=(DOCS / "next-question.json").read_bytes(),
                        headers={"Content-Type": "application/fhir+json"})
    assert started.status_code == 200 and started.json()["status"] == "in-progress"
    hook = (DOCS / "patient-view.json").read_bytes()
    card = server.client().post("/cds-services/spasm-expert", content=hook, headers={
        **server.bearer(server.jwt("/cds-services/spasm-expert")), "Content-Type": "application/json"})
    assert card.status_code == 200 and card.json()["cards"][0]["indicator"] in ("info", "warning", "critical")
    from expert.service.auth import load_keys
    assert list(load_keys(str(DOCS / "ehr-keys.json"))) == ["https://ehr.example.org"]
