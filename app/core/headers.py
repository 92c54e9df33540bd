"""Security headers on every response: API, pages, errors, redirects and static files alike.

Pure ASGI (not BaseHTTPMiddleware), so streamed downloads and background tasks pass through untouched.
A response that sets a header itself keeps it: pages send their own Content-Security-Policy with a
nonce, and the API reference its own. Everything else gets a policy that allows nothing at all.
`Cache-Control: no-store` goes on everything but the public static files (GOV.UK Frontend, Swagger UI):
every other answer may carry review data, including the calendar feed and error bodies.
"""
from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import get_settings

STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=31536000; includeSubDomains"
PUBLIC_STATIC = ("/static/", "/assets/")

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # For browsers that predate CSP's frame-ancestors.
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def is_https(scope: Scope) -> bool:
    """Over HTTPS, or behind a proxy that ends HTTPS (DHR_BASE_URL says https): as the session cookie decides."""
    return scope.get("scheme") == "https" or get_settings().base_url.startswith("https://")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        https = is_https(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", STRICT_CSP)
                if not path.startswith(PUBLIC_STATIC):
                    headers["Cache-Control"] = "no-store"
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
