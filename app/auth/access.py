"""Who may see and do what: scoped roles resolved per review, IMR and action.

Global roles are scoped to a partnership (csp_*) or an agency (imr_author, agency_manager);
panel roles are per review. Anything outside a person's scope answers 404, never 403.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, or_, select, union
from sqlalchemy.orm import Session

from app.actions.models import Action
from app.auth.models import AGENCY_ROLES, CSP_ROLES, User
from app.core.sql_among import among
from app.deadlines.models import Deadline
from app.imrs.models import Imr
from app.panel.models import PanelMember
from app.reviews.models import Review

# Roles that may read each part of a review. Agency roles count only for their own agency's
# IMRs and the actions their agency leads (see roles_for_imr / roles_for_action).
CASE_TEAM = {"csp_chair", "csp_coordinator", "panel_chair", "panel_member"}
CAN = {
    "review.read": CASE_TEAM | {"home_office", "imr_author", "agency_manager"},
    "review.history": CASE_TEAM | {"home_office"},
    "review.create": {"csp_coordinator", "csp_chair"},
    "review.describe": {"csp_coordinator", "csp_chair", "panel_chair"},
    "people.read": CASE_TEAM | {"imr_author", "agency_manager"},
    "people.write": {"csp_coordinator", "csp_chair", "panel_chair"},
    "panel.read": CASE_TEAM | {"home_office"},
    "panel.write": {"csp_coordinator", "csp_chair"},
    "terms.read": CASE_TEAM | {"home_office", "imr_author", "agency_manager"},
    "terms.write": {"panel_chair", "csp_coordinator"},
    "imrs.read_all": CASE_TEAM,
    "imrs.commission": {"panel_chair", "csp_coordinator"},
    "imr.read": CASE_TEAM | {"imr_author", "agency_manager"},
    "imr.write": {"imr_author", "agency_manager"},
    "chronology.combined": CASE_TEAM | {"home_office"},
    "overview.read": CASE_TEAM | {"home_office"},
    "overview.write": {"panel_chair"},
    "recommendations.read": CASE_TEAM | {"home_office"},
    "recommendations.write": {"panel_chair"},
    "action.read": CASE_TEAM | {"home_office", "agency_manager"},
    "readiness.read": CASE_TEAM | {"home_office"},
    # Documents: the reports (overview, executive summary, action plan) go to the Home Office too;
    # IMR documents follow the IMR's own roles (roles_for_imr).
    "documents.list": CASE_TEAM | {"home_office", "imr_author", "agency_manager"},
    "documents.reports.read": CASE_TEAM | {"home_office"},
    "documents.reports.generate": {"panel_chair", "csp_chair", "csp_coordinator"},
    "documents.decision_letter.read": CASE_TEAM,
    "documents.decision_letter.generate": {"csp_chair", "csp_coordinator"},
    "documents.imr.read": CASE_TEAM | {"imr_author", "agency_manager"},
    "documents.imr.generate": {"panel_chair", "imr_author", "agency_manager"},
    "documents.imr_commission_letter.read": CASE_TEAM | {"imr_author", "agency_manager"},
    "documents.imr_commission_letter.generate": {"panel_chair", "csp_chair", "csp_coordinator"},
    "documents.imr.upload": {"imr_author", "agency_manager"},
    "documents.home_office_cover_letter.read": {"csp_chair", "csp_coordinator", "home_office"},
    "documents.home_office_cover_letter.generate": {"csp_chair", "csp_coordinator"},
    "templates.manage": {"csp_chair", "csp_coordinator"},
    "proceedings.read": CASE_TEAM | {"home_office"},
    "proceedings.write": {"csp_coordinator", "csp_chair", "panel_chair"},
    # The Home Office package: the CSP sends it, the QA panel receives it (8.19, 11.1).
    "submissions.read": {"csp_chair", "csp_coordinator", "home_office"},
    "qa_letter.attach": {"csp_chair", "csp_coordinator", "home_office"},
    "qa_changes.read": {"csp_chair", "csp_coordinator", "panel_chair", "home_office"},
    "qa_changes.mark": {"csp_chair", "csp_coordinator", "panel_chair"},
    # Legal holds keep a review past its retention period: the case team sees them, the CSP's officers decide.
    "legal_holds.read": CASE_TEAM,
    "legal_holds.write": {"csp_chair", "csp_coordinator"},
}


@dataclass
class Principal:
    user: User
    csp_roles: dict[str, set[str]] = field(default_factory=dict)
    agency_roles: dict[str, set[str]] = field(default_factory=dict)
    global_roles: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, user: User) -> "Principal":
        principal = cls(user=user)
        for role in user.roles:
            if role.role in CSP_ROLES and role.csp_id:
                principal.csp_roles.setdefault(role.csp_id, set()).add(role.role)
            elif role.role in AGENCY_ROLES and role.agency_id:
                principal.agency_roles.setdefault(role.agency_id, set()).add(role.role)
            else:
                principal.global_roles.add(role.role)
        return principal

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        return "admin" in self.global_roles

    @property
    def is_home_office(self) -> bool:
        return "home_office" in self.global_roles

    def agencies_with(self, role: str) -> set[str]:
        return {agency for agency, roles in self.agency_roles.items() if role in roles}


def review_visibility(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause selecting the reviews this person may see (one query, no per-row checks).

    Conditions on the review's own columns (its partnership, its first submission), OR'd with its id
    among those reached through other tables (panel seats, an agency's IMRs and actions). The ids are
    matched with `among` (app/core/sql_among.py), which PostgreSQL combines with the columns' indexes
    in a BitmapOr: a plain `IN (subquery)` in an OR read the whole reviews table, and an `IN (UNION)`
    of every branch hashed all the Home Office's submitted reviews on every list.
    """
    return _visible(principal, _linked_branches(principal) + _agency_branches(principal))


