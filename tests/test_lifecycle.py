"""One review from notification to conclusion, over HTTP, each step done by the person whose job it is.

Every step checks what a user would see afterwards: the review's state, its deadlines (as listed by
GET /reviews/{id}) and the new rows of its history (GET /reviews/{id}/events). Dates are fixed with
the test clock; expected due dates are worked out by hand from the statutory periods, never by the
app's own date functions. Every date stays on or before 2026-11-21: the sign-in tokens of
tests/support.py expire a day after the real time, so a test clock beyond that answers 401.

Paragraph numbers refer to the Home Office's Multi-Agency Statutory Guidance for the Conduct of
Domestic Homicide Reviews (2011).
"""
from __future__ import annotations

import datetime as dt

from tests.journey import OVERVIEW, Journey
from tests.support import ok

D = dt.date.fromisoformat

# Names of the people in tests/support.py, as the history shows them.
CORA = "Cora Coordinator"
CHRIS = "Chris Cspchair"
PENNY = "Penny Panelchair"
PERCY = "Percy Policeauthor"
MOLLY = "Molly Policemanager"
HATTIE = "Hattie Healthauthor"
HENRY = "Henry Healthmanager"
HUGO = "Hugo Homeoffice"


def deadline(due_on: str, status: str, met_on: str | None = None, original_due_on: str | None = None) -> dict:
    return {"due_on": due_on, "original_due_on": original_due_on or due_on, "status": status, "met_on": met_on}


class Watch:
    """What the user sees: the review's state, its deadlines and the history rows added since last time."""

    def __init__(self, j: Journey):
        self.j = j
        self.deadlines: dict[tuple[str, str | None], dict] = {}
        self.seen = 0

    def at(self, day: str) -> None:
        """Move the clock forward to a given date."""
        self.j.advance((D(day) - self.j.day).days)

    def check(self, state: str, rows: list[tuple[str, str | None, str | None, str]]) -> dict:
        review = self.j.get("coordinator")
        assert review["state"] == state
        shown = {
            (d["kind"], d["subject_id"]): {k: d[k] for k in ("due_on", "original_due_on", "status", "met_on")}
            for d in review["deadlines"]
        }
        assert shown == self.deadlines
        history = self.j.history()
        new = history[self.seen:]
        assert [(e["event"], e["from_state"], e["to_state"], e["actor"]) for e in new] == rows
        assert all(e["on"] == self.j.day.isoformat() for e in new), "each row is dated the day it happened"
        self.seen = len(history)
        return review


def imr_get(j: Journey, agency: str) -> dict:
    return ok(j.as_("panel_chair").get(f"/imrs/{j.imrs[agency]}"))


def imr_patch(j: Journey, who: str, agency: str, **fields) -> dict:
    imr = ok(j.as_(who).get(f"/imrs/{j.imrs[agency]}"))
    return ok(j.as_(who).patch(f"/imrs/{j.imrs[agency]}", headers={"If-Match": f'"{imr["version"]}"'}, json=fields))


def overview_patch(j: Journey, **fields) -> dict:
    overview = ok(j.as_("panel_chair").get(f"/reviews/{j.id}/overview"))
    return ok(j.as_("panel_chair").patch(f"/reviews/{j.id}/overview", headers={"If-Match": f'"{overview["version"]}"'}, json=fields))


IMR_TEXT = {
    "methodology": "Records reviewed; staff interviewed.",
    "analysis": "Contact was appropriate but risk was not assessed.",
    "lessons": "Ask about coercive control.",
}


