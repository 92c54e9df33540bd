"""Deadline alerts: the sweep's second job. For each open deadline whose next alert day has come,
queue the schedule's latest step for its recipients and note the next step's day.

The due alerts of many reviews are worked out together: the people, agencies and subjects they need
are read once for them all, their emails written in one statement and their history rows chained in one go.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from app.actions.models import Action
from app.audit import service as audit
from app.deadlines.swept import OpenDeadline
from app.imrs.models import Imr
from app.notifications import outbox
from app.notifications.messages import ReviewFacts, deadline_alert
from app.notifications.recipients import AgencyContact, Directory, Recipient, resolve
from app.notifications.schedule import DAY, Step, escalated_roles, first_on_or_after, latest_on_or_before
from app.partnerships.models import Agency
from app.reviews.models import Review
from app.workflow.definition import AlertSchedule, DeadlineDef, WorkflowDef


@dataclass
class Queued:
    steps: int = 0
    emails: int = 0
    unaddressed: int = 0  # steps that found nobody to tell


@dataclass
class _Alert:
    """One deadline's step that is due, and who it goes to."""

    deadline: OpenDeadline
    rule: DeadlineDef
    step: Step
    roles: list[str]
    agency_id: str | None = None
    recipients: tuple[Recipient, ...] = ()

    def key(self, recipient: Recipient) -> str:
        deadline = self.deadline
        return f"deadline:{deadline.id}:{deadline.due_on.isoformat()}:{self.step.name}:{recipient.key}"


def subject_agencies(
    session: Session, deadlines: list[OpenDeadline]
) -> tuple[dict[str, str | None], dict[str, AgencyContact | None]]:
    """The agency of each IMR's and action's deadline (by the deadline's id), and those agencies' names
    and addresses, in one query."""
    imr_ids = {d.subject_id for d in deadlines if d.kind == "imr" and d.subject_id}
    action_ids = {d.subject_id for d in deadlines if d.kind == "action" and d.subject_id}
    if not imr_ids and not action_ids:
        return {}, {}
    rows = session.execute(union_all(
        select(literal("imr"), Imr.id, Imr.agency_id, Agency.name, Agency.email)
        .outerjoin(Agency, Agency.id == Imr.agency_id).where(Imr.id.in_(imr_ids)),
        select(literal("action"), Action.id, Action.lead_agency_id, Agency.name, Agency.email)
        .outerjoin(Agency, Agency.id == Action.lead_agency_id).where(Action.id.in_(action_ids)),
    )).all()
    agency_of = {(kind, subject_id): agency_id for kind, subject_id, agency_id, _name, _email in rows}
    contacts = {agency_id: AgencyContact(name, email) if name is not None else None
                for _kind, _subject, agency_id, name, email in rows if agency_id}
    return {d.id: agency_of.get((d.kind, d.subject_id)) for d in deadlines}, contacts


def _due_step(schedule: AlertSchedule, deadline: OpenDeadline, on: dt.date) -> Step | None:
    """The step to send now, if it has not gone yet; and the deadline's next alert day moved on."""
    step = latest_on_or_before(schedule, deadline.due_on, on)
    due = step is not None and deadline.next_alert_on is not None and step.on >= deadline.next_alert_on
    upcoming = first_on_or_after(schedule, deadline.due_on, on + DAY)
    deadline.next_alert_on = upcoming.on if upcoming else None
    return step if due else None


@dataclass
class DueReview:
    """A review whose deadlines' next alert days have come (`deadlines`), as the sweep found it."""

    review: Review
    definition: WorkflowDef
    deadlines: list[OpenDeadline]


def _alerts(definition: WorkflowDef, deadlines: list[OpenDeadline], on: dt.date) -> list[_Alert]:
    """The due step of each deadline, in their order; each deadline's next alert day moved on."""
    alerts: list[_Alert] = []
    for deadline in deadlines:
        rule = definition.deadlines.get(deadline.kind)
        schedule = rule.alerts if rule else None
        if schedule is None:
            deadline.next_alert_on = None
            continue
        step = _due_step(schedule, deadline, on)
        if step is not None:
            roles = list(schedule.to) + [r for r in escalated_roles(schedule, step) if r not in schedule.to]
            alerts.append(_Alert(deadline, rule, step, roles))
    return alerts


def queue_due_alerts(session: Session, due: list[DueReview], *, on: dt.date, history: audit.Batch, tally: Queued) -> None:
    """Queue the due step of each deadline of these reviews and record each in its review's history.
    What the emails need (partnerships, agencies, the people holding the roles) is read once for them all,
    and the emails are written in one statement."""
    alerting = [(item, alerts) for item in due if (alerts := _alerts(item.definition, item.deadlines, on))]
    if not alerting:
        return
    facts = ReviewFacts.of_many(session, [(item.review, item.definition) for item, _ in alerting])
    agency_of, agencies = subject_agencies(session, [a.deadline for _, alerts in alerting for a in alerts])
    directories = Directory.for_reviews(
        session, [item.review for item, _ in alerting], roles={role for _, alerts in alerting for a in alerts for role in a.roles},
        agency_ids=set(agencies), agencies=agencies,
    )
    emails: list[outbox.Outgoing] = []
    for item, alerts in alerting:
        review, directory = item.review, directories[item.review.id]
        for alert in alerts:
            alert.agency_id = agency_of.get(alert.deadline.id)
            alert.recipients = tuple(
                resolve(session, review=review, roles=alert.roles, agency_id=alert.agency_id, directory=directory)
            )
            agency = directory.agency(alert.agency_id)
            content = deadline_alert(
                facts[review.id], rule=alert.rule, due_on=alert.deadline.due_on, original_due_on=alert.deadline.original_due_on,
                today=on, agency=agency.name if agency else None,
            )
            emails += [
                outbox.Outgoing(
                    key=alert.key(recipient), review_id=review.id, kind="deadline_alert", content=content, recipient=recipient,
                    deadline_id=alert.deadline.id, step=alert.step.name,
                )
                for recipient in alert.recipients
            ]
    written = outbox.enqueue_all(session, emails)
    for item, alerts in alerting:
        for alert in alerts:
            deadline, recipients = alert.deadline, alert.recipients
            queued = sum(alert.key(recipient) in written for recipient in recipients)
            tally.steps += 1
            tally.emails += queued
            tally.unaddressed += not recipients
            history.record(
                item.review, entity_type="deadline", entity_id=deadline.id, event="deadline_alert", on=on,
                data={
                    "kind": deadline.kind, "subject_id": deadline.subject_id or None, "step": alert.step.name,
                    "due_on": deadline.due_on.isoformat(), "emails": queued,
                    "roles": sorted({role for r in recipients for role in r.roles}),
                },
            )