def _case_visibility(principal: Principal) -> ColumnElement[bool]:
    """The reviews visible through a role other than an agency's: CSP, panel or Home Office."""
    return _visible(principal, _linked_branches(principal))


def _visible(principal: Principal, linked: list) -> ColumnElement[bool]:
    conditions = []
    if principal.csp_roles:
        conditions.append(Review.csp_id.in_(list(principal.csp_roles)))
    if principal.is_home_office:
        conditions.append(Review.first_submitted_on.is_not(None))
    conditions.append(among(Review.id, union(*linked) if len(linked) > 1 else linked[0]))
    return or_(*conditions)


def _linked_branches(principal: Principal) -> list:
    """Selects of the review ids visible through a panel seat."""
    return [select(PanelMember.review_id).where(PanelMember.user_id == principal.id)]


def _agency_branches(principal: Principal) -> list:
    """Selects of the reviews an agency's staff see: those with their agency's IMR or an action it leads."""
    if not principal.agency_roles:
        return []
    branches = [select(Imr.review_id).where(Imr.agency_id.in_(list(principal.agency_roles)))]
    managed = list(principal.agencies_with("agency_manager"))
    if managed:
        branches.append(select(Action.review_id).where(Action.lead_agency_id.in_(managed)))
    return branches


def action_visibility(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over actions joined to their reviews: the SQL of may(roles_for_action(...), "action.read").

    Agency staff see a review through their IMR, but of its actions only those their agency leads
    (and only as its manager); every other role that sees a review may read all its actions.
    """
    if not principal.agency_roles:
        return review_visibility(principal)
    readable = [_case_visibility(principal)]
    managed = list(principal.agencies_with("agency_manager"))
    if managed:
        readable.append(Action.lead_agency_id.in_(managed))
    return and_(review_visibility(principal), or_(*readable))


def deadline_visibility(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over deadlines joined to their reviews: the SQL of reviews.service.visible_deadlines.

    Agency staff who see a review only through their agency see the deadlines of their own IMRs and
    actions; anyone with another role on the review sees all of its deadlines.
    """
    if not principal.agency_roles:
        return review_visibility(principal)
    readable = [_case_visibility(principal),
                Deadline.subject_id.in_(select(Imr.id).where(Imr.agency_id.in_(list(principal.agency_roles))))]
    managed = list(principal.agencies_with("agency_manager"))
    if managed:
        readable.append(Deadline.subject_id.in_(select(Action.id).where(Action.lead_agency_id.in_(managed))))
    return and_(review_visibility(principal), or_(*readable))


def roles_on_review(session: Session, principal: Principal, review: Review) -> set[str]:
    """Roles this person holds on this review; an empty set means the review is invisible."""
    return roles_on_reviews(session, principal, [review])[review.id]


def roles_on_reviews(session: Session, principal: Principal, reviews: list[Review]) -> dict[str, set[str]]:
    """Roles per review for a whole page of reviews, in a constant number of queries."""
    ids = [r.id for r in reviews]
    result = {r.id: set(principal.csp_roles.get(r.csp_id, set())) for r in reviews}
    if not ids:
        return result
    for review in reviews:
        if principal.is_home_office and review.first_submitted_on is not None:
            result[review.id].add("home_office")
    for review_id, panel_role in session.execute(
        select(PanelMember.review_id, PanelMember.role).where(PanelMember.review_id.in_(ids), PanelMember.user_id == principal.id)
    ):
        result[review_id].add("panel_chair" if panel_role == "chair" else "panel_member")
    if principal.agency_roles:
        agencies = list(principal.agency_roles)
        involved = set(session.execute(select(Imr.review_id, Imr.agency_id).where(Imr.review_id.in_(ids), Imr.agency_id.in_(agencies))).all())
        managed = list(principal.agencies_with("agency_manager"))
        if managed:
            involved |= set(
                session.execute(
                    select(Action.review_id, Action.lead_agency_id).where(Action.review_id.in_(ids), Action.lead_agency_id.in_(managed))
                ).all()
            )
        for review_id, agency in involved:
            result[review_id] |= principal.agency_roles.get(agency, set())
    return result


def roles_for_imr(review_roles: set[str], principal: Principal, imr: Imr) -> set[str]:
    roles = review_roles - {"imr_author", "agency_manager", "home_office"}
    return roles | principal.agency_roles.get(imr.agency_id, set())


def roles_for_action(review_roles: set[str], principal: Principal, action: Action) -> set[str]:
    roles = review_roles - {"imr_author", "agency_manager"}
    if action.lead_agency_id and "agency_manager" in principal.agency_roles.get(action.lead_agency_id, set()):
        roles.add("agency_manager")
    return roles


def is_agency_only(roles: set[str]) -> bool:
    """Agency staff see only what they need of a review: not its summary or other agencies' work."""
    return bool(roles) and roles <= {"imr_author", "agency_manager"}


def may(roles: set[str], capability: str) -> bool:
    return bool(roles & CAN[capability])
