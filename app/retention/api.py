"""Legal holds on a review: placed and lifted, with a reason, by the partnership's CSP officers."""
from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from app.auth.access import may, roles_on_review
from app.auth.deps import CurrentPrincipal
from app.core.api import SessionDep
from app.core.errors import NotFound
from app.retention import service
from app.retention.models import LegalHold
from app.retention.schemas import LegalHoldIn, LegalHoldLiftIn, LegalHoldOut, LegalHoldPage
from app.reviews.service import require, visible_review
from app.workflow import engine

router = APIRouter(tags=["retention"])
WRITE_REFUSAL = "Only the partnership's CSP chair or coordinator places or lifts a legal hold."


@router.get("/reviews/{review_id}/legal-holds", response_model=LegalHoldPage)
def list_legal_holds(review_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict:
    """Every hold placed on the review, lifted ones too, and when its retention period ends."""
    review, _roles = visible_review(session, principal, review_id, "legal_holds.read")
    items = [LegalHoldOut.model_validate(h) for h in service.holds_of(session, review_id)]
    return {"items": items, "total": len(items), "retention": service.standing(session, review)}


@router.post("/reviews/{review_id}/legal-holds", response_model=LegalHoldOut, status_code=status.HTTP_201_CREATED)
def place_legal_hold(review_id: str, body: LegalHoldIn, session: SessionDep, principal: CurrentPrincipal) -> LegalHoldOut:
    """A held review is never deleted by `dhr purge`, whatever its retention period, until every hold is lifted."""
    _review, roles = visible_review(session, principal, review_id, "legal_holds.read")
    require(roles, "legal_holds.write", WRITE_REFUSAL)
    review = engine.lock_review(session, review_id)  # the same lock `dhr purge` takes: a hold and a purge queue
    return LegalHoldOut.model_validate(service.place(session, review=review, reason=body.reason, actor=principal.user))


def _visible(session: Session, principal, hold_id: str) -> tuple[LegalHold, set[str]]:
    hold = session.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound("The legal hold")
    roles = roles_on_review(session, principal, engine.load_review(session, hold.review_id))
    if not may(roles, "legal_holds.read"):
        raise NotFound("The legal hold")
    return hold, roles


@router.post("/legal-holds/{hold_id}/lift", response_model=LegalHoldOut)
def lift_legal_hold(hold_id: str, body: LegalHoldLiftIn, session: SessionDep, principal: CurrentPrincipal) -> LegalHoldOut:
    """Lift a hold (409 if already lifted); the review is then kept only as long as its retention period says."""
    hold, roles = _visible(session, principal, hold_id)
    require(roles, "legal_holds.write", WRITE_REFUSAL)
    review = engine.lock_review(session, hold.review_id)
    session.refresh(hold)
    return LegalHoldOut.model_validate(service.lift(session, review=review, hold=hold, reason=body.reason, actor=principal.user))
