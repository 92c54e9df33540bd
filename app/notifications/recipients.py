"""Who receives a message: the workflow names roles; this turns them into addresses for one review.

Partnership roles are the CSP's chair and coordinator; panel roles come from the review's panel;
agency roles belong to the agency of the IMR or action concerned (with the agency's own address when
none of its staff holds the role). When no one at all holds the roles, the partnership's coordinators
receive it, so that no alert silently goes nowhere.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import AGENCY_ROLES, CSP_ROLES, User, UserRole
from app.panel.models import PanelMember
from app.partnerships.models import Agency
from app.reviews.models import Review

PANEL_ROLES = {"panel_chair": "chair", "panel_member": "member"}
ROLE_NAMES = {
    "csp_chair": "chair of the Community Safety Partnership",
    "csp_coordinator": "partnership's DHR coordinator",
    "panel_chair": "chair of the review panel",
    "panel_member": "member of the review panel",
    "imr_author": "IMR author for your agency",
    "agency_manager": "senior manager for your agency",
    "home_office": "Home Office Quality Assurance Panel",
    "agency": "agency's contact for this review",
    "fallback": "partnership's DHR coordinator (no one holds the role this message is for)",
}


@dataclass(frozen=True)
class Recipient:
    address: str
    user_id: str | None
    roles: tuple[str, ...]  # why this person receives it, for the message's last line

    @property
    def key(self) -> str:
        return recipient_key(self.address, self.user_id)


def recipient_key(address: str, user_id: str | None) -> str:
    """One email per person: by account, or by address for an agency's own mailbox."""
    return user_id or address.lower()


def _users_with(session: Session, role: str, *, csp_id: str | None = None, agency_id: str | None = None) -> list[User]:
    query = select(User).join(UserRole, UserRole.user_id == User.id).where(UserRole.role == role, User.is_active.is_(True))
    if role in CSP_ROLES:
        query = query.where(UserRole.csp_id == csp_id)
    elif role in AGENCY_ROLES:
        query = query.where(UserRole.agency_id == agency_id)
    return list(session.scalars(query.order_by(User.email)))


def _panel(session: Session, review_id: str, role: str) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(PanelMember, PanelMember.user_id == User.id)
            .where(PanelMember.review_id == review_id, PanelMember.role == PANEL_ROLES[role], User.is_active.is_(True))
            .order_by(User.email)
        )
    )


def resolve(
    session: Session, *, review: Review, roles: list[str], agency_id: str | None = None, exclude_user_id: str | None = None
) -> list[Recipient]:
    """One recipient per address, in the order of the roles, each with every role that brought them."""
    found: dict[str, tuple[str, str | None, list[str]]] = {}
    excluded: list[str] = []

    def add(address: str, user_id: str | None, role: str) -> None:
        key = recipient_key(address, user_id)
        if user_id is not None and user_id == exclude_user_id:
            excluded.append(role)  # they did it themselves: they need no email about it
            return
        entry = found.setdefault(key, (address, user_id, []))
        if role not in entry[2]:
            entry[2].append(role)

    for role in roles:
        if role in CSP_ROLES:
            users = _users_with(session, role, csp_id=review.csp_id)
        elif role in PANEL_ROLES:
            users = _panel(session, review.id, role)
        elif role in AGENCY_ROLES:
            users = _users_with(session, role, agency_id=agency_id) if agency_id else []
        else:  # home_office: a national role
            users = _users_with(session, role)
        for user in users:
            add(user.email, user.id, role)
    agency_roles = [r for r in roles if r in AGENCY_ROLES]
    if agency_roles and agency_id and not any(set(v[2]) & set(agency_roles) for v in found.values()):
        agency = session.get(Agency, agency_id)
        if agency is not None and agency.email:
            add(agency.email, None, "agency")
    if not found and not excluded:
        for user in _users_with(session, "csp_coordinator", csp_id=review.csp_id):
            add(user.email, user.id, "fallback")
    return [Recipient(address=a, user_id=u, roles=tuple(r)) for a, u, r in found.values()]
