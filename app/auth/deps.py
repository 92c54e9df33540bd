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
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_digest(token.strip()))).one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
        raise NotSignedIn("Your token is unknown, expired or revoked: sign in again at POST /api/v1/auth/token.")
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
