"""Reviews: notifications, events, history, the workflow, readiness and deadlines."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from app.audit import service as audit
from app.auth.access import deadline_visibility, is_agency_only, may, roles_on_reviews
from app.auth.deps import CurrentPrincipal
from app.core import clock
from app.core.api import IfMatch, Page, PagingDep, SessionDep, count_rows, etag, require_if_match
from app.core.errors import Conflict
from app.deadlines.models import Deadline
from app.deadlines.rules import status_clause
from app.documents.readiness import run_checks
from app.reviews import service
from app.reviews.models import Review
from app.reviews.schemas import (
    DeadlineOut,
    DeadlineStatus,
    EventIn,
    HistoryOut,
    ReadinessOut,
    ReviewIn,
    ReviewOut,
    ReviewPatch,
    WorkflowOut,
)
from app.workflow import diagram, engine

router = APIRouter(tags=["reviews"])


@router.post("/reviews", response_model=ReviewOut, status_code=status.HTTP_201_CREATED)
def create_review(body: ReviewIn, session: SessionDep, principal: CurrentPrincipal) -> ReviewOut:
    """Record the notification of a death (guidance 4.1-4.3); the decision deadline starts now."""
    review = service.create_review(session, body=body, principal=principal)
    session.flush()
    session.refresh(review)
    roles = principal.csp_roles.get(review.csp_id, set())
    return service.review_out(session, review, principal, roles)


@router.get("/reviews", response_model=Page[ReviewOut])
def list_reviews(
    session: SessionDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
    state: Annotated[str | None, Query(max_length=40)] = None,
    csp_id: Annotated[str | None, Query(max_length=32)] = None,
    overdue: bool | None = None,
) -> dict:
    # The deadlines as plain rows (service.listed_deadlines), not through the relationships a review loads.
    today = clock.today()
    reviews, total = service.listed_page(session, principal, paging, state=state, csp_id=csp_id, overdue=overdue,
                                         today=today, options=(lazyload(Review.deadlines),))
    roles = roles_on_reviews(session, principal, list(reviews))
    agency_only = [r.id for r in reviews if is_agency_only(roles[r.id])]
    mine = service.agency_subjects(session, principal, agency_only) if agency_only else None
    deadlines = service.listed_deadlines(session, reviews, today)
    items = [service.review_out(session, r, principal, roles[r.id], with_events=False, mine=mine, listed=deadlines[r.id]) for r in reviews]
    return {"items": items, "total": total}


@router.get("/reviews/{review_id}", response_model=ReviewOut)
def get_review(review_id: str, response: Response, session: SessionDep, principal: CurrentPrincipal) -> ReviewOut:
    review, roles = service.visible_review(session, principal, review_id)
    response.headers["ETag"] = etag(review.version)
    return service.review_out(session, review, principal, roles)


@router.patch("/reviews/{review_id}", response_model=ReviewOut)
def describe_review(
    review_id: str, body: ReviewPatch, response: Response, session: SessionDep, principal: CurrentPrincipal, if_match: IfMatch = None
) -> ReviewOut:
    """Record the national library's facts (cause and location of death, flags) and the learning themes."""
    service.visible_review(session, principal, review_id)
    review = engine.lock_review(session, review_id)
    roles = roles_on_reviews(session, principal, [review])[review.id]
    service.require(roles, "review.describe", "Only the CSP coordinator, the CSP chair or the panel chair describes the review for the library.")
    require_if_match(if_match, review.version, "review")
    if engine.review_definition(review).state(review.state).final:
        raise Conflict("The review is concluded: its description can no longer change.")
    values = body.model_dump(exclude_unset=True)
    for listed in ("flags", "themes"):
        if listed in values and values[listed] is None:
            values[listed] = []
    changes = audit.diff(review, values)
    if changes:
        audit.record(session, review=review, entity_type="review", entity_id=review.id, event="describe_review", actor=principal.user, changes=changes)
        session.flush()
    response.headers["ETag"] = etag(review.version)
    return service.review_out(session, review, principal, roles)


