"""Parallel proceedings of a review: the criminal trial, the inquest, other reviews (guidance 9.2, 10)."""
from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session

from app.auth.access import may, roles_on_review
from app.auth.deps import CurrentPrincipal
from app.core.api import IfMatch, Page, SessionDep, etag, require_if_match
from app.core.errors import NotFound
from app.proceedings import service
from app.proceedings.models import Proceeding
from app.proceedings.schemas import ProceedingIn, ProceedingOut, ProceedingPatch
from app.reviews.service import require, visible_review
from app.workflow import engine

router = APIRouter(tags=["proceedings"])
WRITE_REFUSAL = "Only the CSP coordinator, the CSP chair or the panel chair records the parallel proceedings."


@router.get("/reviews/{review_id}/proceedings", response_model=Page[ProceedingOut])
def list_proceedings(review_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict:
    review, _roles = visible_review(session, principal, review_id, "proceedings.read")
    items = [ProceedingOut.model_validate(p) for p in review.proceedings]
    return {"items": items, "total": len(items)}


@router.post("/reviews/{review_id}/proceedings", response_model=ProceedingOut, status_code=status.HTTP_201_CREATED)
def record_proceeding(review_id: str, body: ProceedingIn, response: Response, session: SessionDep, principal: CurrentPrincipal) -> ProceedingOut:
    """Record a trial, inquest or other review; an open criminal trial holds publication back (9.2)."""
    _review, roles = visible_review(session, principal, review_id, "proceedings.read")
    require(roles, "proceedings.write", WRITE_REFUSAL)
    review = engine.lock_review(session, review_id)
    proceeding = service.add(session, review=review, values=body.model_dump(), actor=principal.user)
    response.headers["ETag"] = etag(proceeding.version)
    return ProceedingOut.model_validate(proceeding)


def _visible(session: Session, principal, proceeding_id: str) -> tuple[Proceeding, set[str]]:
    proceeding = session.get(Proceeding, proceeding_id)
    if proceeding is None:
        raise NotFound("The proceeding")
    roles = roles_on_review(session, principal, proceeding.review)
    if not may(roles, "proceedings.read"):
        raise NotFound("The proceeding")
    return proceeding, roles


@router.get("/proceedings/{proceeding_id}", response_model=ProceedingOut)
def get_proceeding(proceeding_id: str, response: Response, session: SessionDep, principal: CurrentPrincipal) -> ProceedingOut:
    proceeding, _roles = _visible(session, principal, proceeding_id)
    response.headers["ETag"] = etag(proceeding.version)
    return ProceedingOut.model_validate(proceeding)


@router.patch("/proceedings/{proceeding_id}", response_model=ProceedingOut)
def update_proceeding(
    proceeding_id: str, body: ProceedingPatch, response: Response, session: SessionDep, principal: CurrentPrincipal, if_match: IfMatch = None
) -> ProceedingOut:
    """Conclude a proceeding (with its date and outcome), or correct it. Needs If-Match."""
    proceeding, roles = _visible(session, principal, proceeding_id)
    require(roles, "proceedings.write", WRITE_REFUSAL)
    review = engine.lock_review(session, proceeding.review_id)
    session.refresh(proceeding)
    require_if_match(if_match, proceeding.version, "proceeding")
    service.update(session, review=review, proceeding=proceeding, values=body.model_dump(exclude_unset=True), actor=principal.user)
    session.flush()
    response.headers["ETag"] = etag(proceeding.version)
    return ProceedingOut.model_validate(proceeding)
