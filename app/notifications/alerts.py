"""Deadline alerts: the sweep's second job. For each open deadline whose next alert day has come,
queue the schedule's latest step for its recipients and note the next step's day."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.actions.models import Action
from app.audit import service as audit
from app.deadlines.models import Deadline
from app.imrs.models import Imr
from app.notifications import outbox
from app.notifications.messages import ReviewFacts, agency_name, deadline_alert
from app.notifications.recipients import resolve
from app.notifications.schedule import DAY, escalated_roles, first_on_or_after, latest_on_or_before
from app.reviews.models import Review
from app.workflow.definition import WorkflowDef


@dataclass
class Queued:
    steps: int = 0
    emails: int = 0
    unaddressed: int = 0  # steps that found nobody to tell


def subject_agency_id(session: Session, deadline: Deadline) -> str | None:
    if deadline.kind == "imr" and deadline.subject_id:
        imr = session.get(Imr, deadline.subject_id)
        return imr.agency_id if imr else None
    if deadline.kind == "action" and deadline.subject_id:
        action = session.get(Action, deadline.subject_id)
        return action.lead_agency_id if action else None
    return None


def queue_due_alert(
    session: Session, *, review: Review, facts: ReviewFacts, definition: WorkflowDef, deadline: Deadline, on: dt.date, tally: Queued
) -> None:
    rule = definition.deadlines.get(deadline.kind)
    schedule = rule.alerts if rule else None
    if schedule is None:
        deadline.next_alert_on = None
        return
    step = latest_on_or_before(schedule, deadline.due_on, on)
    if step is not None and deadline.next_alert_on is not None and step.on >= deadline.next_alert_on:
        agency_id = subject_agency_id(session, deadline)
        roles = list(schedule.to) + [r for r in escalated_roles(schedule, step) if r not in schedule.to]
        recipients = resolve(session, review=review, roles=roles, agency_id=agency_id)
        content = deadline_alert(
            facts, rule=rule, due_on=deadline.due_on, original_due_on=deadline.original_due_on, today=on,
            agency=agency_name(session, agency_id),
        )
        queued = 0
        for recipient in recipients:
            queued += outbox.enqueue(
                session,
                key=f"deadline:{deadline.id}:{deadline.due_on.isoformat()}:{step.name}:{recipient.key}",
                review_id=review.id, kind="deadline_alert", content=content, recipient=recipient,
                deadline_id=deadline.id, step=step.name,
            )
        tally.steps += 1
        tally.emails += queued
        tally.unaddressed += not recipients
        audit.record(
            session, review=review, entity_type="deadline", entity_id=deadline.id, event="deadline_alert", on=on, actor=None,
            data={
                "kind": deadline.kind, "subject_id": deadline.subject_id or None, "step": step.name,
                "due_on": deadline.due_on.isoformat(), "emails": queued,
                "roles": sorted({role for r in recipients for role in r.roles}),
            },
        )
        session.flush()
    upcoming = first_on_or_after(schedule, deadline.due_on, on + DAY)
    deadline.next_alert_on = upcoming.on if upcoming else None
