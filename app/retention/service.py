"""Placing and lifting legal holds; each a history row of the review, in the change's transaction."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.models import User
from app.core import clock
from app.core.errors import Conflict
from app.partnerships.models import Csp
from app.retention import rules
from app.retention.models import LegalHold
from app.reviews.models import Review


def holds_of(session: Session, review_id: str) -> list[LegalHold]:
    return list(session.scalars(select(LegalHold).where(LegalHold.review_id == review_id).order_by(LegalHold.placed_at, LegalHold.id)))


def active_holds(session: Session, review_id: str) -> int:
    return sum(1 for hold in holds_of(session, review_id) if hold.active)


def standing(session: Session, review: Review) -> dict:
    years = session.get(Csp, review.csp_id).retention_years
    kept = rules.retention(review, years)
    return {"retention_years": years, "ended_on": kept.ended_on if kept else None, "due_on": kept.due_on if kept else None,
            "held": active_holds(session, review.id) > 0}


def place(session: Session, *, review: Review, reason: str, actor: User) -> LegalHold:
    hold = LegalHold(review_id=review.id, reason=reason, placed_on=clock.today(), placed_at=clock.now(), placed_by=actor.id, placed_by_name=actor.name)
    session.add(hold)
    session.flush()
    audit.record(session, review=review, entity_type="legal_hold", entity_id=hold.id, event="place_legal_hold", actor=actor, data={"reason": reason})
    return hold


def lift(session: Session, *, review: Review, hold: LegalHold, reason: str, actor: User) -> LegalHold:
    if not hold.active:
        raise Conflict(f"This legal hold was already lifted on {hold.lifted_on.isoformat()}; place a new one if the review must be kept again.")
    hold.lifted_on, hold.lifted_at, hold.lifted_by, hold.lifted_by_name, hold.lift_reason = clock.today(), clock.now(), actor.id, actor.name, reason
    session.flush()
    audit.record(session, review=review, entity_type="legal_hold", entity_id=hold.id, event="lift_legal_hold", actor=actor,
                 data={"reason": reason, "placed_on": hold.placed_on.isoformat()})
    return hold
