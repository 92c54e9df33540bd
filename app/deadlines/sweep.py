"""The deadline sweep, as of one day: overdue deadlines recorded, and their alert emails queued.

One indexed query finds the reviews with something due; each review is then swept in its own short
transaction that locks the review first (the order every event uses), so a second sweeper, in this
process or another, waits and then finds nothing left to do. Every change writes a history row in
the same transaction. Running it twice changes nothing the second time.

A review's sweep runs a fixed handful of statements however much is due: the review, its open
deadlines, the agencies and people its alerts go to, then one write per table (outbox, history,
deadlines). So a sweep's time follows the number of reviews with something due.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select, union
from sqlalchemy.orm import Session, lazyload, load_only

from app.audit import service as audit
from app.core.db import session_scope
from app.deadlines import swept
from app.deadlines.models import Deadline
from app.notifications.alerts import Queued, queue_due_alerts
from app.reviews.models import Review
from app.workflow import engine

PROGRESS_EVERY = 500
SWEPT_REVIEW = (
    load_only(Review.reference, Review.csp_id, Review.state, Review.workflow_name, Review.workflow_version),
    lazyload(Review.deadlines), lazyload(Review.proceedings),
)


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
    # Only what an alert says about the review, not its collections: its open deadlines are read next.
    review = engine.lock_review(session, review_id, *SWEPT_REVIEW)
    if review is None:
        return
    definition = engine.review_definition(review)
    deadlines = swept.open_deadlines(session, review_id)
    # Every history row of this sweep of the review is chained in one go, in the order recorded here.
    history = audit.Batch(session, review)
    for deadline in deadlines:
        if deadline.due_on < on and deadline.swept_status != "overdue":
            deadline.swept_status = "overdue"
            result.became_overdue += 1
            history.record(
                entity_type="deadline", entity_id=deadline.id, event="deadline_overdue", on=on,
                data={"kind": deadline.kind, "subject_id": deadline.subject_id or None, "due_on": deadline.due_on.isoformat()},
            )
        elif deadline.due_on >= on and deadline.swept_status == "overdue":
            # An extension or a corrected clock brought it back into time.
            deadline.swept_status = "pending"
            result.back_to_pending += 1
    # While paused, alerts wait; on resuming, the schedule's latest step goes out.
    if review.state not in definition.alerts_paused_in:
        due = [d for d in deadlines if d.next_alert_on is not None and d.next_alert_on <= on]
        if due:
            queue_due_alerts(
                session, review=review, definition=definition, deadlines=due, on=on, history=history, tally=result.alerts
            )
    history.write()
    swept.save(session, deadlines)


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
