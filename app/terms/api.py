"""Terms of reference (guidance 5.11-5.13): each PUT makes a new version; earlier ones are kept."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from app.audit import service as audit
from app.auth.deps import CurrentPrincipal
from app.core.api import SessionDep
from app.core.errors import Conflict, Invalid, NotFound
from app.reviews.service import require, visible_review
from app.terms.models import TermsOfReference
from app.terms.schemas import TermsIn, TermsOut
from app.workflow import engine

router = APIRouter(tags=["terms of reference"])


def _count(session, review_id: str) -> int:
    return session.scalar(select(func.count()).select_from(TermsOfReference).where(TermsOfReference.review_id == review_id)) or 0


def _out(terms: TermsOfReference, versions: int) -> TermsOut:
    return TermsOut.model_validate({**{c: getattr(terms, c) for c in TermsOut.model_fields if c != "versions"}, "versions": versions})


@router.put("/reviews/{review_id}/terms-of-reference", response_model=TermsOut)
def put_terms(review_id: str, body: TermsIn, session: SessionDep, principal: CurrentPrincipal) -> TermsOut:
    review, roles = visible_review(session, principal, review_id)
    require(roles, "terms.write", "Only the panel chair or the CSP coordinator may write the terms of reference.")
    if not engine.review_definition(review).may_edit("terms_of_reference", review.state):
        raise Conflict(f"The terms of reference cannot change while the review is {review.state.replace('_', ' ')}.")
    if body.period_from and body.period_to and body.period_from > body.period_to:
        raise Invalid("period_to: the review period ends before it starts. Correct period_from or period_to.")
    version = _count(session, review.id) + 1
    lines = [line.strip() for line in body.key_lines_of_enquiry if line.strip()]
    terms = TermsOfReference(review_id=review.id, version=version, created_by=principal.id, **body.model_dump(exclude={"key_lines_of_enquiry"}), key_lines_of_enquiry=lines)
    session.add(terms)
    session.flush()
    review.updated_at = terms.created_at
    audit.record(
        session, review=review, entity_type="terms_of_reference", entity_id=terms.id, event="revise_terms_of_reference",
        actor=principal.user, data={"version": version}, changes=body.model_dump(mode="json"),
    )
    return _out(terms, version)


@router.get("/reviews/{review_id}/terms-of-reference", response_model=TermsOut)
def get_terms(
    review_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    version: Annotated[int | None, Query(ge=1, le=100000, description="An earlier version (default: the newest)")] = None,
) -> TermsOut:
    review, _roles = visible_review(session, principal, review_id, "terms.read")
    query = select(TermsOfReference).where(TermsOfReference.review_id == review.id)
    query = query.where(TermsOfReference.version == version) if version else query.order_by(TermsOfReference.version.desc()).limit(1)
    terms = session.scalars(query).first()
    if terms is None:
        raise NotFound("The terms of reference" + (f" version {version}" if version else ""))
    return _out(terms, _count(session, review.id))
