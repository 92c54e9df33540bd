"""The web session: a cookie holding a sign-in token (an ApiToken row), and CSRF tokens for forms.

The cookie is HttpOnly and SameSite=Lax always, and Secure when the service is reached over HTTPS.
Each form carries a CSRF token: an HMAC of a random per-browser cookie and the session, checked on
every POST, so a page elsewhere cannot make a signed-in browser act.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response

from app.auth.access import Principal
from app.auth.deps import NotSignedIn, principal_for_token
from app.core.config import get_settings

SESSION_COOKIE = "dhr_session"
CSRF_COOKIE = "dhr_csrf"
FLASH_COOKIE = "dhr_flash"
# Why a session ended, as the sign-in page's `ended` parameter: only these, never free text.
TIMED_OUT = ("idle", "expired")


class SignInRequired(Exception):
    """Raised by a page that needs a signed-in person; answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRejected(Exception):
    """A form arrived without the token of the page that showed it."""


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or get_settings().base_url.startswith("https://")


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=is_https(request)
    )


def web_principal(request: Request, session) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return principal_for_token(session, request, token, "sign in again", idle_minutes=get_settings().session_idle_minutes)
    except NotSignedIn as exc:
        # The sign-in page says why, when the session timed out (idle or expired).
        request.state.session_ended = exc.reason
        return None


def safe_next(path: str | None) -> str:
    """Only a path on this site: never an address elsewhere (an open redirect)."""
    if not path:
        return "/"
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _csrf_seed(request: Request) -> str:
    seed = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_seed", None)
    if not seed:
        seed = secrets.token_urlsafe(32)
        request.state.csrf_seed = seed
        request.state.csrf_seed_is_new = True
    return seed


def csrf_token(request: Request) -> str:
    """The token for forms on this page; bound to this browser and to its sign-in."""
    seed = _csrf_seed(request)
    bound = f"{seed}|{request.cookies.get(SESSION_COOKIE, '')}"
    return hmac.new(get_settings().secret_key.encode(), bound.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, submitted: str | None) -> None:
    if not request.cookies.get(CSRF_COOKIE) or not submitted or not hmac.compare_digest(submitted, csrf_token(request)):
        raise CsrfRejected()


def finish(request: Request, response: Response) -> Response:
    """Set the CSRF cookie when this page made a new one."""
    if getattr(request.state, "csrf_seed_is_new", False):
        set_cookie(request, response, CSRF_COOKIE, request.state.csrf_seed)
    return response
