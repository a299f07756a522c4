"""A real `spasm serve` on a free loopback port, shared by the service tests, and credentials for it.

The server runs as a subprocess exactly as an operator starts it, with client keys (an EC and an
RSA issuer as JWK Sets, one as PEM), an API tokens file and an audit trail, and its log captured.
"""
from __future__ import annotations

import json
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from serving import EC_ISSUER, PEM_ISSUER, RSA_ISSUER, SPASM, public_jwk, start_server, stop


@pytest.fixture(scope="session")
def credentials(tmp_path_factory):
    """Client key pairs, the keys file the service trusts, and a tokens file with one token."""
    directory = tmp_path_factory.mktemp("credentials")
    ec_key = ec.generate_private_key(ec.SECP384R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys_file = directory / "keys.json"
    pem = pem_key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    keys_file.write_text(json.dumps({
        EC_ISSUER: {"keys": [public_jwk(ec_key, "ec-1", "ES384")]},
        RSA_ISSUER: public_jwk(rsa_key, "rsa-1", "RS384"),
        PEM_ISSUER: pem,
    }))
    tokens_file = directory / "tokens.txt"
    made = subprocess.run([SPASM, "serve", "--tokens", str(tokens_file), "--add-token", "portal"],
                          capture_output=True, text=True, check=True)
    return {"keys_file": keys_file, "tokens_file": tokens_file, "token": made.stdout.strip(),
            "keys": {EC_ISSUER: (ec_key, "ec-1", "ES384"), RSA_ISSUER: (rsa_key, "rsa-1", "RS384"),
                     PEM_ISSUER: (pem_key, "pem", "RS256")}}


@pytest.fixture(scope="session")
def server(tmp_path_factory, credentials):
    """One authenticated server for all the service tests."""
    directory = tmp_path_factory.mktemp("server")
    running = start_server(directory, "--keys", str(credentials["keys_file"]), "--tokens",
                           str(credentials["tokens_file"]), "--workers", "1")
    running.token, running.keys = credentials["token"], credentials["keys"]
    yield running
    stop(running)


@pytest.fixture(scope="session")
def http(server):
    """An httpx client that sends the API token."""
    with server.client(headers=server.bearer(server.token)) as client:
        yield client
