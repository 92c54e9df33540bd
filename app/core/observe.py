"""Per request: a request id (the client's X-Request-ID when it is a sane token), its latency in the
metrics and one access log line, all by the route's template.

Pure ASGI (not BaseHTTPMiddleware), like app.core.headers, so streamed downloads pass through untouched.
The access line holds the method, the route template, the status and the time taken; never the
concrete path (the calendar feed's path is a secret), the query string (search terms), the client's
address or anything of the body.
"""
from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics
from app.core.logs import request_id

SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
access = logging.getLogger("dhr.access")


def incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if SANE_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path with its parameters as {names}, including any router prefix."""
    # FastAPI resolves included routers' routes lazily and keeps the prefixed template here.
    effective = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(effective, "path_format", None) or getattr(scope.get("route"), "path", None)
    if template:
        return template
    path = scope.get("path", "")
    for mounted in getattr(scope.get("app"), "routes", ()):  # static files: one label per folder, not per file
        if isinstance(mounted, Mount) and path.startswith(mounted.path + "/"):
            return mounted.path + "/{path}"
    if "endpoint" in scope and not scope.get("path_params"):  # a route with no parameters: its path is its template
        return path or metrics.UNMATCHED
    return metrics.UNMATCHED


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_id(scope)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route, method = route_template(scope), scope.get("method", "")
            metrics.observe(route, method, status, seconds)
            access.info("%s %s %s %.1f ms", method, route, status, seconds * 1000,
                        extra={"method": method, "route": route, "status": status, "duration_ms": round(seconds * 1000, 1)})
            request_id.reset(token)
