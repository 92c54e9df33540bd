"""Who receives a message: the workflow names roles; this turns them into addresses for one review.

Partnership roles are the CSP's chair and coordinator; panel roles come from the review's panel;
agency roles belong to the agency of the IMR or action concerned (with the agency's own address when
none of its staff holds the role). When no one at all holds the roles, the partnership's coordinators
receive it, so that no alert silently goes nowhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import String, and_, literal, or_, select, union_all
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


@dataclass(frozen=True)
class AgencyContact:
    name: str
    email: str


class Directory:
    """Who holds which of some roles for one review, read in one query (partnership, agency and national
    roles, and the review's panel) and then answered from memory: a sweep addressing many alerts of one
    review asks once, and `for_reviews` reads it for many reviews in one query. Each role's holders keep
    the order of their addresses, as one query per role gave. `agencies`, when the caller has read them
    already, saves looking each agency up."""

    def __init__(
        self, session: Session, review: Review, *, roles: Iterable[str], agency_ids: Iterable[str] = (),
        agencies: dict[str, AgencyContact | None] | None = None, holders: _Holders | None = None,
    ):
        self._session = session
        self._review = review
        self._agencies = dict(agencies or {})
        self._holders = holders or _Holders(_read_holders(session, [review], roles, agency_ids))

    @classmethod
    def for_reviews(
        cls, session: Session, reviews: list[Review], *, roles: Iterable[str], agency_ids: Iterable[str] = (),
        agencies: dict[str, AgencyContact | None] | None = None,
    ) -> dict[str, Directory]:
        """Each review's directory, read for them all in one query."""
        holders = _Holders(_read_holders(session, reviews, roles, agency_ids))
        return {review.id: cls(session, review, roles=roles, agencies=agencies, holders=holders) for review in reviews}

    def holders(self, role: str, agency_id: str | None = None) -> list[tuple[str, str]]:
        """(user id, address) of each active holder of the role for this review (and agency)."""
        if role in PANEL_ROLES:
            return self._holders.get("panel", PANEL_ROLES[role], self._review.id)
        if role in CSP_ROLES:
            return self._holders.get("role", role, self._review.csp_id)
        if role in AGENCY_ROLES:
            return self._holders.get("role", role, agency_id) if agency_id else []
        return self._holders.get("role", role, None)  # national

    def agency(self, agency_id: str | None) -> AgencyContact | None:
        if not agency_id:
            return None
        if agency_id not in self._agencies:
            agency = self._session.get(Agency, agency_id)
            self._agencies[agency_id] = AgencyContact(agency.name, agency.email) if agency else None
        return self._agencies[agency_id]


class _Holders:
    """The rows _read_holders found, by who they are for: a partnership role by its partnership, an agency
    role by its agency, a panel role by its review, a national role by itself; each in address order."""

    def __init__(self, rows: list) -> None:
        self._by: dict[tuple[str, str, str | None], list[tuple[str, str]]] = {}
        for row in rows:
            if row.source == "panel" or row.role in CSP_ROLES:
                where = row.scope
            elif row.role in AGENCY_ROLES:
                where = row.agency_id
            else:
                where = None
            self._by.setdefault((row.source, row.role, where), []).append((row.user_id, row.email))

    def get(self, source: str, role: str, where: str | None) -> list[tuple[str, str]]:
        return list(self._by.get((source, role, where), ()))


def _read_holders(session: Session, reviews: list[Review], roles: Iterable[str], agency_ids: Iterable[str]) -> list:
    """The active holders of the roles for these reviews, by address: (source, role, agency_id, scope,
    user_id, email), scope being the partnership of a partnership role and the review of a panel role."""
    roles = set(roles) | {"csp_coordinator"}  # the fallback when no one holds a role
    agency_ids = sorted(set(agency_ids) - {None})
    scopes = []
    if csp_roles := sorted(roles & set(CSP_ROLES)):
        scopes.append(and_(UserRole.role.in_(csp_roles), UserRole.csp_id.in_(sorted({r.csp_id for r in reviews}))))
    if (agency_roles := sorted(roles & set(AGENCY_ROLES))) and agency_ids:
        scopes.append(and_(UserRole.role.in_(agency_roles), UserRole.agency_id.in_(agency_ids)))
    if national := sorted(roles - set(CSP_ROLES) - set(AGENCY_ROLES) - set(PANEL_ROLES)):
        scopes.append(UserRole.role.in_(national))  # home_office: held across the country
    query = (
        select(literal("role").label("source"), UserRole.role, UserRole.agency_id, UserRole.csp_id.label("scope"),
               User.id.label("user_id"), User.email)
        .join(User, UserRole.user_id == User.id)
        .where(User.is_active.is_(True), or_(*scopes))
    )
    if panel_roles := sorted(PANEL_ROLES[r] for r in roles & set(PANEL_ROLES)):
        query = union_all(query, (
            select(literal("panel"), PanelMember.role, literal(None, String), PanelMember.review_id, User.id, User.email)
            .join(User, PanelMember.user_id == User.id)
            .where(PanelMember.review_id.in_(sorted(r.id for r in reviews)), PanelMember.role.in_(panel_roles), User.is_active.is_(True))
        ))
    return session.execute(query.order_by("email")).all()


def resolve(
    session: Session, *, review: Review, roles: list[str], agency_id: str | None = None, exclude_user_id: str | None = None,
    directory: Directory | None = None,
) -> list[Recipient]:
    """One recipient per address, in the order of the roles, each with every role that brought them.
    A `directory` read before for this review (with these roles and agency) saves reading it again."""
    directory = directory or Directory(session, review, roles=roles, agency_ids=[agency_id] if agency_id else [])
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
        for user_id, email in directory.holders(role, agency_id):
            add(email, user_id, role)
    agency_roles = [r for r in roles if r in AGENCY_ROLES]
    if agency_roles and agency_id and not any(set(v[2]) & set(agency_roles) for v in found.values()):
        agency = directory.agency(agency_id)
        if agency is not None and agency.email:
            add(agency.email, None, "agency")
    if not found and not excluded:
        for user_id, email in directory.holders("csp_coordinator"):
            add(email, user_id, "fallback")
    return [Recipient(address=a, user_id=u, roles=tuple(r)) for a, u, r in found.values()]
