"""`spasm serve` refusing bad configuration with exit 2 (tokens, keys, audit trail, port), and requests
that must be 401 or 422, never 500: a prefetched Patient of another person, FHIR fields of the wrong
type or unit, JWT claims of odd types."""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import time
import uuid

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from serving import EC_ISSUER, SPASM, free_port

from expert.cli.main import cli
from expert.fhir import QUESTIONNAIRE_URL, UCUM

NO_SERVER = 60  # seconds: a refused start ends at once; one that starts is killed by the timeout and fails


def serve(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """``spasm serve`` expected to refuse to start (a start would block until the timeout: a failure)."""
    try:
        return subprocess.run([SPASM, "serve", "--host", "127.0.0.1", "--port", str(free_port()), *args],
                              capture_output=True, text=True, timeout=NO_SERVER, cwd=cwd)
    except subprocess.TimeoutExpired:
        pytest.fail(f"spasm serve {' '.join(args)} started (or blocked) instead of refusing")


def refused(run: subprocess.CompletedProcess, *words: str) -> None:
    assert run.returncode == 2, run.stderr
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr
    for word in words:
        assert word in run.stderr, run.stderr
    assert run.stdout == ""  # no token printed, nothing served


# ------------------------------------------------------------------------ A2, D13: --add-token

def test_add_token_refuses_a_device_and_leaves_it_alone():
    before = os.stat("/dev/null")
    refused(serve("--tokens", "/dev/null", "--add-token", "x"), "/dev/null", "not a regular file")
    after = os.stat("/dev/null")
    assert stat.S_IMODE(after.st_mode) == stat.S_IMODE(before.st_mode) and after.st_uid == before.st_uid


def test_add_token_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "tokens.fifo"
    os.mkfifo(fifo)
    refused(serve("--tokens", str(fifo), "--add-token", "x"), str(fifo), "FIFO")
    refused(serve("--tokens", str(fifo), "--no-audit"), str(fifo), "FIFO")  # starting with it does not block either


def test_add_token_refuses_a_folder_and_a_missing_folder(tmp_path):
    refused(serve("--tokens", str(tmp_path), "--add-token", "x"), str(tmp_path))
    missing = tmp_path / "nowhere" / "tokens.txt"
    refused(serve("--tokens", str(missing), "--add-token", "x"), str(missing), "does not exist")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give a file away")
def test_add_token_does_not_chmod_a_file_it_does_not_own(tmp_path):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("")
    os.chmod(tokens, 0o644)
    os.chown(tokens, 54321, 54321)
    made = subprocess.run([SPASM, "serve", "--tokens", str(tokens), "--add-token", "portal"], capture_output=True,
                          text=True, timeout=NO_SERVER)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(os.stat(tokens).st_mode) == 0o644 and tokens.read_text().startswith("portal sha256:")


def test_a_new_tokens_file_is_private_and_lines_are_not_glued(tmp_path):
    tokens = tmp_path / "tokens.txt"
    first = subprocess.run([SPASM, "serve", "--tokens", str(tokens), "--add-token", "a"], capture_output=True,
                           text=True, timeout=NO_SERVER)
    assert first.returncode == 0 and stat.S_IMODE(os.stat(tokens).st_mode) == 0o600
    tokens.write_text(tokens.read_text().rstrip("\n"))  # edited by hand, last newline lost
    subprocess.run([SPASM, "serve", "--tokens", str(tokens), "--add-token", "b"], capture_output=True, check=True,
                   timeout=NO_SERVER)
    assert [line.split()[0] for line in tokens.read_text().splitlines()] == ["a", "b"]


@pytest.mark.parametrize("name", ["", "   ", "#comment"])
def test_an_empty_blank_or_comment_token_name_is_refused(tmp_path, name):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("")
    refused(serve("--tokens", str(tokens), "--add-token", name, "--no-audit"), "token name")
    assert tokens.read_text() == ""


# ------------------------------------------------------------------------------ C3: --keys

def _pem_ec() -> str:
    return ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.mark.parametrize("content, words", [
    ('{"iss": 5}', ['issuer "iss"', "got a number"]),
    ('{"iss": null}', ['issuer "iss"', "got null"]),
    ('{"iss": []}', ['issuer "iss"', "got a list"]),
    ('{"iss": true}', ['issuer "iss"', "got true or false"]),
    ('{"iss": {}}', ['issuer "iss"', "empty object"]),
    ('{"iss": {"keys": [1]}}', ['issuer "iss"', "key 1", "got a number"]),
    ('{"iss": {"keys": "x"}}', ['issuer "iss"', "list of JWKs"]),
    ('{"iss": {"keys": []}}', ['issuer "iss"', "empty list"]),
    ('{"iss": {"kty": "RSA"}}', ['issuer "iss"', "lacks n, e"]),
    ('{"iss": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}', ['issuer "iss"', "not a valid EC public key"]),
    ('{"iss": {"kty": "oct", "k": "c2VjcmV0"}}', ['issuer "iss"', "only public"]),
    ('{"iss": {"kty": "XYZ"}}', ['issuer "iss"', "expected RSA, EC or OKP"]),
    ('{"iss": "-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----"}', ['issuer "iss"', "PEM"]),
    ('not json', ["not valid JSON", "line 1"]),
    ('[]', ["JSON object mapping each issuer"]),
])
def test_bad_keys_files_are_refused_at_start(tmp_path, content, words):
    keys = tmp_path / "keys.json"
    keys.write_text(content)
    refused(serve("--keys", str(keys), "--no-audit"), str(keys), *words)


def test_a_keys_file_that_is_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "keys.fifo"
    os.mkfifo(fifo)
    refused(serve("--keys", str(fifo), "--no-audit"), str(fifo), "FIFO")


def test_configuration_errors_exit_2_through_click_too(tmp_path):
    """click's ClickException exits 1; a bad file given to serve is bad input: 2."""
    keys = tmp_path / "keys.json"
    keys.write_text('{"iss": 5}')
    result = CliRunner().invoke(cli, ["serve", "--keys", str(keys), "--no-audit"])
    assert result.exit_code == 2 and "got a number" in result.output


@pytest.fixture(scope="module")
def mixed_server(tmp_path_factory):
    """A server trusting an issuer whose only key is a P-256 PEM key."""
    from serving import start_server, stop
    directory = tmp_path_factory.mktemp("mixed")
    keys = directory / "keys.json"
    keys.write_text(json.dumps({"https://pem.example.org": _pem_ec()}))
    running = start_server(directory, "--keys", str(keys))
    yield running
    stop(running)


@pytest.mark.parametrize("alg", ["RS256", "ES384", "EdDSA"])
def test_a_jwt_for_a_key_of_another_type_is_401(mixed_server, alg):
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    private = {"RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
               "ES384": lambda: ec.generate_private_key(ec.SECP384R1()),
               "EdDSA": ed25519.Ed25519PrivateKey.generate}[alg]()
    mixed_server.keys = {"https://pem.example.org": (private, "k", alg)}
    token = mixed_server.jwt("/cds-services", "https://pem.example.org")
    with mixed_server.client() as client:
        answer = client.get("/cds-services", headers=mixed_server.bearer(token))
    assert answer.status_code == 401, answer.text


@pytest.mark.parametrize("claims, statuses", [
    ({"iat": "now"}, (200,)),  # numeric text, which PyJWT lets through: compared as a number
    ({"sub": "\ud800"}, (401,)),  # could not be written to the audit trail
    ({"jti": "\udcff"}, (401,)),
])
def test_odd_jwt_claims_are_answered_never_500(server, claims, statuses):
    if claims.get("iat") == "now":
        claims = {"iat": str(int(time.time()))}
    token = server.jwt("/v1/assessments", **claims)
    with server.client() as client:
        answer = client.post("/v1/assessments", json={"answers": {"movement": "cramp"}}, headers=server.bearer(token))
    assert answer.status_code in statuses, answer.text


# ------------------------------------------------------------------------- C4, C5: --audit, port

def test_audit_on_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path):
    notes = tmp_path / "notes.yaml"
    notes.write_text("movement: cramp\n")
    refused(serve("--insecure-dev", "--audit", str(notes)), str(notes), "not an SQLite database")
    assert notes.read_text() == "movement: cramp\n" and sorted(p.name for p in tmp_path.iterdir()) == ["notes.yaml"]


