"""Authentication against a real server: CDS Hooks JWTs and API tokens, accepted and refused."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from serving import EC_ISSUER, PEM_ISSUER, RSA_ISSUER, SPASM

DISCOVERY = "/cds-services"
CASE = {"answers": {"movement": "cramp"}}


def get(server, path, headers=None):
    with server.client() as client:
        return client.get(path, headers=headers or {})


def test_healthz_is_open_and_everything_else_is_not(server):
    assert get(server, "/healthz").status_code == 200
    for method, path in (("GET", "/v1/knowledge"), ("POST", "/v1/assessments"), ("GET", "/cds-services"),
                         ("POST", "/cds-services/spasm-expert"), ("GET", "/fhir/Questionnaire/spasm-expert"),
                         ("POST", "/fhir/Questionnaire/$next-question"), ("GET", "/v1/schema/case")):
        with server.client() as client:
            response = client.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("issuer", [EC_ISSUER, RSA_ISSUER, PEM_ISSUER])
def test_client_jwts_are_accepted(server, issuer):
    response = get(server, DISCOVERY, server.bearer(server.jwt(DISCOVERY, issuer)))
    assert response.status_code == 200
    with server.client() as client:  # the same JWTs work on REST, with the REST URL as audience
        assert client.post("/v1/assessments", json=CASE,
                           headers=server.bearer(server.jwt("/v1/assessments", issuer))).status_code == 200


def _forged_none(server) -> str:
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    now = int(time.time())
    return part({"alg": "none", "typ": "JWT", "kid": "ec-1"}) + "." + part(
        {"iss": EC_ISSUER, "aud": server.url + DISCOVERY, "exp": now + 300, "iat": now, "jti": "n1"}) + "."


@pytest.mark.parametrize("case, words", [
    ("expired", "expired"),
    ("wrong audience", "audience"),
    ("other endpoint's audience", "audience"),
    ("wrong key", "signature"),
    ("alg none", "algorithm"),
    ("hmac", "algorithm"),
    ("unknown issuer", "issuer"),
    ("no jti", "jti"),
    ("no exp", "exp"),
    ("no iat", "iat"),
    ("garbage", "well-formed"),
    ("unknown kid", "kid"),
])
def test_bad_jwts_are_refused(server, case, words):
    now = int(time.time())
    token = {
        "expired": lambda: server.jwt(DISCOVERY, exp=now - 120, iat=now - 600),
        "wrong audience": lambda: server.jwt(DISCOVERY, aud="https://elsewhere.example.org/cds-services"),
        "other endpoint's audience": lambda: server.jwt("/cds-services/spasm-expert"),
        "wrong key": lambda: server.jwt(DISCOVERY, key=ec.generate_private_key(ec.SECP384R1())),
        "alg none": lambda: _forged_none(server),
        "hmac": lambda: jwt.encode({"iss": EC_ISSUER, "aud": server.url + DISCOVERY, "exp": now + 60, "iat": now,
                                    "jti": "h"}, "a shared secret of sufficient length!!", algorithm="HS256"),
        "unknown issuer": lambda: jwt.encode({"iss": "https://stranger.example.org", "aud": server.url + DISCOVERY,
                                              "exp": now + 60, "iat": now, "jti": "s"},
                                             server.keys[EC_ISSUER][0], algorithm="ES384"),
        "no jti": lambda: server.jwt(DISCOVERY, drop=("jti",)),
        "no exp": lambda: server.jwt(DISCOVERY, drop=("exp",)),
        "no iat": lambda: server.jwt(DISCOVERY, drop=("iat",)),
        "garbage": lambda: "a.b.c",
        "unknown kid": lambda: server.jwt(DISCOVERY, kid="nope"),
    }[case]()
    response = get(server, DISCOVERY, server.bearer(token))
    assert response.status_code == 401, response.text
    assert words in response.json()["error"]["message"]


def test_a_jwt_is_accepted_once(server):
    token = server.jwt(DISCOVERY)
    assert get(server, DISCOVERY, server.bearer(token)).status_code == 200
    replay = get(server, DISCOVERY, server.bearer(token))
    assert replay.status_code == 401 and "used before" in replay.json()["error"]["message"]


def test_api_tokens(server):
    assert get(server, "/v1/knowledge", server.bearer(server.token)).status_code == 200
    wrong = get(server, "/v1/knowledge", server.bearer("spx_" + "x" * 43))
    assert wrong.status_code == 401 and "token" in wrong.json()["error"]["message"]
    assert get(server, "/v1/knowledge", {"Authorization": f"Basic {server.token}"}).status_code == 401
    assert get(server, "/fhir/Questionnaire/spasm-expert", server.bearer(server.token)).status_code == 200
    refused = get(server, DISCOVERY, server.bearer(server.token))  # CDS Hooks needs the client's JWT
    assert refused.status_code == 403 and "JWT" in refused.json()["error"]["message"]


def test_tokens_file_keeps_hashes_only(credentials):
    text = credentials["tokens_file"].read_text()
    assert credentials["token"] not in text
    assert text.startswith("portal sha256:")
    again = subprocess.run([SPASM, "serve", "--tokens", str(credentials["tokens_file"]), "--add-token", "portal"],
                           capture_output=True, text=True)
    assert again.returncode == 2 and "already has a token called portal" in again.stderr


def test_serve_refuses_to_start_open_by_accident(tmp_path):
    nothing = subprocess.run([SPASM, "serve", "--port", "1", "--no-audit"], capture_output=True, text=True, timeout=60)
    assert nothing.returncode != 0 and "--insecure-dev" in nothing.stderr
    exposed = subprocess.run([SPASM, "serve", "--host", "0.0.0.0", "--insecure-dev"], capture_output=True, text=True,
                             timeout=60)
    assert exposed.returncode == 2 and "loopback only" in exposed.stderr


def test_help_does_not_import_the_service_libraries():
    probe = ("import sys, expert.cli.main\n"
             "from click.testing import CliRunner\n"
             "CliRunner().invoke(expert.cli.main.cli, ['--help'])\n"
             "print(sorted(m for m in ('fastapi', 'uvicorn', 'fhir.resources', 'jwt', 'starlette', 'pydantic')"
             " if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_a_jwt_that_lives_longer_than_an_hour_is_refused(server):
    """CDS Hooks asks for JWTs of a few minutes; one valid for days would make its jti worth
    remembering for days, and a stolen token useful for as long."""
    now = int(time.time())
    with server.client() as client:
        for claims, status in (({"exp": now + 3500}, 200), ({"exp": now + 3 * 86400}, 401),
                               ({"iat": now - 86400, "exp": now + 60}, 401)):
            token = server.jwt("/v1/assessments", **claims)
            answer = client.post("/v1/assessments", json={"answers": {"movement": "cramp"}},
                                 headers=server.bearer(token))
            assert answer.status_code == status, (claims, answer.text)
            if status == 401:
                assert "lives longer than 60 minutes" in answer.text
