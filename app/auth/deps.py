"""Who is calling: a bearer token (API) resolved to a Principal with scoped roles."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.auth.access import Principal
from app.auth.models import ApiToken, User
from app.auth.security import token_digest
from app.core import clock
from app.core.api import SessionDep
from app.core.config import get_settings
from app.core.db import get_engine, is_postgres
from app.core.errors import DomainError, Forbidden


class NotSignedIn(DomainError):
    status_code = 401

    def __init__(self, detail: str, *, reason: str = "unknown", **extra) -> None:
        super().__init__(detail, **extra)
        # unknown, expired, idle, revoked or disabled: the sign-in page says why a session ended.
        self.reason = reason


# last_used_at is written at most this often per token, so reads do not each become a write.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def current_principal(request: Request, session: SessionDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotSignedIn(
            "You are not signed in: get a token from POST /api/v1/auth/token and send it as "
            "'Authorization: Bearer <token>'.",
        )
    return principal_for_token(
        session, request, token.strip(), "sign in again at POST /api/v1/auth/token",
        idle_minutes=get_settings().token_idle_minutes,
    )


def principal_for_token(session, request: Request, token: str, how_to_sign_in: str, *, idle_minutes: int) -> Principal:
    """The person a bearer token or web session cookie belongs to (both are ApiToken rows)."""
    # The token, its user and the user's roles in one round trip: every request starts here.
    found = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == token_digest(token))
        .options(joinedload(User.roles))
    ).unique().one_or_none()
    row, user = found if found is not None else (None, None)
    if row is None:
        raise NotSignedIn(f"Your sign-in is unknown, expired or revoked: {how_to_sign_in}.")
    if row.revoked_at is not None:
        raise NotSignedIn(f"Your sign-in was revoked (signed out, or ended by an administrator): {how_to_sign_in}.", reason="revoked")
    if row.expires_at <= clock.now():
        raise NotSignedIn(f"Your sign-in has expired: {how_to_sign_in}.", reason="expired")
    wall = clock.wall_now()
    # A token made without a sign-in (never used yet) starts its idle count at its first use.
    if row.last_used_at is not None and wall - row.last_used_at > dt.timedelta(minutes=idle_minutes):
        raise NotSignedIn(
            f"Your sign-in ended because it was not used for {idle_minutes} minutes: {how_to_sign_in}.", reason="idle"
        )
    if not user.is_active:
        raise NotSignedIn("Your account is disabled: ask your administrator.", reason="disabled")
    if row.last_used_at is None or wall - row.last_used_at >= LAST_USED_PRECISION:
        _touch(session, row, wall)
    request.state.token_id = row.id
    return Principal.of(user)


def _touch(session, row: ApiToken, wall: dt.datetime) -> None:
    """Note the token's use. On PostgreSQL in a transaction of its own, skipped if another request
    holds the row: the request's own transaction (a long document, say) must not keep the token's row
    locked against the person's other requests. SQLite serialises writes anyway: there, in the request's."""
    if not is_postgres(session):
        row.last_used_at = wall
        return
    free = select(ApiToken.id).where(ApiToken.id == row.id).with_for_update(skip_locked=True).scalar_subquery()
    with get_engine().begin() as conn:
        conn.execute(update(ApiToken).where(ApiToken.id == free).values(last_used_at=wall))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_admin(principal: CurrentPrincipal) -> Principal:
    if not principal.is_admin:
        raise Forbidden("Only an administrator may manage partnerships, agencies and users.")
    return principal


AdminPrincipal = Annotated[Principal, Depends(require_admin)]
