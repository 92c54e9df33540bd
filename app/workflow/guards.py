"""Named guards: each returns None when satisfied, or the reason a person reads when it is not.

Each cites its guidance paragraph; the workflow YAML refers to them by name.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from sqlalchemy import func, select

from app.actions.models import Action
from app.core import clock
from app.imrs.models import Imr
from app.overview.models import Overview, Recommendation
from app.panel.models import PanelMember
from app.terms.service import latest_terms
from app.workflow.context import EventContext
from app.workflow.definition import Call

Guard = Callable[[EventContext, Call], "str | None"]
GUARDS: dict[str, Guard] = {}
# Guards that judge the event's data: the list of allowed events cannot judge them in advance.
DATA_GUARDS: set[str] = set()

OVERVIEW_REQUIRED = ("introduction", "facts", "analysis", "key_issues", "conclusions", "lessons")
GATHERING_EVIDENCE = ("evidence", "drafting")
PLAN_AGREED = (
    "family_review", "csp_signoff", "submitted", "cleared_subject_to_changes", "revising",
    "cleared", "published", "publication_withheld", "pended",
)


def guard(name: str, *, judges_data: bool = False) -> Callable[[Guard], Guard]:
    def register(fn: Guard) -> Guard:
        GUARDS[name] = fn
        if judges_data:
            DATA_GUARDS.add(name)
        return fn

    return register


@guard("victim_aged_16_or_over")
def victim_aged_16_or_over(ctx: EventContext, _call: Call) -> str | None:
    """3.8: a review is held when the person who died was aged 16 or over."""
    if ctx.review.victim_age < 16:
        return (
            f"The victim was {ctx.review.victim_age}: a DHR is held only when the person was aged 16 or "
            "over (guidance 3.8). Decide not to review and refer the death for a child review."
        )
    return None


@guard("child_review_considered_if_16_or_17", judges_data=True)
def child_review_considered(ctx: EventContext, _call: Call) -> str | None:
    """4.5: for a victim aged 16 or 17, record how a child review was considered."""
    if ctx.review.victim_age in (16, 17) and ctx.data.get("child_review_considered") is not True:
        return (
            "The victim was aged 16 or 17: confirm that a child review was considered "
            "(child_review_considered: true) and say how in the rationale (guidance 4.5)."
        )
    return None


@guard("not_in_future", judges_data=True)
def not_in_future(ctx: EventContext, call: Call) -> str | None:
    value = ctx.data.get(call.arg or "")
    if value and dt.date.fromisoformat(value) > clock.today():
        return f"{call.arg} is {value}, which is in the future: give the date it actually happened."
    return None


def _panel_chair(ctx: EventContext) -> PanelMember | None:
    return ctx.session.scalars(
        select(PanelMember).where(PanelMember.review_id == ctx.review.id, PanelMember.role == "chair")
    ).first()


@guard("independent_panel_chair_appointed")
def independent_panel_chair_appointed(ctx: EventContext, _call: Call) -> str | None:
    """5.8-5.10: an independent chair, with a statement of independence."""
    chair = _panel_chair(ctx)
    if chair is None:
        return "No panel chair is appointed: add one to the panel with an independence statement (guidance 5.8)."
    if not (chair.independence_statement or "").strip():
        return "The panel chair has no independence statement: record it on the panel (guidance 5.8-5.10)."
    return None


@guard("terms_of_reference_with_review_period")
def terms_with_review_period(ctx: EventContext, _call: Call) -> str | None:
    """5.11: terms of reference set the period the review covers."""
    terms = latest_terms(ctx.session, ctx.review.id)
    if terms is None:
        return "There are no terms of reference: write them first, on the review's terms of reference (guidance 5.11)."
    if terms.period_from is None or terms.period_to is None:
        return "The terms of reference set no review period: give the period the review covers, from and to (guidance 5.11)."
    if terms.period_from > terms.period_to:
        return "The review period ends before it starts: correct the period the review covers in the terms of reference."
    return None


@guard("imrs_commissioned")
def imrs_commissioned(ctx: EventContext, _call: Call) -> str | None:
    """8.1, 8.4: IMRs are commissioned from every agency that had contact."""
    count = ctx.session.scalar(select(func.count()).select_from(Imr).where(Imr.review_id == ctx.review.id))
    if not count:
        return "No IMR has been commissioned: commission one from each agency that knew the victim or perpetrator (guidance 8.1, 8.4)."
    return None


@guard("every_imr_accepted_or_no_involvement")
def every_imr_accepted(ctx: EventContext, _call: Call) -> str | None:
    """8.4, 8.9: drafting starts when every agency's IMR is accepted or it confirmed no contact."""
    waiting = ctx.session.execute(
        select(Imr.agency_id, Imr.state).where(
            Imr.review_id == ctx.review.id, Imr.state.not_in(("accepted", "no_involvement"))
        )
    ).all()
    if waiting:
        from app.partnerships.models import Agency

        names = dict(ctx.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_([w[0] for w in waiting]))).all())
        listing = ", ".join(f"{names.get(agency, agency)} ({state.replace('_', ' ')})" for agency, state in waiting)
        return f"Not every IMR is in: {listing}. Accept each IMR or record no involvement first (guidance 8.4)."
    return None


