"""The readiness check: what would make the Home Office send the report back, found beforehand.

Run before `submit`, `resubmit` and `publish` (guidance 8.19, 9.1, 11.1) and on demand.
"""
from __future__ import annotations

from typing import Iterator

from sqlalchemy.orm import Session

from app.core import clock
from app.deadlines.rules import status_of
from app.documents.anonymisation import Matcher, find_identifiers, matchers_for
from app.documents.checks import Check
from app.documents.context import Facts, load_facts
from app.documents.publication_check import publication_document_checks
from app.documents.scans import Scans
from app.overview.models import OVERVIEW_SECTIONS
from app.reviews.models import Review


def texts_for_publication(facts: Facts) -> Iterator[tuple[str, str | None]]:
    """(where, text) for every text that reaches the Home Office or the public."""
    terms = facts.terms
    if terms is not None:
        for i, line in enumerate(terms.key_lines_of_enquiry or []):
            yield f"terms_of_reference.key_lines_of_enquiry[{i}]", line
        for name in ("parallel_processes", "family_involvement", "text"):
            yield f"terms_of_reference.{name}", getattr(terms, name)
    if facts.overview is not None:
        for name in OVERVIEW_SECTIONS:
            yield f"overview.{name}", getattr(facts.overview, name)
    for rec in facts.recommendations:
        yield f"recommendations/{rec.id}.text", rec.text
    for action in facts.actions:
        for name in ("action", "outcome_measure", "milestones", "outcome"):
            yield f"actions/{action.id}.{name}", getattr(action, name)
    for entry, imr, _agency in facts.chronology:
        if imr.state == "no_involvement":
            continue
        for name in ("description", "views_expressed"):
            yield f"chronology/{entry.id}.{name}", getattr(entry, name)
        for i, seen in enumerate(entry.seen or []):
            yield f"chronology/{entry.id}.seen[{i}]", seen


def anonymisation_checks(facts: Facts) -> list[Check]:
    people = facts.people
    matchers: list[Matcher] = matchers_for(people)
    failures = []
    for where, text in texts_for_publication(facts):
        words = find_identifiers(text, matchers)
        if words:
            quoted = ", ".join(f"'{w}'" for w in words)
            failures.append(
                Check(
                    "anonymisation",
                    False,
                    f"{where} contains identifying words: {quoted}. Replace them with the agreed pseudonyms.",
                    where,
                )
            )
    if failures:
        return failures
    if not people:
        return [Check("anonymisation", False, "No people are recorded for this review, so its text cannot be checked for their names: record the victim, the perpetrator and the family with their pseudonyms.", "people")]
    return [Check("anonymisation", True, "No name, alias, date of birth or address of the review's people was found.")]


def run_checks(session: Session, review: Review) -> list[Check]:
    """The whole check of the review as it stands today."""
    return lasting_checks(session, review) + dated_checks(review, clock.today())


def dated_checks(review: Review, today) -> list[Check]:
    """The checks whose answer changes with the date alone (a deadline passing): worked out on every
    view, so a kept result of lasting_checks stays good from one day to the next."""
    overview_deadline = next((d for d in review.deadlines if d.kind == "overview_report"), None)
    late = overview_deadline is not None and status_of(overview_deadline, today) in ("overdue", "met_late")
    extended = overview_deadline is not None and bool(overview_deadline.extensions)
    return [
        Check(
            "extension_for_overdue_period",
            not late or extended,
            "The Overview Report went past six months without an agreed extension: record the extension the CSP agreed, with reasons (6.4)." if late and not extended
            else "The Overview Report is within its six months or an agreed extension.",
            "deadlines.overview_report" if late and not extended else None,
        )
    ]


def lasting_checks(session: Session, review: Review, scans: Scans | None = None) -> list[Check]:
    """The checks whose answer changes only when the review, its records or its templates do.
    `scans`: the reports' scans known already (app/documents/scans.py)."""
    facts = load_facts(session, review)  # read once, for every check below
    checks = anonymisation_checks(facts)
    checks += publication_document_checks(session, review, facts, scans)
    session_overview = facts.overview
    empty = [s for s in OVERVIEW_SECTIONS if session_overview is None or not (getattr(session_overview, s) or "").strip()]
    checks.append(
        Check(
            "overview_sections",
            not empty,
            f"The Overview Report sections {', '.join(empty)} are empty: write them (Appendix 4)." if empty
            else "Every Appendix 4 section of the Overview Report is written.",
            f"overview.{empty[0]}" if empty else None,
        )
    )

    recommendations = facts.recommendations
    actions = facts.actions
    with_action = {a.recommendation_id for a in actions}
    unplanned = [r for r in recommendations if r.id not in with_action]
    checks.append(
        Check(
            "recommendations_in_action_plan",
            bool(recommendations) and not unplanned,
            "There are no recommendations: the consolidated action plan brings together the overview's and the IMRs' recommendations (8.16)." if not recommendations
            else f"Recommendations {', '.join(str(r.number) for r in unplanned)} have no action in the action plan (8.16)." if unplanned
            else "Every recommendation, from the IMRs and the overview, is in the action plan with an action.",
            f"recommendations/{unplanned[0].id}" if unplanned else None,
        )
    )
    not_smart = [a for a in actions if not (a.action.strip() and a.lead_agency_id and a.target_date and a.outcome_measure.strip())]
    checks.append(
        Check(
            "actions_smart",
            not not_smart,
            f"{len(not_smart)} action(s) lack a lead agency, a target date or a measurable outcome: complete them (8.17)." if not_smart
            else "Every action has a lead agency, a target date and a measurable outcome.",
            f"actions/{not_smart[0].id}" if not_smart else None,
        )
    )

    terms = facts.terms
    for topic, label, relevant in (
        ("coercive_control", "coercive control", True),
        ("equality_and_diversity", "equality and diversity", True),
        ("suicide", "suicide", review.death_type == "suicide"),
    ):
        if not relevant:
            continue
        addressed = terms is not None and getattr(terms, topic)
        checks.append(
            Check(
                f"terms_{topic}",
                bool(addressed),
                f"The terms of reference address {label}." if addressed
                else f"The terms of reference do not address {label}: add it to them (5.11).",
                None if addressed else f"terms_of_reference.{topic}",
            )
        )

    family_recorded = review.family_response is not None and session_overview is not None and bool(session_overview.family_contribution.strip())
    checks.append(
        Check(
            "family_involvement",
            family_recorded,
            "The family's involvement and response are recorded." if family_recorded
            else "Record the family's contribution in the overview and their response to the report (7.3).",
            None if family_recorded else ("overview.family_contribution" if review.family_response else "review.family_response"),
        )
    )

    notified = review.home_office_notified_on is not None
    checks.append(
        Check(
            "home_office_notified_of_decision",
            notified,
            f"The Home Office was sent the decision on {review.home_office_notified_on.isoformat()}." if notified
            else "There is no record that the decision was sent to the Home Office: record the date (4.6).",
            None if notified else "review.home_office_notified_on",
        )
    )

    chair = next((member for member, _name, _agency in facts.panel if member.role == "chair"), None)
    independent = chair is not None and bool((chair.independence_statement or "").strip())
    checks.append(
        Check(
            "panel_chair_independent",
            independent,
            "The panel chair's independence statement is recorded." if independent
            else "Record the independent panel chair and their independence statement (5.8-5.10).",
            None if independent else "panel",
        )
    )
    return checks
