"""Who is calling: a bearer token (API) resolved to a Principal with scoped roles."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from app.auth.access import Principal
from app.auth.models import ApiToken, User
from app.auth.security import token_digest
from app.core import clock
from app.core.api import SessionDep
from app.core.errors import DomainError, Forbidden


class NotSignedIn(DomainError):
    status_code = 401


def current_principal(request: Request, session: SessionDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotSignedIn(
            "You are not signed in: get a token from POST /api/v1/auth/token and send it as "
            "'Authorization: Bearer <token>'.",
        )
    return principal_for_token(session, request, token.strip(), "sign in again at POST /api/v1/auth/token")


def principal_for_token(session, request: Request, token: str, how_to_sign_in: str) -> Principal:
    """The person a bearer token or web session cookie belongs to (both are ApiToken rows)."""
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
        raise NotSignedIn(f"Your sign-in is unknown, expired or revoked: {how_to_sign_in}.")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise NotSignedIn("Your account is disabled: ask your administrator.")
    request.state.token_id = row.id
    return Principal.of(user)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_admin(principal: CurrentPrincipal) -> Principal:
    if not principal.is_admin:
        raise Forbidden("Only an administrator may manage partnerships, agencies and users.")
    return principal


AdminPrincipal = Annotated[Principal, Depends(require_admin)]
