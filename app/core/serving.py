"""`dhr serve --workers N`: each worker process accepts on a listening socket of its own.

uvicorn's `--workers` binds one socket in the parent and every worker accepts from it. Linux then hands
each new connection to the worker that waited last, so a few workers take most connections (and, with
keep-alive, keep them) while the rest sit idle: in the benchmark one of four workers held 22 of 32
connections, and its requests queued behind each other on its one interpreter. Here each worker binds
its own socket with SO_REUSEPORT, and the kernel spreads new connections evenly across them.
uvicorn's supervisor still starts, watches, restarts and stops the workers; only the socket each one
receives is made in the worker itself (https://github.com/Kludex/uvicorn/pull/2472 proposes the same
as an option of uvicorn).
"""
from __future__ import annotations

import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess


def reuse_port_available() -> bool:
    # Linux balances connections across a SO_REUSEPORT group; other systems accept the option but do not.
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def bind_reuse_port(host: str, port: int) -> socket.socket:
    """A socket bound to host:port in the group of sockets sharing that port (not yet listening)."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class _OwnSocket(socket.socket):
    """What the parent hands each worker instead of a socket: sent to the worker (pickled) as the recipe
    for binding its own. The parent's object is never bound, so the parent never receives connections."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(_family(host), socket.SOCK_STREAM)
        self.address = (host, port)

    def __reduce__(self):
        return bind_reuse_port, self.address


def serve_workers(config: uvicorn.Config) -> None:
    """Run config.workers worker processes under uvicorn's supervisor until stopped (SIGINT, SIGTERM)."""
    if not reuse_port_available():
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    # Fails here, with the reason, when something else holds the port (rather than in every worker).
    try:
        bind_reuse_port(config.host, config.port).close()
    except OSError as exc:
        raise SystemExit(f"Cannot listen on {config.host}:{config.port}: {exc.strerror}. Stop what uses it, or choose --port.") from exc
    placeholder = _OwnSocket(config.host, config.port)
    try:
        Multiprocess(config, sockets=[placeholder]).run()
    finally:
        placeholder.close()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
