"""The `notify` effect's work: an email to the people who must act next, queued with the event."""
from __future__ import annotations

from app.actions.models import Action
from app.core.ids import new_id
from app.deadlines import service as deadlines
from app.imrs.models import Imr
from app.notifications import outbox
from app.notifications.messages import MESSAGES, ReviewFacts, agency_name
from app.notifications.recipients import resolve
from app.workflow.context import EventContext


def notify(ctx: EventContext, *, message: str, to: list[str], outcome: str | None = None) -> int:
    subject = ctx.subject
    agency_id = subject.agency_id if isinstance(subject, Imr) else subject.lead_agency_id if isinstance(subject, Action) else None
    facts = {"agency": agency_name(ctx.session, agency_id), "outcome": outcome}
    if isinstance(subject, Imr):
        facts["due_on"] = subject.due_on
    ctx.session.flush()
    decision = deadlines.find(ctx.session, review_id=ctx.review.id, kind="decision")
    if decision is not None:
        facts["decision_due_on"] = decision.due_on
    content = MESSAGES[message](ReviewFacts.of(ctx.session, ctx.review, ctx.review_definition), **facts)
    actor = getattr(ctx.actor, "user", None)
    recipients = resolve(
        ctx.session, review=ctx.review, roles=to, agency_id=agency_id, exclude_user_id=actor.id if actor else None
    )
    event_key = new_id()
    for recipient in recipients:
        outbox.enqueue(
            ctx.session, key=f"event:{event_key}:{recipient.key}", review_id=ctx.review.id, kind=message,
            content=content, recipient=recipient,
        )
    return len(recipients)
