"""Reviews as a listing shows them: reference, stage, notification date and the next open deadline.

A listing shows one deadline of each review, so it reads that one in SQL rather than building every
deadline of every review as the API's full ReviewOut does (some thirty each, with their extensions).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from app.auth.access import Principal, deadline_visibility
from app.core.api import Paging
from app.deadlines.models import Deadline
from app.deadlines.rules import status_of
from app.reviews import service as reviews_service
from app.reviews.models import Review
from app.workflow import engine


@dataclass(frozen=True)
class DeadlineRow:
    """What a listing shows of a deadline (rag() reads status and days_left)."""

    title: str
    due_on: dt.date
    status: str
    days_left: int


@dataclass(frozen=True)
class ReviewRow:
    """What _review_table.html shows of a review: `deadlines` holds its next open deadline, if any."""

    id: str
    reference: str
    state: str
    state_title: str
    notified_on: dt.date
    submitted_on: dt.date | None
    deadlines: list[DeadlineRow]


def deadline_row(review: Review, deadline: Any, today: dt.date) -> DeadlineRow:
    rule = engine.review_definition(review).deadlines.get(deadline.kind)
    return DeadlineRow(title=rule.title if rule else deadline.kind, due_on=deadline.due_on, status=status_of(deadline, today),
                       days_left=(deadline.due_on - today).days)


# A listing needs a review's own columns, not every deadline and proceeding the model eager-loads.
OWN_COLUMNS_ONLY = (lazyload(Review.deadlines), lazyload(Review.proceedings))


def without_collections(query) -> Any:
    return query.options(*OWN_COLUMNS_ONLY)


def review_rows(session: Session, principal: Principal, reviews: list[Review], today: dt.date, with_next_deadline: bool = True) -> list[ReviewRow]:
    """Each review with its next open deadline that this person may see, in one query for them all."""
    ids = [r.id for r in reviews]
    soonest: dict[str, Any] = {}
    if ids and with_next_deadline:
        query = (select(Deadline.review_id, Deadline.kind, Deadline.due_on, Deadline.met_on, Deadline.waived_on)
                 .where(Deadline.review_id.in_(ids), Deadline.is_open).order_by(Deadline.due_on, Deadline.kind))
        if principal.agency_roles:
            # Agency staff see only their own IMRs' and actions' deadlines (as the review itself shows them).
            query = query.join(Review, Review.id == Deadline.review_id).where(deadline_visibility(principal))
        for d in session.execute(query).all():
            soonest.setdefault(d.review_id, d)
    return [
        ReviewRow(id=r.id, reference=r.reference, state=r.state, state_title=engine.review_definition(r).state(r.state).title,
                  notified_on=r.notified_on, submitted_on=r.submitted_on,
                  deadlines=[deadline_row(r, soonest[r.id], today)] if r.id in soonest else [])
        for r in reviews
    ]


def listed(session: Session, principal: Principal, paging: Paging, today: dt.date, *, state: str | None, csp_id: str | None,
           overdue: bool | None) -> tuple[list[ReviewRow], int]:
    """One page of the reviews GET /reviews lists (the same reviews, filters and order), and how many there are."""
    reviews, total = reviews_service.listed_page(session, principal, paging, state=state, csp_id=csp_id, overdue=overdue, today=today,
                                                 options=OWN_COLUMNS_ONLY)
    return review_rows(session, principal, reviews, today), total
