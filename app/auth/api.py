"""Sign-in, sign-out, and user administration."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import select

from app.auth import service
from app.auth.deps import AdminPrincipal, CurrentPrincipal
from app.auth.models import User
from app.auth.schemas import TokenOut, UserBrief, UserIn, UserOut, UserPatch
from app.core.api import ErrorBody, Page, PagingDep, SessionDep, count_rows
from app.core.errors import Forbidden, NotFound

router = APIRouter(tags=["auth and users"])


WRONG_SIGN_IN = "The email or password is wrong, or the account is disabled. Check them and try again."


@router.post(
    "/auth/token",
    response_model=TokenOut,
    responses={
        401: {"model": ErrorBody, "description": "Wrong email or password, or a disabled account"},
        423: {"model": ErrorBody, "description": "Locked after too many failed sign-ins: wait (Retry-After) or ask an administrator"},
        429: {"model": ErrorBody, "description": "A few failed sign-ins in a row: wait the Retry-After seconds"},
    },
)
def sign_in(
    session: SessionDep,
    username: Annotated[str, Form(max_length=254, description="Your email address")],
    password: Annotated[str, Form(max_length=256)],
) -> TokenOut | JSONResponse:
    """Answers alike whether or not the email has an account. Refusals are returned, not raised, so
    the failure count they add is committed."""
    outcome = service.sign_in(session, email=username, password=password)
    if outcome.held is not None:
        held = outcome.held
        return JSONResponse(
            {"detail": held.message(), **held.extra()}, status_code=held.status_code,
            headers={"Retry-After": str(held.seconds)},
        )
    if outcome.token is None:
        return JSONResponse({"detail": WRONG_SIGN_IN}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return TokenOut(access_token=outcome.token, expires_at=outcome.row.expires_at)


@router.post("/auth/revoke", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(request: Request, session: SessionDep, principal: CurrentPrincipal) -> None:
    """Revoke the token used for this request."""
    service.revoke(session, request.state.token_id)


@router.get("/auth/me", response_model=UserOut)
def me(principal: CurrentPrincipal) -> User:
    return principal.user


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserIn, session: SessionDep, admin: AdminPrincipal) -> User:
    return service.create_user(
        session, email=body.email, name=body.name, password=body.password, roles=body.roles, actor=admin.user
    )


@router.get("/users", response_model=Page[UserBrief])
def list_users(
    session: SessionDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
    email: Annotated[str | None, Query(max_length=254)] = None,
) -> dict:
    """Administrators and CSP officers look people up to add them to a panel."""
    if not (principal.is_admin or principal.csp_roles):
        raise Forbidden("Only administrators and CSP officers may look up users.")
    query = select(User)
    if email:
        query = query.where(User.email == email.strip().lower())
    total = count_rows(session, query)
    items = session.scalars(query.order_by(User.email).limit(paging.limit).offset(paging.offset)).all()
    return {"items": items, "total": total}


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: str, session: SessionDep, admin: AdminPrincipal) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("The user")
    return user


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(user_id: str, body: UserPatch, session: SessionDep, admin: AdminPrincipal) -> User:
    """Rename, disable (ending every token at once), re-enable, unlock after failed sign-ins
    (unlock_sign_in; re-enabling unlocks too) or change the roles of a user."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("The user")
    return service.update_user(
        session, user, name=body.name, is_active=body.is_active, roles=body.roles, actor=admin.user,
        unlock_sign_in=bool(body.unlock_sign_in),
    )
