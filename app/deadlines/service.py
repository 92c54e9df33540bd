"""Creating, meeting, reopening, waiving and extending deadlines; called by workflow effects."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core import clock
from app.core.errors import Conflict
from app.deadlines.models import Deadline, DeadlineExtension
from app.deadlines.rules import add_period
from app.notifications.schedule import first_on_or_after
from app.workflow.definition import DeadlineDef


def schedule_alerts(deadline: Deadline, rule: DeadlineDef) -> None:
    """Set the day of the deadline's next alert, counting from today (missed days are not replayed)."""
    step = first_on_or_after(rule.alerts, deadline.due_on, clock.today()) if rule.alerts else None
    deadline.next_alert_on = step.on if step else None


def find(session: Session, *, review_id: str, kind: str, subject_id: str = "") -> Deadline | None:
    return session.scalars(
        select(Deadline).where(
            Deadline.review_id == review_id, Deadline.kind == kind, Deadline.subject_id == subject_id
        )
    ).one_or_none()


def open_deadline(
    session: Session,
    *,
    review_id: str,
    kind: str,
    rule: DeadlineDef,
    starts_on: dt.date,
    subject_id: str = "",
    due_on: dt.date | None = None,
) -> Deadline:
    if due_on is None:
        if rule.period is None:
            raise ValueError(f"deadline {kind} has no period: a due date must be given")
        due_on = add_period(starts_on, rule.period)
    existing = find(session, review_id=review_id, kind=kind, subject_id=subject_id)
    if existing is not None:
        # Re-opened after a reconsideration: the same deadline, counted afresh.
        reopen(existing, rule)
        return existing
    deadline = Deadline(
        review_id=review_id,
        kind=kind,
        subject_id=subject_id,
        starts_on=starts_on,
        due_on=due_on,
        original_due_on=due_on,
        swept_status="pending",
    )
    schedule_alerts(deadline, rule)
    session.add(deadline)
    return deadline


def meet(deadline: Deadline, on: dt.date) -> None:
    if deadline.is_open:
        deadline.met_on = on
        deadline.next_alert_on = None


def reopen(deadline: Deadline, rule: DeadlineDef) -> None:
    deadline.met_on = None
    deadline.waived_on = None
    deadline.waived_reason = None
    deadline.swept_status = "pending"
    schedule_alerts(deadline, rule)


def waive(deadline: Deadline, on: dt.date, reason: str) -> None:
    if deadline.is_open:
        deadline.waived_on = on
        deadline.waived_reason = reason
        deadline.swept_status = "waived"
        deadline.next_alert_on = None


def extend(
    session: Session, deadline: Deadline, *, rule: DeadlineDef, new_due_on: dt.date, reason: str, on: dt.date, user_id: str
) -> DeadlineExtension:
    if not deadline.is_open:
        raise Conflict(f"the {deadline.kind} deadline is already closed: only an open deadline can be extended")
    extension = DeadlineExtension(
        deadline_id=deadline.id,
        previous_due_on=deadline.due_on,
        new_due_on=new_due_on,
        reason=reason,
        agreed_on=on,
        agreed_by=user_id,
    )
    session.add(extension)
    # The original due date stays in original_due_on; timeliness reports show both.
    deadline.due_on = new_due_on
    deadline.swept_status = "pending"
    # The new date has its own alerts (the outbox key carries the due date).
    schedule_alerts(deadline, rule)
    return extension
