"""An invented review with every field filled, to try a partnership's template before it is used.

Every person, place and event here is fictional. Values include '&', '<', apostrophes and
accents so that a template which mishandles them fails here rather than on a real review.
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace as Row

from app.documents.context import Facts

D = dt.date


def sample_facts() -> Facts:
    police = Row(id="a1", name="Northshire Police", kind="police")
    housing = Row(id="a2", name="Smith & Sons Housing <Trust>", kind="housing")
    gp = Row(id="a3", name="Riverside GP Practice", kind="health")
    imr_police = Row(
        id="i1", agency_id="a1", state="accepted", commissioned_on=D(2026, 2, 2), due_on=D(2026, 3, 30),
        author_name="Det Insp Chloé Martin", author_role="Review officer", independence_confirmed=True,
        methodology="Records review.\nTwo interviews.", parallel_processes="Coroner's inquest opened.",
        analysis="Risk was assessed as standard.", effective_practice="Prompt attendance.", lessons="DASH refresher.",
    )
    imr_housing = Row(
        id="i2", agency_id="a2", state="in_progress", commissioned_on=D(2026, 2, 2), due_on=D(2026, 3, 30),
        author_name="", author_role="", independence_confirmed=False,
        methodology="", parallel_processes="", analysis="", effective_practice="", lessons="",
    )
    imr_gp = Row(
        id="i3", agency_id="a3", state="no_involvement", commissioned_on=D(2026, 2, 2), due_on=D(2026, 3, 30),
        author_name="", author_role="", independence_confirmed=False,
        methodology="", parallel_processes="", analysis="", effective_practice="", lessons="",
    )
    entry = Row(
        imr_id="i1", occurred_on=D(2025, 11, 3), description="Officers attended a call from Ms Ada Testcase & her neighbour.",
        seen=["Ada Testcase"], views_expressed="She didn't want to proceed.", staff="PC Ray Example", interviewed=True,
    )
    recommendation = Row(id="r1", number=1, text="Refresh DASH training <all staff>.", scope="local", imr_id="i1")
    action = Row(
        recommendation_id="r1", action="Deliver training & audit.", lead_agency_id="a1", milestones="Plan agreed.",
        target_date=D(2026, 12, 1), completed_on=D(2026, 11, 1), outcome="All staff trained.",
    )
    overview_deadline = Row(
        kind="overview_report", subject_id="", due_on=D(2026, 9, 1),
        extensions=[Row(previous_due_on=D(2026, 7, 12), new_due_on=D(2026, 9, 1), reason="Awaiting the trial's outcome.")],
    )
    return Facts(
        review=Row(
            id="sample", reference="DHR-2026-SAMPLE-001", decided_on=D(2026, 1, 12), overview_approved_on=D(2026, 8, 20),
            criminal_proceedings_open=False, date_of_death=D(2025, 12, 24), notified_on=D(2025, 12, 29),
            notified_by="Northshire Police", decision="review", decision_rationale="The criteria in 4.1 are met.",
            child_review_considered=True, home_office_notified_on=D(2026, 1, 14), terms_agreed_on=D(2026, 2, 1),
            signed_off_on=D(2026, 9, 1), death_type="homicide", relationship="intimate_partner", victim_age=34,
            summary="A woman aged 34 died at home.", state="revising",
            qa_feedback="The analysis does not connect the housing reports with the police call-outs.",
        ),
        csp=Row(name="Northshire Community Safety Partnership", code="SAMPLE", region="East of England"),
        people=[
            Row(role="victim", name="Ada Testcase", pseudonym="Mary", aliases=[], date_of_birth=D(1991, 5, 6),
                address="1 Example Row, Northtown NT1 1AA", relationship="Victim", ethnicity="White British"),
            Row(role="perpetrator", name="Zoë O'Brien-Smith", pseudonym="Sam", aliases=["Zed"], date_of_birth=None,
                address=None, relationship="Partner", ethnicity="White Irish"),
        ],
        panel=[
            (Row(role="chair", independence_statement="No prior involvement with any agency."), "Dr Hélène Fairchild", ""),
            (Row(role="member", independence_statement=None), "Pat Member", "Northshire Police"),
        ],
        imrs=[(imr_police, police), (imr_housing, housing), (imr_gp, gp)],
        chronology=[(entry, imr_police, police)],
        terms=Row(
            period_from=D(2023, 1, 1), period_to=D(2025, 12, 24), key_lines_of_enquiry=["Was risk assessed?"],
            coercive_control=True, equality_and_diversity=True, suicide=False,
            parallel_processes="Inquest.", family_involvement="The family met the chair.", text="Terms in full.",
        ),
        overview=Row(
            introduction="Introduction.", facts="Facts.", analysis="Analysis.", equality_and_diversity="Equality.",
            family_contribution="The family's view.", key_issues="Key issues.", conclusions="Conclusions.", lessons="Lessons.",
            dissemination=["Northshire CSP board", "Home Office"],
        ),
        recommendations=[recommendation],
        actions=[action],
        agencies={"a1": police, "a2": housing, "a3": gp},
        deadlines=[overview_deadline],
        # Submitted once and sent back (11.2), so a cover letter template meets the resubmission paragraphs.
        submissions=[Row(number=1, submitted_on=D(2026, 9, 3), what_changed=None, answers_feedback=None, edits=None)],
    )