def test_one_review_from_notification_to_conclusion(api, world):
    """A review walks the whole statutory path, with the side paths people really take.

    Notification (4.1-4.3) starts the one-month decision and terms-of-reference deadlines (6.2).
    The CSP chair first decides not to review (4.4, 4.6), reconsiders (11.4) and decides to review;
    the six-month Overview Report deadline starts from that decision (6.4). The terms of reference
    are agreed late, so that deadline shows met_late (6.2). The review is pended for criminal
    proceedings and resumes where it left off (6.5-6.8). One IMR is returned by its agency's senior
    manager (8.8) and by the panel chair (8.9), which reopens its deadline, before it is accepted.
    The CSP agrees an extension of the Overview Report deadline (6.4); the panel asks for changes
    before approving (8.15-8.18); the family sees the report (7.3); the CSP signs off and submits
    (8.19); Home Office QA first requires a resubmission (11.2), then clears subject to changes,
    which the CSP confirms; the report is published (9.1-9.5) and the review concluded once its
    action is completed (8.20).
    """
    j = Journey(api, world, notified_on=D("2026-01-05"))
    w = Watch(j)
    police, health = world.agencies["police"], world.agencies["health"]

    # -- Notification: one calendar month for the decision and the terms of reference (6.2) ------
    w.deadlines = {
        ("decision", None): deadline("2026-02-05", "pending"),
        ("terms_of_reference", None): deadline("2026-02-05", "pending"),
    }
    review = w.check("notified", [("record_notification", None, "notified", CORA)])
    assert review["reference"] == "DHR-2026-CAMCITY-001"

    # -- Decision not to review (4.4, 4.6): decision met, terms of reference waived ---------------
    w.at("2026-01-12")
    j.fire("chair", "decide_not_to_review", rationale="The death appears to be an accident.")
    w.deadlines[("decision", None)] = deadline("2026-02-05", "met", "2026-01-12")
    w.deadlines[("terms_of_reference", None)] = deadline("2026-02-05", "waived")
    review = w.check("not_reviewed", [("decide_not_to_review", "notified", "not_reviewed", CHRIS)])
    assert (review["decision"], review["decided_on"]) == ("not_review", "2026-01-12")
    assert "reconsider" in j.get("chair")["allowed_events"]

    j.fire("coordinator", "record_home_office_notified", sent_on="2026-01-12")
    review = w.check("not_reviewed", [("record_home_office_notified", "not_reviewed", "not_reviewed", CORA)])
    assert review["home_office_notified_on"] == "2026-01-12"

    # -- Reconsidered (4.6, 11.4): back to notified, both deadlines open again ---------------------
    w.at("2026-01-14")
    j.fire("chair", "reconsider", reason="The police now treat the death as a homicide.")
    w.deadlines[("decision", None)] = deadline("2026-02-05", "pending")
    w.deadlines[("terms_of_reference", None)] = deadline("2026-02-05", "pending")
    review = w.check("notified", [("reconsider", "not_reviewed", "notified", CHRIS)])
    assert review["decision"] is None and review["decided_on"] is None and review["home_office_notified_on"] is None

    # -- Decision to review: decided 2026-01-15, so the Overview Report is due 2026-07-15 (6.4) ---
    w.at("2026-01-15")
    j.fire("chair", "decide_to_review", rationale="The death meets the definition in guidance 3.8.")
    w.deadlines[("decision", None)] = deadline("2026-02-05", "met", "2026-01-15")
    w.deadlines[("overview_report", None)] = deadline("2026-07-15", "pending")
    review = w.check("scoping", [("decide_to_review", "notified", "scoping", CHRIS)])
    assert (review["decision"], review["decided_on"]) == ("review", "2026-01-15")

    j.fire("coordinator", "record_home_office_notified", sent_on="2026-01-15")
    review = w.check("scoping", [("record_home_office_notified", "scoping", "scoping", CORA)])
    assert review["home_office_notified_on"] == "2026-01-15"

    # -- Scoping (5.1-5.13): people, panel and terms; the terms deadline passes meanwhile ---------
    w.at("2026-02-09")
    ok(j.as_("coordinator").post(f"/reviews/{j.id}/people", json={
        "role": "victim", "name": "Zoë O'Brien-Smith", "pseudonym": "Adult A", "aliases": ["Zed"],
        "date_of_birth": "1991-03-04", "address": "12 Acacia Avenue, Exampletown EX1 2AB"}), 201)
    ok(j.as_("coordinator").post(f"/reviews/{j.id}/people", json={
        "role": "perpetrator", "name": "Bartholomew Quince", "pseudonym": "Adult B"}), 201)
    ok(j.as_("coordinator").post(f"/reviews/{j.id}/panel", json={
        "user_id": world.user("panel_chair").id, "role": "chair",
        "independence_statement": "I have no connection with any agency involved."}), 201)
    ok(j.as_("coordinator").post(f"/reviews/{j.id}/panel", json={
        "user_id": world.user("panel_member").id, "role": "member", "agency_id": police}), 201)
    ok(j.as_("panel_chair").put(f"/reviews/{j.id}/terms-of-reference", json={
        "period_from": "2023-01-01", "period_to": "2026-01-02",
        "key_lines_of_enquiry": ["What did agencies know of the risk?"],
        "coercive_control": True, "equality_and_diversity": True, "suicide": False,
        "family_involvement": "The family will be invited to contribute.", "text": "Terms of reference."}))
    w.deadlines[("terms_of_reference", None)] = deadline("2026-02-05", "overdue")
    w.check("scoping", [
        ("add_person", None, None, CORA),
        ("add_person", None, None, CORA),
        ("add_panel_member", None, None, CORA),
        ("add_panel_member", None, None, CORA),
        ("revise_terms_of_reference", None, None, PENNY),
    ])

    # -- Terms agreed on 2026-02-10, five days after their due date: met late (5.11, 6.2) --------
    w.at("2026-02-10")
    j.fire("panel_chair", "agree_terms_of_reference")
    w.deadlines[("terms_of_reference", None)] = deadline("2026-02-05", "met_late", "2026-02-10")
    review = w.check("evidence", [("agree_terms_of_reference", "scoping", "evidence", PENNY)])
    assert review["terms_agreed_on"] == "2026-02-10"

    # -- IMRs commissioned (8.1, 8.6): police due 2026-03-27 as set; health 8 weeks -> 2026-04-08
    w.at("2026-02-11")
    j.imrs["police"] = ok(j.as_("panel_chair").post(f"/reviews/{j.id}/imrs", json={"agency_id": police, "due_on": "2026-03-27"}), 201)["id"]
    j.imrs["health"] = ok(j.as_("panel_chair").post(f"/reviews/{j.id}/imrs", json={"agency_id": health}), 201)["id"]
    p_imr, h_imr = ("imr", j.imrs["police"]), ("imr", j.imrs["health"])
    w.deadlines[p_imr] = deadline("2026-03-27", "pending")
    w.deadlines[h_imr] = deadline("2026-04-08", "pending")
    # Each commissioning also makes the letter to the agency's senior manager (8.1).
    w.check("evidence", [
        ("commission_imr", None, "commissioned", PENNY),
        ("generate_document", None, None, PENNY),
        ("commission_imr", None, "commissioned", PENNY),
        ("generate_document", None, None, PENNY),
    ])
    letters = ok(j.as_("police_author").get(f"/reviews/{j.id}/documents", params={"kind": "imr_commission_letter"}))["items"]
    assert [(d["imr_id"], d["version"]) for d in letters] == [(j.imrs["police"], 1)]

    # -- Pended for criminal proceedings (6.5-6.8), then resumed into the state it left ----------
    w.at("2026-02-16")
    j.fire("chair", "pend", reason="The criminal trial of Adult B starts.", expected_resume_on="2026-03-02")
    review = w.check("pended", [("pend", "evidence", "pended", CHRIS)])
    assert (review["pended_from"], review["expected_resume_on"]) == ("evidence", "2026-03-02")
    assert "resume" in j.get("chair")["allowed_events"]
    refused = j.imr_event("police_author", "police", "acknowledge", expect=409,
                          author_name="Ivy Independent", author_role="Review officer", independence_confirmed=True)
    assert "pended" in refused["failed_guards"][0]["reason"]
    w.check("pended", [])

    w.at("2026-03-02")
    j.fire("chair", "resume")
    review = w.check("evidence", [("resume", "pended", "evidence", CHRIS)])
    assert review["pended_from"] is None and review["expected_resume_on"] is None

    # -- IMR authors named and independent (8.7) ---------------------------------------------------
    w.at("2026-03-03")
    j.imr_event("police_author", "police", "acknowledge", author_name="Ivy Independent", author_role="Review officer", independence_confirmed=True)
    j.imr_event("health_author", "health", "acknowledge", author_name="Nora Neutral", author_role="Safeguarding lead", independence_confirmed=True)
    w.check("evidence", [
        ("acknowledge", "commissioned", "in_progress", PERCY),
        ("acknowledge", "commissioned", "in_progress", HATTIE),
    ])

    # -- Police IMR written and sent to its senior manager (8.8, Appendix 2) ----------------------
    w.at("2026-03-09")
    imr_patch(j, "police_author", "police", **IMR_TEXT)
    ok(j.as_("police_author").post(f"/imrs/{j.imrs['police']}/chronology", json={
        "occurred_on": "2025-06-01", "description": "Adult A reported a threat.", "seen": ["Adult A"],
        "staff": "Officer 1", "interviewed": True}), 201)
    j.imr_event("police_author", "police", "send_for_agency_review")
    w.check("evidence", [
        ("read_imr", None, None, PERCY),  # every read of an IMR is in the history (imr_patch reads it first)
        ("edit_imr", None, None, PERCY),
        ("add_chronology_entry", None, None, PERCY),
        ("send_for_agency_review", "in_progress", "agency_review", PERCY),
    ])

    # -- ... returned once by the agency's senior manager (8.8) ------------------------------------
    w.at("2026-03-10")
    j.imr_event("police_manager", "police", "return", reason="Add the call handler's account.")
    w.check("evidence", [("return", "agency_review", "in_progress", MOLLY)])
    imr = imr_get(j, "police")
    assert (imr["state"], imr["returned_reason"], imr["times_returned"]) == ("in_progress", "Add the call handler's account.", 1)
    w.check("evidence", [("read_imr", None, None, PENNY)])

    # -- ... resent and quality-assured: the IMR deadline is met on 2026-03-13 ---------------------
    w.at("2026-03-12")
    j.imr_event("police_author", "police", "send_for_agency_review")
    w.check("evidence", [("send_for_agency_review", "in_progress", "agency_review", PERCY)])
    w.at("2026-03-13")
    j.imr_event("police_manager", "police", "quality_assure")
    w.deadlines[p_imr] = deadline("2026-03-27", "met", "2026-03-13")
    w.check("evidence", [("quality_assure", "agency_review", "submitted", MOLLY)])

    # -- Health IMR goes straight through and is accepted (8.8-8.9) -------------------------------
    w.at("2026-03-16")
    imr_patch(j, "health_author", "health", **IMR_TEXT)
    j.imr_event("health_author", "health", "send_for_agency_review")
    j.imr_event("health_manager", "health", "quality_assure")
    j.imr_event("panel_chair", "health", "accept")
    w.deadlines[h_imr] = deadline("2026-04-08", "met", "2026-03-16")
    w.check("evidence", [
        ("read_imr", None, None, HATTIE),
        ("edit_imr", None, None, HATTIE),
        ("send_for_agency_review", "in_progress", "agency_review", HATTIE),
        ("quality_assure", "agency_review", "submitted", HENRY),
        ("accept", "submitted", "accepted", PENNY),
    ])
    assert "begin_drafting" not in j.get("panel_chair")["allowed_events"]  # the police IMR is not accepted

    # -- The panel chair returns the police IMR (8.9): its deadline is open again ------------------
    w.at("2026-03-18")
    j.imr_event("panel_chair", "police", "return", reason="The analysis does not address the terms of reference.")
    w.deadlines[p_imr] = deadline("2026-03-27", "pending")
    w.check("evidence", [("return", "submitted", "in_progress", PENNY)])
    imr = imr_get(j, "police")
    assert (imr["state"], imr["times_returned"]) == ("in_progress", 2)
    assert imr["deadline"]["status"] == "pending" and imr["deadline"]["met_on"] is None
    w.check("evidence", [("read_imr", None, None, PENNY)])

    # -- Resubmitted after its due date: quality-assured on 2026-03-30, so met late ----------------
    w.at("2026-03-24")
    imr_patch(j, "police_author", "police", analysis="Each contact is analysed against each line of enquiry.")
    j.imr_event("police_author", "police", "send_for_agency_review")
    w.check("evidence", [
        ("read_imr", None, None, PERCY),
        ("edit_imr", None, None, PERCY),
        ("send_for_agency_review", "in_progress", "agency_review", PERCY),
    ])
    w.at("2026-03-30")
    j.imr_event("police_manager", "police", "quality_assure")
    w.deadlines[p_imr] = deadline("2026-03-27", "met_late", "2026-03-30")
    w.check("evidence", [("quality_assure", "agency_review", "submitted", MOLLY)])

    w.at("2026-04-01")
    j.imr_event("panel_chair", "police", "accept")
    w.check("evidence", [("accept", "submitted", "accepted", PENNY)])
    assert imr_get(j, "police")["state"] == "accepted"
    w.check("evidence", [("read_imr", None, None, PENNY)])

    # -- Every IMR accepted: drafting begins (8.4, 8.10) -------------------------------------------
    w.at("2026-04-02")
    j.fire("panel_chair", "begin_drafting")
    w.check("drafting", [("begin_drafting", "evidence", "drafting", PENNY)])

    # -- The Overview Report, a recommendation and its SMART action (8.10-8.17) -------------------
    w.at("2026-06-01")
    overview_patch(j, **OVERVIEW)
    rec = ok(j.as_("panel_chair").post(f"/reviews/{j.id}/recommendations", json={
        "text": "Embed routine enquiry.", "scope": "local", "imr_id": j.imrs["police"]}), 201)
    action = ok(j.as_("panel_chair").post(f"/recommendations/{rec['id']}/actions", json={
        "action": "Train front-line officers in routine enquiry.", "lead_agency_id": police,
        "target_date": "2026-12-01", "outcome_measure": "90% of officers trained.",
        "milestones": "Course written; first cohort trained."}), 201)
    w.deadlines[("action", action["id"])] = deadline("2026-12-01", "pending")
    w.check("drafting", [
        ("edit_overview", None, None, PENNY),
        ("add_recommendation", None, None, PENNY),
        ("add_action", None, "open", PENNY),
    ])

    # -- The CSP agrees an extension (6.4): new due date, the original kept on record --------------
    w.at("2026-06-30")
    j.fire("chair", "agree_extension", deadline="overview_report", new_due_on="2026-09-15",
           reason="The criminal trial delayed the IMRs by two weeks; the family asked for more time.")
    w.deadlines[("overview_report", None)] = deadline("2026-09-15", "pending", original_due_on="2026-07-15")
    review = w.check("drafting", [("agree_extension", "drafting", "drafting", CHRIS)])
    report = next(d for d in review["deadlines"] if d["kind"] == "overview_report")
    assert [(e["previous_due_on"], e["new_due_on"], e["agreed_on"]) for e in report["extensions"]] == [
        ("2026-07-15", "2026-09-15", "2026-06-30")
    ]
    assert j.history()[-1]["changes"]["deadline.overview_report.due_on"] == ["2026-07-15", "2026-09-15"]

    # -- Presented to the panel, which asks for changes (8.15) -------------------------------------
    w.at("2026-07-01")
    j.fire("panel_chair", "present_overview")
    w.check("panel_review", [("present_overview", "drafting", "panel_review", PENNY)])

    w.at("2026-07-08")
    j.fire("panel_chair", "request_changes", reason="Say more about the housing contact.")
    w.check("drafting", [("request_changes", "panel_review", "drafting", PENNY)])

    # -- Past the original due date but within the extension: still pending, not overdue ---------
    w.at("2026-07-20")
    overview_patch(j, analysis=OVERVIEW["analysis"] + " The housing contact is now analysed.")
    j.fire("panel_chair", "present_overview")
    w.check("panel_review", [
        ("edit_overview", None, None, PENNY),
        ("present_overview", "drafting", "panel_review", PENNY),
    ])

    # -- Approved on 2026-07-27: met, on time against the extended date (8.15-8.18) ---------------
    w.at("2026-07-27")
    j.fire("panel_chair", "approve_overview")
    w.deadlines[("overview_report", None)] = deadline("2026-09-15", "met", "2026-07-27", original_due_on="2026-07-15")
    review = w.check("family_review", [("approve_overview", "panel_review", "family_review", PENNY)])
    assert review["overview_approved_on"] == "2026-07-27"

    # -- The family saw the report (7.3) -----------------------------------------------------------
    w.at("2026-08-10")
    j.fire("panel_chair", "record_family_response", shared_on="2026-08-03", response="agreed")
    review = w.check("csp_signoff", [("record_family_response", "family_review", "csp_signoff", PENNY)])
    assert (review["family_shared_on"], review["family_response"]) == ("2026-08-03", "agreed")

    # -- Signed off and submitted to the Home Office (8.19, 11.1) ----------------------------------
    w.at("2026-08-17")
    assert ok(j.as_("chair").get(f"/reviews/{j.id}/readiness"))["ready"] is True
    j.fire("chair", "submit")
    # The package's cover letter and the three reports as agreed for publication are kept as sent (8.19).
    frozen = [("generate_document", None, None, CHRIS)] * 4
    review = w.check("submitted", [*frozen, ("submit", "csp_signoff", "submitted", CHRIS)])
    assert (review["signed_off_on"], review["first_submitted_on"], review["submitted_on"]) == ("2026-08-17",) * 3

    # -- QA requires a resubmission (11.2) ---------------------------------------------------------
    w.at("2026-09-14")
    j.fire("home_office", "qa_require_resubmission", feedback="The analysis of equality and diversity is weak.", received_on="2026-09-14")
    review = w.check("revising", [("qa_require_resubmission", "submitted", "revising", HUGO)])
    assert (review["qa_outcome"], review["qa_feedback"]) == ("resubmission_required", "The analysis of equality and diversity is weak.")

    w.at("2026-09-21")
    overview_patch(j, equality_and_diversity=OVERVIEW["equality_and_diversity"] + " Adult A's disability is analysed.")
    j.fire("chair", "resubmit", summary="Equality and diversity rewritten.")
    review = w.check("submitted", [
        ("edit_overview", None, None, PENNY),
        *frozen,
        ("resubmit", "revising", "submitted", CHRIS),
    ])
    assert (review["first_submitted_on"], review["submitted_on"], review["qa_outcome"]) == ("2026-08-17", "2026-09-21", None)

    # -- QA clears subject to changes; the CSP confirms they were made (11.1-11.3) ----------------
    w.at("2026-10-19")
    j.fire("home_office", "qa_clear_subject_to_changes", changes="Remove the month of death from the summary.")
    review = w.check("cleared_subject_to_changes", [("qa_clear_subject_to_changes", "submitted", "cleared_subject_to_changes", HUGO)])
    assert (review["qa_outcome"], review["qa_changes"]) == ("cleared_subject_to_changes", "Remove the month of death from the summary.")

    w.at("2026-10-26")
    (change,) = ok(j.as_("chair").get(f"/reviews/{j.id}/qa-changes"))["items"]
    ok(j.as_("chair").post(f"/qa-changes/{change['id']}/events", json={"event": "made", "text": "Only the year is given now."}))
    j.fire("chair", "confirm_changes_made", summary="The month of death was removed.")
    review = w.check("cleared", [
        ("qa_change_made", None, None, CHRIS),
        ("confirm_changes_made", "cleared_subject_to_changes", "cleared", CHRIS),
    ])
    assert review["cleared_on"] == "2026-10-26"

    # -- Published (9.1-9.5) -----------------------------------------------------------------------
    w.at("2026-11-02")
    j.fire("chair", "publish", url="https://csp.example/dhr/adult-a")
    review = w.check("published", [*frozen[:3], ("publish", "cleared", "published", CHRIS)])
    assert (review["publication_url"], review["published_on"]) == ("https://csp.example/dhr/adult-a", "2026-11-02")

    # -- The lead agency completes its action before its target date (8.17, 8.20) -----------------
    w.at("2026-11-09")
    ok(j.as_("police_manager").post(f"/actions/{action['id']}/events", json={
        "event": "complete", "data": {"completed_on": "2026-11-09", "outcome": "All officers trained."}}))
    w.deadlines[("action", action["id"])] = deadline("2026-12-01", "met", "2026-11-09")
    w.check("published", [("complete", "open", "completed", MOLLY)])

    # -- Concluded (8.20): nothing is left to do, and every deadline keeps its record -------------
    w.at("2026-11-12")
    j.fire("chair", "conclude", audit_note="Action plan audited by the CSP board.")
    review = w.check("concluded", [("conclude", "published", "concluded", CHRIS)])
    assert review["concluded_on"] == "2026-11-12"
    assert j.get("chair")["allowed_events"] == []
    assert [h["event"] for h in j.history() if h["entity_type"] == "review"] == [
        "record_notification", "decide_not_to_review", "record_home_office_notified", "reconsider",
        "decide_to_review", "record_home_office_notified", "agree_terms_of_reference", "pend", "resume",
        "begin_drafting", "agree_extension", "present_overview", "request_changes", "present_overview",
        "approve_overview", "record_family_response", "submit", "qa_require_resubmission", "resubmit",
        "qa_clear_subject_to_changes", "confirm_changes_made", "publish", "conclude",
    ]
