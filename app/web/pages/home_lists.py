"""The home page's lists: each reads its most urgent few rows and the count of all of them in SQL, so a
home page costs the same for a partnership with five reviews as for the Home Office with thousands."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, lazyload

from app.auth.access import Principal, review_visibility
from app.core.api import count_rows
from app.deadlines.models import Deadline
from app.imrs.models import Imr
from app.panel.models import PanelMember
from app.partnerships.models import Agency
from app.reviews.models import Review
from app.web.pages.review_rows import ReviewRow, deadline_row, review_rows, without_collections
from app.workflow import engine
from app.workflow.registry import get_registry

HOME_ROWS = 20  # rows of each home-page list; the rest are one link away
STAGE_ROWS = 10  # rows of each stage of the coordinator's open reviews
CLOSED_REVIEW_STATES = ("concluded", "not_reviewed")


@dataclass(frozen=True)
class Shown:
    """The rows a list shows and how many there are in all."""

    rows: list
    total: int

    @property
    def more(self) -> bool:
        return self.total > len(self.rows)


def _next_due():
    """The review's soonest open deadline (none once everything is met or waived): the most urgent first."""
    return select(func.min(Deadline.due_on)).where(Deadline.review_id == Review.id, Deadline.is_open).scalar_subquery()


def awaiting_decision(session: Session, principal: Principal, csp_ids: set[str], today: dt.date) -> Shown:
    """Notifications in the chair's partnerships, the soonest decision due first."""
    query = (select(Review, Deadline).outerjoin(Deadline, (Deadline.review_id == Review.id) & (Deadline.kind == "decision"))
             .where(review_visibility(principal), Review.csp_id.in_(list(csp_ids)), Review.state == "notified"))
    rows = session.execute(without_collections(query).options(lazyload(Deadline.extensions))
                           .order_by(func.coalesce(Deadline.due_on, today), Review.reference).limit(HOME_ROWS)).all()
    return Shown(rows=[(r, deadline_row(r, d, today) if d else None) for r, d in rows], total=count_rows(session, query))


def open_reviews_by_stage(session: Session, principal: Principal, csp_ids: set[str], today: dt.date) -> list[tuple[str, Shown]]:
    """The coordinator's open reviews by stage, in the workflow's order: each stage's most urgent few and its count."""
    where = (review_visibility(principal), Review.csp_id.in_(list(csp_ids)), Review.state.not_in(CLOSED_REVIEW_STATES))
    counts = dict(session.execute(select(Review.state, func.count()).where(*where).group_by(Review.state)).all())
    if not counts:
        return []
    next_due = _next_due()
    ranked = select(Review.id.label("id"), func.row_number().over(
        partition_by=Review.state, order_by=(next_due.is_(None), next_due, Review.reference)).label("rank")).where(*where).subquery()
    reviews = session.scalars(without_collections(select(Review).join(ranked, ranked.c.id == Review.id))
                              .where(ranked.c.rank <= STAGE_ROWS).order_by(Review.state, ranked.c.rank)).all()
    by_stage: dict[str, list[ReviewRow]] = {}
    for row in review_rows(session, principal, list(reviews), today):
        by_stage.setdefault(row.state, []).append(row)
    order = [s.name for s in engine.review_definition(reviews[0]).states] if reviews else []
    stages = sorted(counts, key=lambda s: order.index(s) if s in order else len(order))
    return [(state, Shown(rows=by_stage.get(state, []), total=counts[state])) for state in stages]


def _chaired_ids(principal: Principal):
    return select(PanelMember.review_id).where(PanelMember.user_id == principal.id, PanelMember.role == "chair")


def chaired_reviews(session: Session, principal: Principal, today: dt.date) -> Shown:
    """The reviews this person chairs: those with the soonest open deadline first, finished ones last."""
    query = select(Review).where(review_visibility(principal), Review.id.in_(_chaired_ids(principal)))
    next_due = _next_due()
    reviews = session.scalars(without_collections(query).order_by(next_due.is_(None), next_due, Review.notified_on.desc(), Review.reference)
                              .limit(HOME_ROWS)).all()
    if not reviews:  # most people chair nothing: no count to run
        return Shown(rows=[], total=0)
    return Shown(rows=review_rows(session, principal, list(reviews), today), total=count_rows(session, query))


def _finished_imr_states() -> list[str]:
    registry = get_registry()
    names = {d.imr_workflow for d in registry.all() if d.imr_workflow}
    return sorted({s.name for d in registry.all() if d.name in names for s in d.states if s.final})


def _imrs(session: Session, where, today: dt.date) -> Shown:
    """IMRs still being written or read first, the soonest due first; accepted ones after them."""
    query = select(Imr, Agency.name, Review.reference).join(Agency, Agency.id == Imr.agency_id).join(Review, Review.id == Imr.review_id).where(where)
    finished = case((Imr.state.in_(_finished_imr_states()), 1), else_=0)
    rows = session.execute(query.order_by(finished, Imr.due_on, Review.reference, Agency.name).limit(HOME_ROWS)).all()
    late = [(imr, agency, reference, max(0, ((imr.submitted_on or today) - imr.due_on).days)) for imr, agency, reference in rows]
    return Shown(rows=late, total=count_rows(session, query))


def imr_tracker(session: Session, principal: Principal, today: dt.date) -> Shown:
    """The IMRs of every review this person chairs."""
    return _imrs(session, Imr.review_id.in_(_chaired_ids(principal)), today)


def agency_imrs(session: Session, principal: Principal, today: dt.date) -> Shown:
    """The IMRs of the agencies this person works for."""
    return _imrs(session, Imr.agency_id.in_(list(principal.agency_roles)), today)


def home_office_queue(session: Session, principal: Principal, states: tuple[str, ...], today: dt.date) -> tuple[Shown, dict[str, int]]:
    """Reviews with the Home Office or back with the CSP after QA, the longest waiting first, and how many are at each stage."""
    where = (review_visibility(principal), Review.state.in_(states))
    reviews = session.scalars(without_collections(select(Review).where(*where))
                              .order_by(Review.submitted_on.is_(None), Review.submitted_on, Review.reference).limit(HOME_ROWS)).all()
    counts = dict(session.execute(select(Review.state, func.count()).where(*where).group_by(Review.state)).all())
    rows = [(row, (today - row.submitted_on).days if row.submitted_on else 0) for row in review_rows(session, principal, list(reviews), today, with_next_deadline=False)]
    return Shown(rows=rows, total=sum(counts.values())), {state: counts.get(state, 0) for state in states}
