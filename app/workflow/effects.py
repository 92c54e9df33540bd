"""Named effects: what an event changes besides the state, in the same transaction.

The workflow YAML lists them by name, with parameters; the history row is written by the engine.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from app.deadlines import service as deadlines
from app.workflow.context import EventContext
from app.workflow.definition import Call

Effect = Callable[[EventContext, Call], None]
EFFECTS: dict[str, Effect] = {}


def effect(name: str) -> Callable[[Effect], Effect]:
    def register(fn: Effect) -> Effect:
        EFFECTS[name] = fn
        return fn

    return register


def _date(ctx: EventContext, name: str) -> dt.date | None:
    value = ctx.data.get(name)
    return dt.date.fromisoformat(value) if value else None


def _subject_id(ctx: EventContext, kind: str) -> str:
    # The review's own deadlines have no subject; an IMR's or action's carry its id.
    return "" if ctx.subject_kind == "review" or kind not in ("imr", "action") else ctx.subject.id


# Deadlines -----------------------------------------------------------------------------------

@effect("open_deadline")
def open_deadline(ctx: EventContext, call: Call) -> None:
    kind = call.params["kind"]
    rule = ctx.review_definition.deadlines[kind]
    if kind == "imr":
        starts_on, due_on = ctx.subject.commissioned_on, ctx.subject.due_on
    elif kind == "action":
        if ctx.subject.target_date is None:
            return  # opened when a target date is set
        starts_on, due_on = ctx.on, ctx.subject.target_date
    else:
        starts_on = getattr(ctx.review, rule.starts)
        due_on = None
    deadlines.open_deadline(
        ctx.session,
        review_id=ctx.review.id,
        kind=kind,
        rule=rule,
        starts_on=starts_on,
        subject_id=_subject_id(ctx, kind),
        due_on=due_on,
    )


def _find(ctx: EventContext, kind: str):
    ctx.session.flush()
    return deadlines.find(ctx.session, review_id=ctx.review.id, kind=kind, subject_id=_subject_id(ctx, kind))


@effect("meet_deadline")
def meet_deadline(ctx: EventContext, call: Call) -> None:
    deadline = _find(ctx, call.params["kind"])
    if deadline is not None:
        on_field = call.params.get("date_field")
        deadlines.meet(deadline, (_date(ctx, on_field) if on_field else None) or ctx.on)


@effect("reopen_deadline")
def reopen_deadline(ctx: EventContext, call: Call) -> None:
    deadline = _find(ctx, call.params["kind"])
    if deadline is not None:
        deadlines.reopen(deadline, ctx.review_definition.deadlines[call.params["kind"]])


@effect("waive_deadline")
def waive_deadline(ctx: EventContext, call: Call) -> None:
    deadline = _find(ctx, call.params["kind"])
    if deadline is not None:
        deadlines.waive(deadline, ctx.on, call.params["reason"])


@effect("waive_open_deadlines")
def waive_open_deadlines(ctx: EventContext, call: Call) -> None:
    ctx.session.flush()
    for deadline in ctx.review.deadlines:
        deadlines.waive(deadline, ctx.on, call.params["reason"])


@effect("apply_extension")
def apply_extension(ctx: EventContext, _call: Call) -> None:
    kind = ctx.data["deadline"]
    deadline = deadlines.find(ctx.session, review_id=ctx.review.id, kind=kind, subject_id=ctx.data.get("subject_id") or "")
    old_due = deadline.due_on
    deadlines.extend(
        ctx.session,
        deadline,
        rule=ctx.review_definition.deadlines[kind],
        new_due_on=_date(ctx, "new_due_on"),
        reason=ctx.data["reason"],
        on=ctx.on,
        user_id=ctx.actor.id,
    )
    ctx.changes[f"deadline.{kind}.due_on"] = [old_due.isoformat(), deadline.due_on.isoformat()]


# The review ----------------------------------------------------------------------------------

@effect("record_decision")
def record_decision(ctx: EventContext, call: Call) -> None:
    ctx.set(ctx.review, "decision", call.params["decision"])
    ctx.set(ctx.review, "decided_on", ctx.on)
    ctx.set(ctx.review, "decision_rationale", ctx.data["rationale"])
    if "child_review_considered" in ctx.data:
        ctx.set(ctx.review, "child_review_considered", ctx.data["child_review_considered"])


@effect("clear_decision")
def clear_decision(ctx: EventContext, _call: Call) -> None:
    for name in ("decision", "decided_on", "decision_rationale", "child_review_considered", "home_office_notified_on"):
        ctx.set(ctx.review, name, None)


@effect("record_home_office_notified")
def record_home_office_notified(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.review, "home_office_notified_on", _date(ctx, "sent_on"))


@effect("record_terms_agreed")
def record_terms_agreed(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.review, "terms_agreed_on", ctx.on)


@effect("record_overview_approved")
def record_overview_approved(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.review, "overview_approved_on", ctx.on)


@effect("record_family_response")
def record_family_response(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.review, "family_response", ctx.data["response"])
    ctx.set(ctx.review, "family_shared_on", _date(ctx, "shared_on"))
    ctx.set(ctx.review, "family_disagreements", ctx.data.get("disagreements"))


@effect("record_submission")
def record_submission(ctx: EventContext, _call: Call) -> None:
    if ctx.review.signed_off_on is None:
        ctx.set(ctx.review, "signed_off_on", ctx.on)
    if ctx.review.first_submitted_on is None:
        ctx.set(ctx.review, "first_submitted_on", ctx.on)
    ctx.set(ctx.review, "submitted_on", ctx.on)
    ctx.set(ctx.review, "qa_outcome", None)


@effect("freeze_submission")
def freeze_submission(ctx: EventContext, _call: Call) -> None:
    """8.19: what the CSP signed off is kept as sent: the package version of this (re)submission."""
    from app.documents.readiness import run_checks
    from app.submissions.service import freeze

    readiness = ctx.readiness if ctx.readiness is not None else run_checks(ctx.session, ctx.review)
    submission = freeze(ctx.session, review=ctx.review, actor=ctx.actor, roles=ctx.roles, on=ctx.on, readiness=readiness,
                        what_changed=ctx.data.get("summary"))
    ctx.changes["package_version"] = [submission.number - 1 or None, submission.number]


@effect("record_qa_outcome")
def record_qa_outcome(ctx: EventContext, call: Call) -> None:
    from app.submissions.service import record_outcome

    outcome = call.params["outcome"]
    received_on = _date(ctx, "received_on") or ctx.on
    ctx.set(ctx.review, "qa_outcome", outcome)
    ctx.set(ctx.review, "qa_received_on", received_on)
    if outcome == "cleared":
        ctx.set(ctx.review, "cleared_on", ctx.on)
    if "changes" in ctx.data:
        ctx.set(ctx.review, "qa_changes", "\n".join(ctx.data["changes"]))
    if "feedback" in ctx.data:
        ctx.set(ctx.review, "qa_feedback", ctx.data["feedback"])
    items = record_outcome(ctx.session, review=ctx.review, outcome=outcome, received_on=received_on, changes=ctx.data.get("changes", []))
    if items:
        ctx.changes["qa_change_numbers"] = [None, [c.number for c in items]]


@effect("record_cleared")
def record_cleared(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.review, "cleared_on", ctx.on)


@effect("record_publication")
def record_publication(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.review, "publication_url", ctx.data["url"])
    ctx.set(ctx.review, "published_on", ctx.on)


@effect("keep_published_files")
def keep_published_files(ctx: EventContext, _call: Call) -> None:
    """9.5: the Overview Report, Executive Summary and Action Plan exactly as published, kept."""
    from app.documents.context import PACKAGE_REPORTS, load_facts
    from app.documents.service import make

    facts = load_facts(ctx.session, ctx.review)
    kept = [
        make(ctx.session, review=ctx.review, kind=kind, variant="publication", actor=ctx.actor.user, facts=facts,
             published_on=ctx.on, purpose="publication").id
        for kind in PACKAGE_REPORTS
    ]
    ctx.changes["published_documents"] = [None, kept]


@effect("record_withholding")
def record_withholding(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.review, "withheld_reason", ctx.data["reason"])


@effect("record_conclusion")
def record_conclusion(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.review, "concluded_on", ctx.on)


@effect("remember_pended_from")
def remember_pended_from(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.review, "pended_from", ctx.from_state)
    ctx.set(ctx.review, "pend_reason", ctx.data["reason"])
    ctx.set(ctx.review, "expected_resume_on", _date(ctx, "expected_resume_on"))


@effect("clear_pended_from")
def clear_pended_from(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.review, "pended_from", None)
    ctx.set(ctx.review, "expected_resume_on", None)


@effect("record_criminal_proceedings")
def record_criminal_proceedings(ctx: EventContext, _call: Call) -> None:
    from app.proceedings.service import record_criminal_status

    before = ctx.review.criminal_proceedings_open
    touched = record_criminal_status(ctx.session, review=ctx.review, status=ctx.data["status"], on=ctx.on)
    if touched:
        ctx.changes["criminal_proceedings_open"] = [before, ctx.review.criminal_proceedings_open]
        ctx.changes["proceedings"] = touched


# IMRs ------------------------------------------------------------------------------------------

@effect("record_imr_author")
def record_imr_author(ctx: EventContext, _call: Call) -> None:
    for name in ("author_name", "author_role", "independence_confirmed"):
        ctx.set(ctx.subject, name, ctx.data[name])


@effect("record_imr_submitted")
def record_imr_submitted(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.subject, "submitted_on", ctx.on)


@effect("record_imr_returned")
def record_imr_returned(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.subject, "returned_reason", ctx.data["reason"])
    ctx.set(ctx.subject, "times_returned", ctx.subject.times_returned + 1)


@effect("record_imr_accepted")
def record_imr_accepted(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.subject, "accepted_on", ctx.on)


# Actions ---------------------------------------------------------------------------------------

@effect("record_action_completed")
def record_action_completed(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.subject, "completed_on", _date(ctx, "completed_on"))
    ctx.set(ctx.subject, "outcome", ctx.data["outcome"])


@effect("record_action_reopened")
def record_action_reopened(ctx: EventContext, _call: Call) -> None:
    ctx.set(ctx.subject, "completed_on", None)


# Notifications ---------------------------------------------------------------------------------

@effect("notify")
def notify(ctx: EventContext, call: Call) -> None:
    """Email the roles named in the YAML (the actor excepted) about this event, in its transaction."""
    from app.notifications.events import notify as queue

    queue(ctx, message=call.params["message"], to=call.params["to"], outcome=call.params.get("outcome"))