def test_audit_on_another_sqlite_database_is_refused_and_left_alone(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE patients (name TEXT)")
    before = other.read_bytes()
    refused(serve("--insecure-dev", "--audit", str(other)), str(other), "not an audit trail")
    assert other.read_bytes() == before


@pytest.mark.parametrize("where, words", [
    ("folder", ["is a folder"]),
    ("missing folder", ["does not exist"]),
    ("/dev/null", ["device"]),
    ("fifo", ["FIFO"]),
])
def test_audit_on_a_folder_device_or_missing_folder_is_refused(tmp_path, where, words):
    path = {"folder": tmp_path, "missing folder": tmp_path / "nowhere" / "a.db", "/dev/null": "/dev/null",
            "fifo": tmp_path / "a.fifo"}[where]
    if where == "fifo":
        os.mkfifo(path)
    refused(serve("--insecure-dev", "--audit", str(path)), str(path), *words)
    if where == "/dev/null":
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_port_in_use_is_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([SPASM, "serve", "--insecure-dev", "--no-audit", "--host", "127.0.0.1", "--port",
                              str(port)], capture_output=True, text=True, timeout=NO_SERVER)
    refused(run, f"port {port} is already in use")
    assert "AUTHENTICATION IS OFF" not in run.stderr  # refused before announcing a server


# ------------------------------------------------------------------ B3: CDS Hooks patient id

def _hook(patient: dict) -> dict:
    qr = {"resourceType": "QuestionnaireResponse", "questionnaire": QUESTIONNAIRE_URL, "status": "completed",
          "subject": {"reference": "Patient/p1"}, "authored": "2026-03-04T09:30:00Z",
          "item": [{"linkId": "movement", "answer": [{"valueCoding": {"code": "cramp"}}]}]}
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/abc", "patientId": "p1"},
            "prefetch": {"patient": patient, "questionnaireResponse": qr}}


