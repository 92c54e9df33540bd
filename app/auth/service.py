"""Users and tokens: creation, sign-in, revocation. Every change leaves a history row."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth import throttle
from app.auth.models import AGENCY_ROLES, CSP_ROLES, ApiToken, User, UserRole
from app.auth.schemas import RoleIn
from app.auth.security import hash_password, new_token, password_problem, token_digest, verify_password
from app.core import clock
from app.core.config import get_settings
from app.core.errors import Conflict, Invalid
from app.partnerships.models import Agency, Csp


def check_roles(session: Session, roles: list[RoleIn]) -> list[RoleIn]:
    problems = []
    for i, role in enumerate(roles):
        if role.role in CSP_ROLES:
            if not role.csp_id or session.get(Csp, role.csp_id) is None:
                problems.append(f"roles[{i}]: {role.role} needs the csp_id of an existing partnership")
            if role.agency_id:
                problems.append(f"roles[{i}]: {role.role} takes a csp_id, not an agency_id")
        elif role.role in AGENCY_ROLES:
            if not role.agency_id or session.get(Agency, role.agency_id) is None:
                problems.append(f"roles[{i}]: {role.role} needs the agency_id of an existing agency")
            if role.csp_id:
                problems.append(f"roles[{i}]: {role.role} takes an agency_id, not a csp_id")
        elif role.csp_id or role.agency_id:
            problems.append(f"roles[{i}]: {role.role} is national: give neither csp_id nor agency_id")
    if problems:
        raise Invalid("The roles are not valid: " + "; ".join(problems) + ".", errors=problems)
    return roles


def create_user(session: Session, *, email: str, name: str, password: str, roles: list[RoleIn], actor: User | None) -> User:
    email = email.strip().lower()
    problem = password_problem(password, user_inputs=(email, name))
    if problem:
        raise Invalid(f"The password is too weak: {problem}.")
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Conflict(f"A user with the email {email} already exists: update that user instead.")
    check_roles(session, roles)
    user = User(email=email, name=name.strip(), password_hash=hash_password(password))
    user.roles = [UserRole(role=r.role, csp_id=r.csp_id, agency_id=r.agency_id) for r in roles]
    session.add(user)
    session.flush()
    audit.record(
        session, review=None, entity_type="user", entity_id=user.id, event="create_user", actor=actor,
        data={"roles": [r.model_dump() for r in roles]},
    )
    return user


def update_user(
    session: Session, user: User, *, name: str | None, is_active: bool | None, roles: list[RoleIn] | None, actor: User,
    unlock_sign_in: bool = False,
) -> User:
    re_enabled = is_active is True and not user.is_active
    changes = audit.diff(user, {k: v for k, v in {"name": name, "is_active": is_active}.items() if v is not None})
    if roles is not None:
        check_roles(session, roles)
        changes["roles"] = [[r.role for r in user.roles], [r.role for r in roles]]
        user.roles = [UserRole(role=r.role, csp_id=r.csp_id, agency_id=r.agency_id) for r in roles]
    if is_active is False:
        revoke_all(session, user)
    audit.record(session, review=None, entity_type="user", entity_id=user.id, event="update_user", actor=actor, changes=changes)
    # Re-enabling an account, or the administrator's unlock, ends a lock from failed sign-ins.
    failures = user.failed_sign_ins
    if (unlock_sign_in or re_enabled) and unlock(session, user):
        audit.record(session, review=None, entity_type="user", entity_id=user.id, event="unlock_sign_in", actor=actor,
                     data={"failed_sign_ins": failures, "because": "unlock" if unlock_sign_in else "re-enabled"})
    return user


@dataclass
class SignInOutcome:
    """A token (signed in), a wait or lock in force (held), or neither (wrong, unknown or disabled)."""

    token: str | None = None
    row: ApiToken | None = None
    held: throttle.Held | None = None


@lru_cache
def _decoy_hash() -> str:
    # An unknown address is checked against this, so it takes as long as a known one to refuse.
    return hash_password(new_token())


def sign_in(session: Session, *, email: str, password: str, web: bool = False) -> SignInOutcome:
    """Check a sign-in; count a failure (the caller must commit it: it answers without raising)."""
    email = email.strip().lower()
    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    state = throttle.state_for(session, email, user)
    held = throttle.held(state)
    if held is not None:
        return SignInOutcome(held=held)
    right = verify_password(user.password_hash if user is not None else _decoy_hash(), password)
    if user is None or not right or not user.is_active:
        throttle.record_failure(session, state)
        # The failure that locks the account says so at once; a wrong password otherwise says only that.
        held = throttle.held(state)
        return SignInOutcome(held=held if held is not None and held.locked else None)
    throttle.record_success(user)
    settings = get_settings()
    minutes = settings.session_absolute_minutes if web else settings.token_ttl_minutes
    token = new_token()
    row = ApiToken(
        user_id=user.id,
        token_hash=token_digest(token),
        expires_at=clock.now() + dt.timedelta(minutes=minutes),
        last_used_at=clock.wall_now(),
    )
    session.add(row)
    return SignInOutcome(token=token, row=row)


def unlock(session: Session, user: User) -> bool:
    """End a lock or wait from failed sign-ins; True when there was one to end."""
    had = user.failed_sign_ins > 0 or user.locked_until is not None
    throttle.record_success(user)
    return had


def revoke(session: Session, token_id: str) -> None:
    row = session.get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock.now()


def revoke_all(session: Session, user: User) -> None:
    for row in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        row.revoked_at = clock.now()
