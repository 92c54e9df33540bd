"""The deadline sweep: records which deadlines have become overdue as of a day.

One indexed query finds open deadlines past due whose recorded status is not yet overdue; each
change writes a history row in the same transaction. Running it twice changes nothing the second time.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.core.db import is_postgres
from app.deadlines.models import Deadline
from app.reviews.models import Review


@dataclass
class SweepResult:
    on: dt.date
    became_overdue: int
    back_to_pending: int


def sweep(session: Session, on: dt.date) -> SweepResult:
    newly_overdue = (
        select(Deadline)
        .where(Deadline.met_on.is_(None), Deadline.waived_on.is_(None), Deadline.due_on < on, Deadline.swept_status != "overdue")
        .order_by(Deadline.review_id)
    )
    no_longer = (
        select(Deadline)
        .where(Deadline.met_on.is_(None), Deadline.waived_on.is_(None), Deadline.due_on >= on, Deadline.swept_status == "overdue")
    )
    if is_postgres(session):
        # Concurrent sweepers each take different rows instead of waiting on one another.
        newly_overdue = newly_overdue.with_for_update(skip_locked=True)
        no_longer = no_longer.with_for_update(skip_locked=True)
    overdue = session.scalars(newly_overdue).all()
    reviews = {r.id: r for r in session.scalars(select(Review).where(Review.id.in_({d.review_id for d in overdue})))}
    for deadline in overdue:
        deadline.swept_status = "overdue"
        audit.record(
            session, review=reviews[deadline.review_id], entity_type="deadline", entity_id=deadline.id,
            event="deadline_overdue", on=on, actor=None,
            data={"kind": deadline.kind, "subject_id": deadline.subject_id or None, "due_on": deadline.due_on.isoformat()},
        )
        session.flush()
    # An extension or a corrected clock can bring a deadline back into time.
    restored = session.scalars(no_longer).all()
    for deadline in restored:
        deadline.swept_status = "pending"
    return SweepResult(on=on, became_overdue=len(overdue), back_to_pending=len(restored))
