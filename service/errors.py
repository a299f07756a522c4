"""Error responses: one shape for every failure, with no stack trace and no echo of health data.

REST and CDS Hooks answer ``{"error": {"message": ..., "problems": [...]}}``, where each problem
is the same ``field`` / ``message`` / ``hint`` the command line prints. FHIR endpoints answer an
OperationOutcome carrying the same text, as FHIR clients expect.
"""
from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

FHIR_JSON = "application/fhir+json"
_FHIR_CODES = {400: "structure", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
               412: "incomplete", 413: "too-long", 415: "not-supported", 422: "invalid", 500: "exception"}


def problems_of(error) -> list[dict]:
    """A CaseError's (or any InputError's) problems as JSON, without the file (there is none over HTTP)."""
    return [{k: v for k, v in p.to_dict().items() if k != "file"} for p in error.problems]


def error_response(path: str, status: int, message: str, problems: list[dict] | None = None,
                   headers: dict | None = None) -> Response:
    if path.startswith("/fhir"):
        issues = [{"severity": "error", "code": _FHIR_CODES.get(status, "processing"),
                   "diagnostics": " ".join(filter(None, [p.get("field") and f"{p['field']}:", p.get("message"),
                                                         p.get("hint") and f"({p['hint']})"])),
                   **({"expression": [p["field"]]} if p.get("field") else {})}
                  for p in problems or []]
        body: dict[str, Any] = {"resourceType": "OperationOutcome",
                "issue": issues or [{"severity": "error", "code": _FHIR_CODES.get(status, "processing"),
                                     "diagnostics": message}]}
        media = FHIR_JSON
    else:
        body = {"error": {"message": message, "problems": problems or []}}
        media = "application/json"
    return Response(json.dumps(body, ensure_ascii=False, indent=2) + "\n", status_code=status, media_type=media,
                    headers=headers)


class ClientError(Exception):
    """Bad input found by the service itself (not the engine): answered with ``status``."""

    def __init__(self, status: int, message: str, problems: list[dict] | None = None):
        super().__init__(message)
        self.status, self.message, self.problems = status, message, problems or []
