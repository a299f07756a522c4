"""The audit trail (SQLite), spasm audit, SIGKILL durability, and health data kept out of the logs."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import signal
import sqlite3
import subprocess

import httpx
from serving import SPASM, start_server

import expert
from expert.service.app import create_app
from expert.service.settings import Settings


def rows(path) -> list[dict]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM events ORDER BY id")]


def test_every_assessment_served_is_a_row_with_its_rules_and_no_case(server, http):
    case = {"age": 41, "answers": {"movement": "cramp", "sites": ["calf"], "swelling": True, "pain": "severe"}}
    before = len(rows(server.audit))
    for _ in range(3):
        assert http.post("/v1/assessments", json=case).status_code == 200
    assert http.post("/v1/assessments", json={"age": "x"}).status_code == 422  # nothing served, nothing recorded
    new = rows(server.audit)[before:]
    assert len(new) == 3
    assessment = expert.assess(case)
    data = assessment.to_dict()
    canonical = json.dumps(assessment.case.to_dict(expert.default_expert().kb), sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    for row in new:
        assert row["kind"] == "assessment" and row["endpoint"] == "/v1/assessments" and row["client"] == "portal"
        assert row["knowledge_version"] == assessment.knowledge_version
        assert row["case_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
        assert row["triage"] == assessment.triage.level
        assert json.loads(row["red_flags"]) == [f["id"] for f in data["red_flags"]]
        rules = json.loads(row["rules"])
        assert set(data["triage"]["because"]) <= set(rules)
        assert {f["rule"] for f in data["red_flags"]} <= set(rules)
        assert {s["rule"] for c in data["causes"] for s in c["for"] + c["against"]} <= set(rules)
        assert row["case_json"] is None and row["time"].endswith("Z")


def test_spasm_audit_prints_jsonl_and_csv(server, http):
    http.post("/v1/assessments", json={"answers": {"movement": "tic"}})
    printed = subprocess.run([SPASM, "audit", str(server.audit)], capture_output=True, text=True, check=True).stdout
    lines = [json.loads(line) for line in printed.splitlines()]
    assert lines == [{**r, "red_flags": json.loads(r["red_flags"]) if r["red_flags"] else None,
                      "rules": json.loads(r["rules"]) if r["rules"] else None,
                      "detail": json.loads(r["detail"]) if r["detail"] else None} for r in rows(server.audit)]
    table = list(csv.DictReader(io.StringIO(subprocess.run(
        [SPASM, "audit", str(server.audit), "--format", "csv"], capture_output=True, text=True, check=True).stdout)))
    assert len(table) == len(lines) and table[-1]["triage"] == lines[-1]["triage"]
    later = subprocess.run([SPASM, "audit", str(server.audit), "--since", "2999-01-01"], capture_output=True,
                           text=True, check=True).stdout
    assert later == ""
    bad = subprocess.run([SPASM, "audit", str(server.audit), "--since", "yesterday"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--since" in bad.stderr
    missing = subprocess.run([SPASM, "audit", str(server.audit) + ".nope"], capture_output=True, text=True)
    assert missing.returncode == 2


def test_health_data_never_reaches_the_log(server, http):
    case = {"age": 93, "sex": "female", "answers": {"movement": "jerk", "episode_minutes": 47.125,
                                                    "conditions": ["parkinsons"]}}
    http.post("/v1/assessments", json=case)
    http.post("/v1/assessments", params={"explain": "true"}, json=case)
    http.post("/v1/assessments", json={**case, "age": 4711.5})  # refused: the bad value is not logged either
    http.post("/v1/interview/next", json=case)
    log = server.log_text()
    assert "POST /v1/assessments 200" in log and "POST /v1/assessments 422" in log
    for secret in ("47.125", "4711.5", "parkinsons", "explain", server.token):
        assert secret not in log


def test_a_killed_server_loses_no_record_of_a_response_it_sent(tmp_path):
    server = start_server(tmp_path, "--insecure-dev", "--workers", "2", "--audit-cases")
    sent = 0
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for i in range(24):
                case = {"age": i + 20, "answers": {"movement": ["cramp", "twitch", "jerk"][i % 3]}}
                if client.post("/v1/assessments", json=case).status_code == 200:
                    sent += 1
    finally:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
    assert sent == 24
    recorded = rows(server.audit)
    assert len(recorded) == sent
    assert [json.loads(r["case_json"])["age"] for r in recorded] == list(range(20, 44))  # --audit-cases keeps them


def test_an_internal_error_is_a_generic_500_and_logged_without_its_message(caplog, tmp_path):
    app = create_app(Settings(insecure_dev=True, audit=str(tmp_path / "trail.db")))

    @app.get("/boom")
    def boom():
        raise RuntimeError("patient secret 8675309")

    async def call():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/boom")

    import asyncio
    with caplog.at_level(logging.INFO, logger="spasm"):
        response = asyncio.run(call())
    assert response.status_code == 500
    assert response.json() == {"error": {"message": "internal error; it has been logged", "problems": []}}
    assert "RuntimeError" in caplog.text and "8675309" not in caplog.text
