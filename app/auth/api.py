"""Sign-in, sign-out, and user administration."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status
from sqlalchemy import func, select

from app.auth import service
from app.auth.deps import AdminPrincipal, CurrentPrincipal, NotSignedIn
from app.auth.models import User
from app.auth.schemas import TokenOut, UserBrief, UserIn, UserOut, UserPatch
from app.core.api import Page, PagingDep, SessionDep
from app.core.errors import Forbidden, NotFound

router = APIRouter(tags=["auth and users"])


@router.post("/auth/token", response_model=TokenOut)
def sign_in(
    session: SessionDep,
    username: Annotated[str, Form(max_length=254, description="Your email address")],
    password: Annotated[str, Form(max_length=256)],
) -> TokenOut:
    result = service.sign_in(session, email=username, password=password)
    if result is None:
        raise NotSignedIn("The email or password is wrong, or the account is disabled. Check them and try again.")
    token, row = result
    return TokenOut(access_token=token, expires_at=row.expires_at)


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
    total = session.scalar(select(func.count()).select_from(query.subquery()))
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
    """Rename, disable (ending every token at once) or change the roles of a user."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("The user")
    return service.update_user(session, user, name=body.name, is_active=body.is_active, roles=body.roles, actor=admin.user)
