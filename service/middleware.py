"""Two ASGI layers around the app: a request body limit, and an access log that holds no health data.

**Body limit.** A body larger than the limit is answered 413 whether the client declared it
(``Content-Length``) or streamed it (chunked): the bytes are counted as they arrive, and at most
the limit is ever held in memory.

**Access log.** One line per request: method, path (never the query string), status and time.
Bodies, queries and headers are never logged, and an unexpected exception is logged by type and
code location only (its message could quote the input), then answered 500 with a generic message.
"""
from __future__ import annotations

import logging
import time
import traceback

from .errors import error_response

log = logging.getLogger("spasm.access")
errors = logging.getLogger("spasm.error")


class BodyLimit:
    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        too_big = error_response(scope["path"], 413, f"the request body is larger than {self.limit:,} bytes")
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await too_big(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await too_big(scope, receive, send)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class AccessLog:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def sending(message):
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:  # noqa: BLE001 - answered 500, logged without its message
            frames = traceback.extract_tb(error.__traceback__)
            where = "; ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in frames[-4:])
            errors.error("internal error %s at %s (%s %s)", type(error).__name__, where, scope["method"], scope["path"])
            if not status["sent"]:
                await error_response(scope["path"], 500, "internal error; it has been logged")(scope, receive, sending)
        finally:
            log.info('%s %s %d %.1fms', scope["method"], scope["path"], status["code"],
                     (time.perf_counter() - started) * 1000)
