"""What a running service is configured with, passed to every worker process through one variable.

uvicorn starts each worker as a fresh process that builds the app from an import string, so the
options of ``spasm serve`` travel as JSON in ``SPASM_SERVICE_SETTINGS`` rather than as objects.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

ENVIRONMENT = "SPASM_SERVICE_SETTINGS"
#: Largest request body accepted, in bytes; a larger one is answered 413 before it is parsed.
MAX_BODY = 1_000_000


class ConfigError(ValueError):
    """A bad option or file given to ``spasm serve``: the operator's to fix (exit 2), not a bug."""


def os_reason(error: OSError) -> str:
    """What an OSError says, in lower-case words for a ConfigError (no Python names)."""
    return (error.strerror or str(error)).lower()


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    #: The URL clients call, e.g. https://cds.example.org behind a proxy: JWT audiences and card
    #: links are built from it. Defaults to http://HOST:PORT.
    public_url: str | None = None
    audit: str | None = "spasm-audit.db"  # None: no trail
    audit_cases: bool = False
    keys: str | None = None  # issuer -> public keys (JWKS or PEM), for CDS Hooks JWTs
    tokens: str | None = None  # API tokens, hashed
    insecure_dev: bool = False
    knowledge: str | None = None  # another knowledge base directory
    #: A SMART app launch URL that continues the interview; cards link to it when questions remain.
    interview_app: str | None = None
    max_body: int = MAX_BODY

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def to_environment(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> "Settings":
        raw = os.environ.get(ENVIRONMENT)
        return cls(**json.loads(raw)) if raw else cls()