@router.post(
    "/reviews/{review_id}/events",
    response_model=ReviewOut,
    responses={409: {"description": "Not allowed now: the body names the state, allowed_events and failed guards"}},
)
def fire_event(review_id: str, body: EventIn, session: SessionDep, principal: CurrentPrincipal) -> ReviewOut:
    # Found locked (this request changes something: workflow.engine.load_review), so events on one review queue.
    review, roles = service.visible_review(session, principal, review_id)
    engine.fire(
        session, subject=review, review=review, event=body.event, actor=principal, roles=roles,
        on=body.on, data=body.data, note=body.note,
    )
    session.flush()
    roles = roles_on_reviews(session, principal, [review])[review.id]
    return service.review_out(session, review, principal, roles)


@router.get("/reviews/{review_id}/events", response_model=Page[HistoryOut])
def review_history(review_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict:
    review, roles = service.visible_review(session, principal, review_id, "review.history")
    entries = audit.for_review(session, review.id)
    items = [HistoryOut.model_validate({**_entry_dict(e), "actor": e.actor_name}) for e in entries]
    if not may(roles, "imrs.read_all"):
        # The Home Office sees when IMR events happened, never what the IMRs say.
        items = [i.model_copy(update={"data": {}, "changes": {}, "note": None}) if i.entity_type in service.IMR_CONTENT else i for i in items]
    return {"items": items, "total": len(items)}


def _entry_dict(entry) -> dict:
    return {name: getattr(entry, name) for name in HistoryOut.model_fields if name != "actor"}


@router.get("/reviews/{review_id}/workflow", response_model=WorkflowOut)
def review_workflow(review_id: str, session: SessionDep, principal: CurrentPrincipal) -> WorkflowOut:
    review, _roles = service.visible_review(session, principal, review_id)
    definition = engine.review_definition(review)
    return WorkflowOut(
        name=definition.name,
        version=definition.version,
        title=definition.title,
        states=[s.model_dump() for s in definition.states],
        transitions=[
            {
                "event": t.name,
                "source": t.source,
                "to": t.to,
                "roles": t.roles,
                "guidance": t.guidance,
                "data": {k: v.model_dump() for k, v in t.data.items()},
                "guards": [g.label() for g in t.guards],
                "effects": [e.label() for e in t.effects],
            }
            for t in definition.events
        ],
        current=review.state,
        mermaid=diagram.mermaid(definition, review.state),
    )


@router.get("/reviews/{review_id}/readiness", response_model=ReadinessOut)
def readiness(review_id: str, session: SessionDep, principal: CurrentPrincipal) -> ReadinessOut:
    review, _roles = service.visible_review(session, principal, review_id, "readiness.read")
    checks = run_checks(session, review)
    return ReadinessOut(ready=all(c.passed for c in checks), checks=[c.__dict__ for c in checks])


@router.get("/deadlines", response_model=Page[DeadlineOut])
def list_deadlines(
    session: SessionDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
    due_before: dt.date | None = None,
    status: DeadlineStatus | None = None,
) -> dict:
    """Deadlines across every review you can see (agency staff: their own IMRs' and actions'), soonest due first."""
    today = clock.today()
    query = select(Deadline, Review).join(Review, Review.id == Deadline.review_id).where(deadline_visibility(principal))
    if due_before:
        query = query.where(Deadline.due_on < due_before)
    if status:
        query = query.where(status_clause(status, today))
    total = count_rows(session, query)
    # Ties broken down to the row, so that consecutive pages neither repeat nor skip a deadline.
    order = (Deadline.due_on, Deadline.kind, Review.reference, Deadline.subject_id, Deadline.id)
    # A row needs its review's reference and workflow, not every deadline and proceeding the review eager-loads.
    page = query.order_by(*order).limit(paging.limit).offset(paging.offset).options(lazyload(Review.deadlines), lazyload(Review.proceedings))
    rows = session.execute(page).all()
    titles = {review.id: service.deadline_titles(review) for _d, review in rows}
    items = [service.deadline_out(deadline, today, titles[review.id], review.reference) for deadline, review in rows]
    return {"items": items, "total": total}