def test_a_prefetched_patient_of_another_person_is_422(server):
    path = "/cds-services/spasm-expert"
    other = {"resourceType": "Patient", "id": "someone-else", "gender": "male", "birthDate": "2025-01-01"}
    with server.client() as client:
        answer = client.post(path, json=_hook(other), headers=server.bearer(server.jwt(path, EC_ISSUER)))
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["problems"][0]["field"] == "prefetch.patient.id"
        same = client.post(path, json=_hook({**other, "id": "p1"}), headers=server.bearer(server.jwt(path)))
        assert same.status_code == 200, same.text


# ---------------------------------------------------- B1, C2, D16 over HTTP: 422, never 500

def _qr(*items, **fields) -> dict:
    return {"resourceType": "QuestionnaireResponse", "status": "completed", **fields,
            "item": [{"linkId": "movement", "answer": [{"valueCoding": {"code": "cramp"}}]}, *items]}


@pytest.mark.parametrize("body, field", [
    ({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "gender": ["male"]}},
                                          {"resource": _qr()}]}, "Patient.gender"),
    (_qr({"linkId": "episode_minutes", "answer": [{"valueQuantity": {"value": 1, "code": "kg"}}]}),
     "item[1].answer[0].valueQuantity"),
    (_qr(status=["entered-in-error"]), "status"),
    (_qr(questionnaire="urn:other"), "questionnaire"),
])
def test_bad_fhir_fields_are_422(http, body, field):
    for path in ("/v1/assessments", "/v1/interview/next"):
        answer = http.post(path, json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["problems"][0]["field"] == field


def test_a_duration_in_hours_is_read_in_minutes_over_http(http):
    hour = _qr({"linkId": "episode_minutes", "answer": [{"valueQuantity": {"value": 1, "code": "h", "system": UCUM}}]})
    answer = http.post("/v1/assessments", json=hour)
    assert answer.status_code == 200
    assert "will_not_stop" in [flag["id"] for flag in answer.json()["red_flags"]]
