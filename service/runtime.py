"""What every endpoint shares: the expert, the audit trail, authentication, and reading a JSON body.

The expert is ``expert.default_expert()`` (or the ``--knowledge`` directory), compiled once per
worker process. The endpoints are ``async`` and run the engine on the event loop's thread, one
request at a time: an assessment is a few milliseconds of CPU work that Python runs one thread at
a time anyway, so a thread pool would only add hand-offs between threads and interleave requests
(measured with ``python -m bench``: p99 at 8 clients 52 ms through the pool, 24 ms without).
Worker processes (``--workers``) are what use more cores.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

import expert
from expert.documents import parse_json
from expert.errors import CaseError, described

from .auth import AuthError, Authenticator, Client, load_keys, load_tokens
from .errors import ClientError, problems_of
from .settings import ConfigError, Settings
from .trail import MemoryReplayGuard, Trail

JSON_TYPES = ("application/json", "application/fhir+json")


@dataclass
class Runtime:
    settings: Settings
    expert: expert.Expert
    trail: Trail | None
    auth: Authenticator

    @classmethod
    def start(cls, settings: Settings) -> "Runtime":
        """Load the knowledge base, read keys and tokens, open the trail (errors here stop the start;
        the trail last, so a bad keys file does not leave a new database behind)."""
        if not settings.insecure_dev and not (settings.keys or settings.tokens):
            raise ConfigError("give --keys (CDS Hooks client keys) and/or --tokens (API tokens), "
                              "or --insecure-dev to switch authentication off on this machine")
        chosen = expert.Expert.from_directory(settings.knowledge) if settings.knowledge else expert.default_expert()
        keys = load_keys(settings.keys) if settings.keys else None
        tokens = load_tokens(settings.tokens) if settings.tokens else None
        trail = Trail(settings.audit, settings.audit_cases) if settings.audit else None
        auth = Authenticator(keys, tokens, trail or MemoryReplayGuard(), insecure=settings.insecure_dev)
        return cls(settings, chosen, trail, auth)

    @property
    def kb(self):
        return self.expert.kb

    def url(self, path: str) -> str:
        """The public URL of a path on this service (JWT audience, card links)."""
        return self.settings.base_url + path

    def record(self, kind: str, request: Request, client: Client, **fields) -> None:
        if self.trail is not None:
            self.trail.record(kind, request.url.path, client.name, self.kb.knowledge_version, **fields)


async def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def client(request: Request) -> Client:
    """Dependency: the authenticated caller of a REST or FHIR endpoint (JWT or API token)."""
    return await _authenticate(request, jwt_only=False)


async def cds_client(request: Request) -> Client:
    """Dependency: the authenticated CDS Client (a signed JWT only, as CDS Hooks requires)."""
    return await _authenticate(request, jwt_only=True)


async def _authenticate(request: Request, jwt_only: bool) -> Client:
    service: Runtime = request.app.state.runtime
    try:
        return service.auth.authenticate(request.headers.get("authorization"), service.url(request.url.path),
                                         jwt_only)
    except AuthError as error:
        raise ClientError(error.status, error.message) from None


async def raw_body(request: Request) -> bytes:
    """Dependency: the request body (already bounded by the BodyLimit middleware)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and kind not in JSON_TYPES and not kind.endswith("+json"):
        raise ClientError(415, f"send JSON (Content-Type: application/json), not {kind}")
    return await request.body()


def parse_body(body: bytes) -> Any:
    """A JSON body, strictly (no duplicate keys, no NaN); malformed JSON is a 400 naming line and column."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ClientError(400, f"the body is not UTF-8 text (byte {error.start})") from None
    if not text.strip():
        raise ClientError(400, "the body is empty; send a JSON object")
    try:
        return parse_json(text, None, CaseError, with_lines=False).data
    except CaseError as error:
        raise ClientError(400, "the body is not valid JSON", problems_of(error)) from None


def json_object(body: bytes, what: str) -> dict:
    data = parse_body(body)
    if not isinstance(data, dict):
        raise ClientError(422, f"{what} must be a JSON object, got {described(data)}")
    return data
