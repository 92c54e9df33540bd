"""IMRs: commissioning, who may see one, and shaping the reply."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.access import Principal, may, roles_for_imr, roles_on_review
from app.core import clock
from app.core.errors import Conflict, Invalid, NotFound
from app.deadlines.rules import add_period
from app.deadlines.service import find as find_deadline
from app.imrs.models import Imr
from app.imrs.schemas import ImrOut
from app.partnerships.models import Agency
from app.reviews.models import Review
from app.reviews.service import deadline_out, deadline_titles
from app.workflow import engine
from app.workflow.registry import get_registry


def visible_imr(session: Session, principal: Principal, imr_id: str) -> tuple[Imr, Review, set[str]]:
    imr = session.get(Imr, imr_id)
    if imr is None:
        raise NotFound("The IMR")
    review = engine.load_review(session, imr.review_id)
    roles = roles_for_imr(roles_on_review(session, principal, review), principal, imr)
    if not may(roles, "imr.read"):
        raise NotFound("The IMR")
    return imr, review, roles


def commission(session: Session, *, review: Review, agency_id: str, due_on: dt.date | None, principal: Principal) -> Imr:
    definition = engine.review_definition(review)
    if not definition.may_edit("commission_imr", review.state):
        raise Conflict(
            f"IMRs are commissioned once the terms of reference are agreed (guidance 8.6); the review is {review.state.replace('_', ' ')}."
        )
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise Invalid("agency_id: there is no agency with that id. List them at GET /api/v1/agencies.")
    if session.scalars(select(Imr.id).where(Imr.review_id == review.id, Imr.agency_id == agency.id)).first():
        raise Conflict(f"An IMR has already been commissioned from {agency.name} for this review.")
    today = clock.today()
    due_on = due_on or add_period(today, definition.deadlines["imr"].period or {"weeks": 8})
    if due_on <= today:
        raise Invalid("due_on: must be after today, giving the agency time to write the IMR.")
    imr_definition = get_registry().latest(definition.imr_workflow)
    imr = Imr(review_id=review.id, agency_id=agency.id, commissioned_on=today, due_on=due_on, state=imr_definition.initial.state)
    engine.start(
        session, subject=imr, review=review, actor=principal, definition=imr_definition, on=today,
        event="commission_imr", data={"agency": agency.name, "due_on": due_on.isoformat()},
    )
    session.flush()
    # The letter to the agency's senior manager (8.1), kept with the review from the start.
    from app.documents.service import generate  # documents build on IMRs, not the other way round

    generate(
        session, review=review, kind="imr_commission_letter", variant="restricted", imr_id=imr.id,
        principal=principal, review_roles=roles_on_review(session, principal, review),
    )
    return imr


_UNSET = object()


def imr_out(session: Session, imr: Imr, review: Review, principal: Principal, roles: set[str], *, with_events: bool = True,
            agency_name: str | None = None, deadline=_UNSET) -> ImrOut:
    """One IMR; a list passes each agency's name and deadline, read for every row at once."""
    if agency_name is None:
        agency_name = session.get(Agency, imr.agency_id).name
    if deadline is _UNSET:
        deadline = find_deadline(session, review_id=review.id, kind="imr", subject_id=imr.id)
    fields = {name: getattr(imr, name) for name in ImrOut.model_fields if hasattr(imr, name) and name != "deadline"}
    fields.update(
        reference=review.reference,
        agency_name=agency_name,
        deadline=deadline_out(deadline, clock.today(), deadline_titles(review), review.reference) if deadline else None,
        allowed_events=engine.allowed_events(session, subject=imr, review=review, actor=principal, roles=roles) if with_events else None,
    )
    return ImrOut(**fields)