@guard("overview_required_sections_filled")
def overview_sections_filled(ctx: EventContext, _call: Call) -> str | None:
    """8.10-8.14, Appendix 4: the Overview Report's sections are written."""
    overview = ctx.session.get(Overview, ctx.review.id)
    empty = [s for s in OVERVIEW_REQUIRED if overview is None or not (getattr(overview, s) or "").strip()]
    if empty:
        return f"The Overview Report has empty sections: {', '.join(empty)}. Write them (Appendix 4)."
    return None


@guard("action_plan_has_recommendations")
def action_plan_has_recommendations(ctx: EventContext, _call: Call) -> str | None:
    """8.16: the Overview Report makes recommendations with an action plan."""
    count = ctx.session.scalar(
        select(func.count()).select_from(Recommendation).where(Recommendation.review_id == ctx.review.id)
    )
    if not count:
        return "The action plan has no recommendations: add the recommendations of the overview and the IMRs (guidance 8.16)."
    return None


@guard("every_recommendation_has_smart_action")
def every_recommendation_has_smart_action(ctx: EventContext, _call: Call) -> str | None:
    """8.16-8.17: every recommendation has an action with a lead agency and a target date."""
    recommendations = ctx.session.scalars(
        select(Recommendation).where(Recommendation.review_id == ctx.review.id).order_by(Recommendation.number)
    ).all()
    complete = set(
        ctx.session.scalars(
            select(Action.recommendation_id).where(
                Action.review_id == ctx.review.id,
                Action.lead_agency_id.is_not(None),
                Action.target_date.is_not(None),
            )
        )
    )
    missing = [f"recommendation {r.number}" for r in recommendations if r.id not in complete]
    if missing:
        return (
            f"{', '.join(missing)} {'has' if len(missing) == 1 else 'have'} no action with a lead agency and a "
            "target date: add one to each (guidance 8.16-8.17)."
        )
    return None


@guard("family_saw_report_or_reason_recorded", judges_data=True)
def family_saw_report(ctx: EventContext, _call: Call) -> str | None:
    """7.3: the family sees the report before it goes to the Home Office, or the record says why not."""
    if ctx.data.get("response") in ("agreed", "disagreed") and not ctx.data.get("shared_on"):
        return "Give shared_on, the date the report was shared with the family (guidance 7.3)."
    return None


@guard("disagreements_recorded_when_disagreed", judges_data=True)
def disagreements_recorded(ctx: EventContext, _call: Call) -> str | None:
    if ctx.data.get("response") == "disagreed" and not ctx.data.get("disagreements"):
        return "The family disagreed: record what they disagree with in disagreements (guidance 7.3)."
    return None


@guard("readiness_check_passes")
def readiness_check_passes(ctx: EventContext, _call: Call) -> str | None:
    """8.19, 9.1, 11.1: nothing goes to the Home Office or the public while the readiness check fails."""
    from app.documents.readiness import run_checks
    from app.documents.readiness_cache import checks_for_display

    ctx.readiness = checks_for_display(ctx.session, ctx.review) if ctx.for_display else run_checks(ctx.session, ctx.review)
    failures = [c for c in ctx.readiness if not c.passed]
    if failures:
        return "The readiness check fails: " + " ".join(f"{c.detail}" for c in failures)
    return None


