"""The deadline sweep, as of one day: overdue deadlines recorded, and their alert emails queued.

One indexed query finds the reviews with something due; each review is then swept in its own short
transaction that locks the review first (the order every event uses), so a second sweeper, in this
process or another, waits and then finds nothing left to do. Every change writes a history row in
the same transaction. Running it twice changes nothing the second time.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.core.db import session_scope
from app.deadlines.models import Deadline
from app.notifications.alerts import Queued, queue_due_alert
from app.notifications.messages import ReviewFacts
from app.workflow import engine

PROGRESS_EVERY = 500


@dataclass
class SweepResult:
    on: dt.date
    reviews: int = 0
    became_overdue: int = 0
    back_to_pending: int = 0
    alerts: Queued = field(default_factory=Queued)

    def summary(self) -> str:
        return (
            f"Sweep as of {self.on.isoformat()}: {self.became_overdue} deadline(s) became overdue, "
            f"{self.back_to_pending} back in time; {self.alerts.steps} alert(s) due, "
            f"{self.alerts.emails} email(s) queued"
            + (f"; {self.alerts.unaddressed} alert(s) had nobody to send to: give the partnership a DHR coordinator" if self.alerts.unaddressed else "")
            + "."
        )


def due_review_ids(session: Session, on: dt.date) -> list[str]:
    """Reviews with a deadline whose recorded status is stale or whose next alert has come."""
    query = union(
        select(Deadline.review_id).where(Deadline.is_open, Deadline.due_on < on, Deadline.swept_status != "overdue"),
        select(Deadline.review_id).where(Deadline.is_open, Deadline.due_on >= on, Deadline.swept_status == "overdue"),
        select(Deadline.review_id).where(Deadline.next_alert_on <= on),
    )
    return sorted(session.scalars(query))


def sweep_review(session: Session, review_id: str, on: dt.date, result: SweepResult) -> None:
    review = engine.lock_review(session, review_id)
    if review is None:
        return
    definition = engine.review_definition(review)
    rows = session.scalars(
        select(Deadline).where(Deadline.review_id == review_id, Deadline.is_open).order_by(Deadline.kind, Deadline.subject_id)
    ).all()
    for deadline in rows:
        if deadline.due_on < on and deadline.swept_status != "overdue":
            deadline.swept_status = "overdue"
            result.became_overdue += 1
            audit.record(
                session, review=review, entity_type="deadline", entity_id=deadline.id, event="deadline_overdue", on=on, actor=None,
                data={"kind": deadline.kind, "subject_id": deadline.subject_id or None, "due_on": deadline.due_on.isoformat()},
            )
            session.flush()
        elif deadline.due_on >= on and deadline.swept_status == "overdue":
            # An extension or a corrected clock brought it back into time.
            deadline.swept_status = "pending"
            result.back_to_pending += 1
    if review.state in definition.alerts_paused_in:
        return  # alerts wait; on resuming, the schedule's latest step goes out
    facts = None
    for deadline in rows:
        if deadline.next_alert_on is not None and deadline.next_alert_on <= on:
            facts = facts or ReviewFacts.of(session, review, definition)
            queue_due_alert(session, review=review, facts=facts, definition=definition, deadline=deadline, on=on, tally=result.alerts)


def sweep(on: dt.date, *, echo: Callable[[str], None] | None = None) -> SweepResult:
    result = SweepResult(on=on)
    with session_scope() as session:
        review_ids = due_review_ids(session, on)
    if echo and len(review_ids) > PROGRESS_EVERY:
        echo(f"Sweeping {len(review_ids):,} reviews with something due ...")
    for count, review_id in enumerate(review_ids, start=1):
        with session_scope() as session:
            sweep_review(session, review_id, on, result)
        result.reviews += 1
        if echo and count % PROGRESS_EVERY == 0:
            echo(f"  {count:,} of {len(review_ids):,} reviews swept")
    return result
