"""The ASGI app: routes, error handlers and middleware wired together around one Runtime.

``create_app(settings)`` builds it; ``from_environment()`` is the factory each uvicorn worker
process calls (``spasm serve`` puts the settings in its environment).
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

import expert
from expert.errors import CaseError

from . import cds_hooks, fhir, rest
from .errors import ClientError, error_response, problems_of
from .middleware import AccessLog, BodyLimit
from .settings import Settings

DESCRIPTION = """Decision support for involuntary muscle movements over HTTP: REST under /v1, CDS Hooks 2.0
under /cds-services, FHIR R4 (SDC adaptive $next-question) under /fhir. Every endpoint but /healthz
needs `Authorization: Bearer` with a client JWT or an API token. It suggests; it never diagnoses."""


def create_app(settings: Settings) -> FastAPI:
    from .runtime import Runtime

    runtime = Runtime.start(settings)

    app = FastAPI(title="Spasm Expert", version=expert.__version__, description=DESCRIPTION,
                  docs_url="/docs", redoc_url=None, openapi_url="/openapi.json")
    app.state.runtime = runtime

    @app.get("/healthz", tags=["health"], summary="Liveness: open, no authentication, no data")
    async def healthz() -> dict:
        return {"status": "ok", "knowledge_version": runtime.kb.knowledge_version}

    for module in (rest, cds_hooks, fhir):
        app.include_router(module.router)

    @app.exception_handler(CaseError)
    async def case_error(request: Request, error: CaseError):
        return error_response(request.url.path, 422, "the case is not valid", problems_of(error))

    @app.exception_handler(ClientError)
    async def client_error(request: Request, error: ClientError):
        headers = {"WWW-Authenticate": 'Bearer realm="spasm-expert"'} if error.status == 401 else None
        return error_response(request.url.path, error.status, error.message, error.problems, headers)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        path = request.url.path if len(request.url.path) <= 80 else request.url.path[:79] + "…"
        messages = {404: f"no such endpoint: {path}", 405: f"{request.method} is not allowed here"}
        return error_response(request.url.path, error.status_code, messages.get(error.status_code, str(error.detail)),
                              headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError):
        problems = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in error.errors()]
        return error_response(request.url.path, 422, "invalid request parameters", problems)

    app.add_middleware(BodyLimit, limit=settings.max_body)
    app.add_middleware(AccessLog)  # added last: outermost, so it sees every status, 413 included

    return app


def from_environment() -> FastAPI:
    return create_app(Settings.from_environment())