@guard("no_open_criminal_proceedings")
def no_open_criminal_proceedings(ctx: EventContext, _call: Call) -> str | None:
    """9.2: publication waits until criminal proceedings are over."""
    if ctx.review.criminal_proceedings_open:
        return (
            "Criminal proceedings are open: publication waits until they conclude (guidance 9.2). Record "
            "their end with record_criminal_proceedings, or withhold publication."
        )
    return None


@guard("every_qa_change_made")
def every_qa_change_made(ctx: EventContext, _call: Call) -> str | None:
    """11.3: the review may be published once each change the QA panel asked for is made."""
    from app.submissions.service import changes_of

    waiting = changes_of(ctx.session, ctx.review.id, open_only=True)
    if waiting:
        numbers = ", ".join(str(c.number) for c in waiting)
        return (f"The QA panel's change{'s' if len(waiting) != 1 else ''} {numbers} {'are' if len(waiting) != 1 else 'is'} not marked made: "
                "mark each made, saying how (on the review's Home Office submissions), then confirm (guidance 11.3).")
    return None


@guard("every_action_completed")
def every_action_completed(ctx: EventContext, _call: Call) -> str | None:
    """8.20: the review concludes when the action plan is implemented."""
    open_actions = ctx.session.scalar(
        select(func.count()).select_from(Action).where(Action.review_id == ctx.review.id, Action.state != "completed")
    )
    if open_actions:
        return f"{open_actions} action{'s are' if open_actions != 1 else ' is'} not completed: complete each with its outcome first (guidance 8.20)."
    return None


@guard("extension_is_for_an_open_deadline_and_later", judges_data=True)
def extension_is_valid(ctx: EventContext, _call: Call) -> str | None:
    """6.4: the CSP may agree an extension of an open deadline, with reasons."""
    from app.deadlines.service import find

    kind = ctx.data.get("deadline")
    if not kind:
        return None
    subject_id = ctx.data.get("subject_id") or ""
    if kind in ("imr", "action") and not subject_id:
        return f"Say which {'IMR' if kind == 'imr' else kind} has the deadline to extend (subject_id: its id)."
    deadline = find(ctx.session, review_id=ctx.review.id, kind=kind, subject_id=subject_id)
    if deadline is None:
        return f"This review has no {kind.replace('_', ' ')} deadline{' for that id' if subject_id else ''} to extend."
    if not deadline.is_open:
        return f"The {kind.replace('_', ' ')} deadline is already closed: only an open deadline can be extended."
    new_due = dt.date.fromisoformat(ctx.data["new_due_on"])
    if new_due <= deadline.due_on:
        return f"The new due date must be after the current one ({deadline.due_on.isoformat()})."
    return None


@guard("review_gathering_evidence")
def review_gathering_evidence(ctx: EventContext, _call: Call) -> str | None:
    """8.6-8.9: IMRs are worked on while the review gathers evidence."""
    if ctx.review.state not in GATHERING_EVIDENCE:
        return f"The review is {ctx.review.state.replace('_', ' ')}: IMRs change only while it gathers evidence or drafts."
    return None


@guard("author_independence_confirmed", judges_data=True)
def author_independence_confirmed(ctx: EventContext, _call: Call) -> str | None:
    """8.7: the IMR author had no involvement with the case."""
    if ctx.data.get("independence_confirmed") is not True:
        return "The IMR author must be independent of the case: confirm independence_confirmed: true, or name another author (guidance 8.7)."
    return None


IMR_REQUIRED = ("methodology", "analysis", "lessons")


@guard("imr_sections_filled")
def imr_sections_filled(ctx: EventContext, _call: Call) -> str | None:
    """Appendix 2: the IMR's sections are written before the senior manager reviews it."""
    imr = ctx.subject
    empty = [s for s in IMR_REQUIRED if not (getattr(imr, s) or "").strip()]
    if empty:
        return f"The IMR has empty sections: {', '.join(empty)}. Write them first (Appendix 2)."
    return None


@guard("action_plan_agreed")
def action_plan_agreed(ctx: EventContext, _call: Call) -> str | None:
    """8.18: actions are carried out once the panel has agreed the plan."""
    if ctx.review.state not in PLAN_AGREED:
        return "The panel has not yet approved the action plan: actions start once it has (guidance 8.18)."
    return None


@guard("review_not_concluded")
def review_not_concluded(ctx: EventContext, _call: Call) -> str | None:
    if ctx.review.state == "concluded":
        return "The review is concluded: its actions can no longer change."
    return None
