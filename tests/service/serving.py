"""Starting a real `spasm serve` on a free loopback port, and making the credentials it trusts."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt

SPASM = str(Path(sys.executable).parent / "spasm")
EC_ISSUER = "https://ehr.example.org"
RSA_ISSUER = "https://other-ehr.example.org"
PEM_ISSUER = "https://pem-ehr.example.org"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A running service: its URL, process, log file and the credentials it trusts."""

    url: str
    process: subprocess.Popen
    log: Path
    audit: Path
    token: str = ""
    keys: dict = field(default_factory=dict)  # issuer -> (private key, kid, alg)

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def jwt(self, path: str, issuer: str = EC_ISSUER, *, key=None, alg: str | None = None, kid: str | None = None,
            drop: tuple = (), **claims) -> str:
        """A CDS Hooks client JWT for a call to ``path`` (override any claim, header or key)."""
        private, default_kid, default_alg = self.keys[issuer]
        now = int(time.time())
        payload = {"iss": issuer, "sub": "ehr-client", "aud": self.url + path, "exp": now + 300, "iat": now,
                   "jti": str(uuid.uuid4())}
        payload.update(claims)
        for name in drop:
            payload.pop(name)
        return jwt.encode(payload, key if key is not None else private, algorithm=alg or default_alg,
                          headers={"kid": kid or default_kid, "typ": "JWT"})

    def bearer(self, credential: str) -> dict:
        return {"Authorization": f"Bearer {credential}"}

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"spasm serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"spasm serve did not start:\n{log.read_text()}")


def start_server(directory: Path, *extra: str) -> Server:
    """``spasm serve`` in its own process group (so a test can kill it and its workers at once)."""
    port = free_port()
    log = directory / "server.log"
    audit = directory / "audit.db"
    stream = log.open("w")
    process = subprocess.Popen([SPASM, "serve", "--host", "127.0.0.1", "--port", str(port), "--audit", str(audit),
                                *extra], stdout=stream, stderr=subprocess.STDOUT, cwd=directory,
                               env={**os.environ, "NO_COLOR": "1"}, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, process, log)
    return Server(url, process, log, audit)


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def public_jwk(private, kid: str, alg: str) -> dict:
    jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(private.public_key()))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


