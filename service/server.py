"""Running the app under uvicorn: logging that holds no health data, and sockets without Nagle delays.

With ``--workers`` above 1, uvicorn hands its worker processes a listening socket made with
protocol 0, and asyncio then leaves TCP_NODELAY off on the connections they accept: a response's
headers and body go out as two segments, and the second waits for the client's delayed ACK
(about 40 ms on Linux). The protocol class below sets TCP_NODELAY on every connection itself.
"""
from __future__ import annotations

import os
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .settings import ENVIRONMENT, Settings

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},  # replaced by spasm.access
        "spasm": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def run(settings: Settings, app) -> None:
    """Serve ``app`` (already built, so configuration errors surfaced before any worker started)."""
    options: dict[str, Any] = dict(host=settings.host, port=settings.port, log_config=LOGGING, access_log=False,
                                   server_header=False, http=NoDelayH11Protocol)
    if settings.workers == 1:
        uvicorn.run(app, **options)
    else:
        os.environ[ENVIRONMENT] = settings.to_environment()
        uvicorn.run("expert.service.app:from_environment", factory=True, workers=settings.workers, **options)
