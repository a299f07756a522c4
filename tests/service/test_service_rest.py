"""REST under /v1 against a real server: byte-identical assessments, the interview loop, errors."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

import expert
from expert.schema import assessment_schema

from serving import SPASM

EXAMPLES = sorted(p for p in (Path(__file__).parents[2] / "examples").iterdir() if p.suffix in (".json", ".yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_assessment_is_byte_identical_to_the_cli(http, example):
    case = expert.default_expert().case(str(example)).to_dict(expert.default_expert().kb)
    for explain in (False, True):
        cli = subprocess.run([SPASM, "assess", str(example), "--format", "json", *(["--explain"] if explain else [])],
                             capture_output=True, check=True).stdout
        response = http.post("/v1/assessments", params={"explain": str(explain).lower()}, json=case)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.content == cli


def test_assessment_matches_its_schema_and_the_api(http):
    case = {"age": 67, "answers": {"movement": "cramp", "sites": ["calf"], "medications": ["diuretic"]}}
    data = http.post("/v1/assessments", json=case).json()
    jsonschema.validate(data, assessment_schema(expert.default_expert().kb))
    assert data == expert.assess(case).to_dict()
    assert data["disclaimer"] == expert.default_expert().kb.disclaimer


def test_invalid_case_is_422_with_the_clis_problems(http):
    response = http.post("/v1/assessments", json={"age": "old", "answers": {"movement": "crump", "nope": True}})
    assert response.status_code == 422
    problems = response.json()["error"]["problems"]
    fields = {p["field"] for p in problems}
    assert fields == {"age", "answers.movement", "answers.nope"}
    movement = next(p for p in problems if p["field"] == "answers.movement")
    assert "crump" in movement["message"] and "cramp" in movement["hint"]
    with pytest.raises(expert.CaseError) as raised:
        expert.assess({"age": "old", "answers": {"movement": "crump", "nope": True}})
    assert [p["message"] for p in problems] == [p.message for p in raised.value.problems]


@pytest.mark.parametrize("body, status, words", [
    (b"not json", 400, "not valid JSON"),
    (b"", 400, "empty"),
    (b"\xff\xfe\x00", 400, "UTF-8"),
    (b"[1, 2]", 422, "object"),
    (b"42", 422, "object"),
    (b'{"age": NaN}', 400, "not valid JSON"),
    (b'{"age": 1, "age": 2}', 400, "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "not valid JSON"),
    (json.dumps({"answers": {"sites": {"a": [1, {"b": None}]}}}).encode(), 422, "not valid"),
    (json.dumps({"answers": [1, 2]}).encode(), 422, "not valid"),
    (json.dumps({"age": True, "sex": 3}).encode(), 422, "not valid"),
])
def test_junk_bodies_get_a_clear_4xx_never_a_500(http, body, status, words):
    for path in ("/v1/assessments", "/v1/interview/next"):
        response = http.post(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert words in error["message"] or any(words in p.get("message", "") for p in error["problems"])
        assert "Traceback" not in response.text


def test_bodies_over_the_limit_are_413_declared_or_streamed(http):
    big = b'{"answers": {}, "age": 1' + b" " * 1_000_001 + b"}"
    assert http.post("/v1/assessments", content=big, headers={"Content-Type": "application/json"}).status_code == 413

    def chunks():  # no Content-Length: the server must count
        yield b'{"answers": {'
        for _ in range(1100):
            yield b" " * 1000
        yield b"}}"
    response = http.post("/v1/assessments", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "1,000,000 bytes" in response.json()["error"]["message"]


def test_other_statuses(http):
    assert http.post("/v1/assessments", content=b"age=3",
                     headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
    missing = http.get("/v1/nothing-here")
    assert missing.status_code == 404 and "no such endpoint" in missing.json()["error"]["message"]
    assert http.delete("/v1/knowledge").status_code == 405
    assert http.get("/v1/assessments").status_code == 405
    assert http.get("/v1/schema/nothing").status_code == 404
    assert http.post("/v1/assessments", params={"explain": "perhaps"}, json={}).status_code == 422


def test_interview_loop_reaches_the_same_assessment_as_assess(http):
    case: dict = {"age": 52, "sex": "female", "answers": {}}
    asked = []
    while True:
        response = http.post("/v1/interview/next", json=case)
        assert response.status_code == 200
        step = response.json()
        if step["done"]:
            break
        question = step["question"]
        assert {"id", "text", "help", "type", "choices", "unit", "reason"} <= set(question)
        assert question["reason"] and question["id"] not in asked
        asked.append(question["id"])
        if question["type"] == "checklist":  # several yes/no questions at once: the first present, the rest not
            assert question["observations"] == [c["id"] for c in question["choices"]]
            for n, observation in enumerate(question["observations"]):
                case["answers"][observation] = n == 0
            continue
        choice = {"bool": False, "number": 3}.get(question["type"])
        if question["type"] == "enum":
            choice = question["choices"][0]["id"]
        elif question["type"] == "set":
            choice = [question["choices"][-1]["id"]]
        case["answers"][question["id"]] = choice
        assert len(asked) < 80
    assert len(asked) > 3
    direct = expert.assess(case).to_dict()
    served = step["assessment"]
    assert served["triage"] == direct["triage"] and served["red_flags"] == direct["red_flags"]
    assert [(c["id"], c["score"]) for c in served["causes"]] == [(c["id"], c["score"]) for c in direct["causes"]]


def test_interview_accepts_unknown_and_refuses_bad_values(http):
    first = http.post("/v1/interview/next", json={"answers": {}}).json()["question"]["id"]
    after = http.post("/v1/interview/next", json={"answers": {first: "unknown"}}).json()
    assert after["done"] or after["question"]["id"] != first
    bad = http.post("/v1/interview/next", json={"answers": {"movement": "wobble"}})
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["field"] == "answers.movement"


def test_knowledge_and_schemas(http):
    kb = expert.default_expert().kb
    info = http.get("/v1/knowledge").json()
    assert info["knowledge_version"] == kb.knowledge_version and info["name"] == kb.name
    assert info["counts"]["observations"] == len(kb.observations) and info["counts"]["rules"] == len(kb.rules)
    assert {s["id"] for s in info["sources"]} == set(kb.sources)
    case_schema = http.get("/v1/schema/case").json()
    jsonschema.validate({"age": 40, "answers": {"movement": "cramp"}}, case_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"answers": {"movement": "crump"}}, case_schema)
    assert http.get("/v1/schema/assessment").json() == assessment_schema(expert.default_expert().kb)


def test_openapi_docs_list_every_endpoint(http):
    paths = http.get("/openapi.json").json()["paths"]
    for path in ("/v1/assessments", "/v1/interview/next", "/v1/knowledge", "/v1/schema/{which}", "/healthz",
                 "/cds-services", "/cds-services/spasm-expert", "/cds-services/spasm-expert/feedback",
                 "/fhir/Questionnaire/spasm-expert", "/fhir/Questionnaire/$next-question"):
        assert path in paths
    assert http.get("/docs").status_code == 200


def test_a_questionnaire_response_is_a_case_over_rest_too(http):
    response = {"resourceType": "QuestionnaireResponse", "status": "completed",
                "item": [{"linkId": "movement", "answer": [{"valueCoding": {"code": "convulsion"}}]}]}
    served = http.post("/v1/assessments", json=response).json()
    assert served == expert.assess({"answers": {"movement": "convulsion"}}).to_dict()
    assert served["triage"]["level"] == "emergency"
