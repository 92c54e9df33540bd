"""The review's people: identifiers the anonymisation check looks for, and their pseudonyms."""
from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from app.audit import service as audit
from app.auth.deps import CurrentPrincipal
from app.core.api import Page, SessionDep
from app.core.errors import Conflict, Invalid
from app.people.models import Person
from app.people.schemas import PersonIn, PersonOut
from app.reviews.service import require, visible_review
from app.workflow import engine

router = APIRouter(tags=["people"])


@router.post("/reviews/{review_id}/people", response_model=PersonOut, status_code=status.HTTP_201_CREATED)
def add_person(review_id: str, body: PersonIn, session: SessionDep, principal: CurrentPrincipal) -> Person:
    review, roles = visible_review(session, principal, review_id)
    require(roles, "people.write", "Only the CSP coordinator, CSP chair or panel chair may record the review's people.")
    if not engine.review_definition(review).may_edit("people", review.state):
        raise Conflict(f"People cannot be added while the review is {review.state.replace('_', ' ')}.")
    aliases = [a.strip() for a in body.aliases if a.strip()]
    if body.pseudonym.strip().casefold() == body.name.strip().casefold():
        raise Invalid("pseudonym: must differ from the real name; agree a pseudonym with the family (guidance 9.1).")
    person = Person(review_id=review.id, **body.model_dump(exclude={"aliases"}), aliases=aliases)
    session.add(person)
    session.flush()
    review.updated_at = person.created_at
    # The history names the role and pseudonym only: real identifiers stay in the people table.
    audit.record(
        session, review=review, entity_type="person", entity_id=person.id, event="add_person", actor=principal.user,
        data={"role": person.role, "pseudonym": person.pseudonym},
    )
    return person


@router.get("/reviews/{review_id}/people", response_model=Page[PersonOut])
def list_people(review_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict:
    review, _roles = visible_review(session, principal, review_id, "people.read")
    items = session.scalars(select(Person).where(Person.review_id == review.id).order_by(Person.created_at)).all()
    return {"items": items, "total": len(items)}
