"""Running the app under uvicorn: logging that holds no health data, and sockets without Nagle delays.

With ``--workers`` above 1, uvicorn hands its worker processes a listening socket made with
protocol 0, and asyncio then leaves TCP_NODELAY off on the connections they accept: a response's
headers and body go out as two segments, and the second waits for the client's delayed ACK
(about 40 ms on Linux). The protocol class below sets TCP_NODELAY on every connection itself.
"""
from __future__ import annotations

import errno
import os
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .settings import ENVIRONMENT, ConfigError, Settings, os_reason

STARTUP_FAILURE = 3  # uvicorn's exit code when it cannot start (it has logged why)

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


def check_address(host: str, port: int) -> None:
    """Bind HOST:PORT once, as uvicorn will, so a port in use is a plain message (exit 2) rather than
    uvicorn's log line and its exit code 3."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        raise ConfigError(f"--host {host}: not an address of this machine, or a name it can resolve") from None
    for family, kind, protocol, _, address in addresses:
        with socket.socket(family, kind, protocol) as probe:
            if os.name != "nt":  # as uvicorn and asyncio do, so a connection in TIME_WAIT does not count
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPV6_V6ONLY"):
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise ConfigError(f"port {port} is already in use (on {host}); stop what holds it, or choose "
                                      "another with --port") from None
                if error.errno == errno.EACCES:
                    raise ConfigError(f"port {port} needs privileges this user does not have; choose one above "
                                      "1023 with --port") from None
                if error.errno == errno.EADDRNOTAVAIL:
                    raise ConfigError(f"--host {host}: not an address of this machine") from None
                raise ConfigError(f"cannot listen on {host} port {port}: {os_reason(error)}") from None


def run(settings: Settings, app) -> None:
    """Serve ``app`` (already built, and its address checked with ``check_address``, so configuration
    errors surfaced before any worker started)."""
    options: dict[str, Any] = dict(host=settings.host, port=settings.port, log_config=LOGGING, access_log=False,
                                   server_header=False, http=NoDelayH11Protocol)
    try:
        if settings.workers == 1:
            uvicorn.run(app, **options)
        else:
            os.environ[ENVIRONMENT] = settings.to_environment()
            uvicorn.run("expert.service.app:from_environment", factory=True, workers=settings.workers, **options)
    except SystemExit as stopped:
        if stopped.code == STARTUP_FAILURE:  # e.g. the port taken between the check and uvicorn's bind
            raise ConfigError("the server could not start; the log line above says why") from None
        raise
