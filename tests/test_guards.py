"""Each rule of the statutory guidance refuses with a reason a person can act on.

A refused event answers 409 with `detail`, `state`, `allowed_events` and `failed_guards` (each
`{guard, reason}`); nothing changes and nothing is added to the history. Bad input answers 422
naming the field; the wrong role 403; an unknown event 422.

Paragraph numbers refer to the Home Office's Multi-Agency Statutory Guidance for the Conduct of
Domestic Homicide Reviews (2011).
"""
from __future__ import annotations

from tests.journey import OVERVIEW, Journey
from tests.support import ok

REFUSAL_KEYS = {"detail", "state", "allowed_events", "failed_guards"}


def send(j: Journey, who: str, event: str, **data):
    return j.as_(who).post(f"/reviews/{j.id}/events", json={"event": event, "data": data})


def send_imr(j: Journey, who: str, agency: str, event: str, **data):
    return j.as_(who).post(f"/imrs/{j.imrs[agency]}/events", json={"event": event, "data": data})


def refused(response, *, state: str, guard: str, says: list[str], before: tuple[Journey, str, int] | None = None) -> dict:
    """A 409 naming the state, what may be done instead, and the failed guard with its reason."""
    assert response.status_code == 409, response.text
    body = response.json()
    assert set(body) == REFUSAL_KEYS
    assert body["state"] == state
    assert isinstance(body["allowed_events"], list)
    assert all(set(f) == {"guard", "reason"} for f in body["failed_guards"])
    reasons = {f["guard"]: f["reason"] for f in body["failed_guards"]}
    assert guard in reasons, reasons
    for words in says:
        assert words in reasons[guard], reasons[guard]
    assert reasons[guard] in body["detail"]
    if before is not None:
        unchanged(*before)
    return body


def snapshot(j: Journey) -> tuple[Journey, str, int]:
    return j, j.get()["state"], len(j.history())


def unchanged(j: Journey, state: str, rows: int) -> None:
    """What a user sees afterwards: the same state, and no new line in the history."""
    assert j.get()["state"] == state
    assert len(j.history()) == rows


def overview_patch(j: Journey, **fields) -> dict:
    overview = ok(j.as_("panel_chair").get(f"/reviews/{j.id}/overview"))
    return ok(j.as_("panel_chair").patch(f"/reviews/{j.id}/overview", headers={"If-Match": f'"{overview["version"]}"'}, json=fields))


# -- The decision ---------------------------------------------------------------------------------

def test_a_review_needs_a_victim_aged_16_or_over(api, world):
    """3.8: a DHR is held when the person who died was aged 16 or over; the reason says what to do instead."""
    j = Journey(api, world, victim_age=15)
    j.advance(10)
    body = refused(
        send(j, "chair", "decide_to_review", rationale="Domestic abuse in the household."),
        state="notified", guard="victim_aged_16_or_over", says=["The victim was 15", "aged 16 or over", "3.8", "child review"],
        before=snapshot(j),
    )
    assert "decide_not_to_review" in body["allowed_events"] and "decide_to_review" not in body["allowed_events"]
    assert "decide_to_review" not in j.get("chair")["allowed_events"]
    assert j.fire("chair", "decide_not_to_review", rationale="The victim was 15: referred for a child review.")["state"] == "not_reviewed"


def test_a_victim_aged_16_or_17_needs_the_child_review_considered(api, world):
    """4.5: for a victim aged 16 or 17 a child review may take precedence; the decision records that it was considered."""
    j = Journey(api, world, victim_age=17)
    j.advance(10)
    before = snapshot(j)
    refused(
        send(j, "chair", "decide_to_review", rationale="Killed by her partner."),
        state="notified", guard="child_review_considered_if_16_or_17", says=["16 or 17", "child_review_considered: true", "4.5"],
        before=before,
    )
    refused(
        send(j, "chair", "decide_to_review", rationale="Killed by her partner.", child_review_considered=False),
        state="notified", guard="child_review_considered_if_16_or_17", says=["child_review_considered: true"], before=before,
    )
    review = j.fire("chair", "decide_to_review", child_review_considered=True,
                    rationale="Killed by her partner. The LSCB agreed a DHR rather than a serious case review.")
    assert (review["state"], review["child_review_considered"]) == ("scoping", True)


# -- Terms of reference ---------------------------------------------------------------------------

def test_terms_of_reference_need_an_appointed_panel_chair(api, world):
    """5.8: the terms are agreed by an independent panel chair; with none appointed, the CSP is told to appoint one."""
    j = Journey(api, world).to("scoping")
    ok(j.as_("coordinator").put(f"/reviews/{j.id}/terms-of-reference", json={
        "period_from": "2023-01-01", "period_to": "2026-01-02", "coercive_control": True, "equality_and_diversity": True}))
    before = snapshot(j)
    for who in ("chair", "coordinator"):
        response = send(j, who, "agree_terms_of_reference")
        assert response.status_code == 403, response.text
        body = response.json()
        assert "Only the panel chair may agree terms of reference" in body["detail"]
        assert "No panel chair is appointed: add one to the panel with an independence statement (guidance 5.8)." in body["detail"]
        assert body["failed_guards"] == [{
            "guard": "independent_panel_chair_appointed",
            "reason": "No panel chair is appointed: add one to the panel with an independence statement (guidance 5.8).",
        }]
        unchanged(*before)
    # Acting on it: the coordinator appoints the chair, who can then agree the terms.
    ok(j.as_("coordinator").post(f"/reviews/{j.id}/panel", json={
        "user_id": world.user("panel_chair").id, "role": "chair", "independence_statement": "No connection with any agency."}), 201)
    assert j.fire("panel_chair", "agree_terms_of_reference")["state"] == "evidence"


def test_terms_of_reference_need_a_review_period(api, world):
    """5.11: the terms of reference set the period the review covers."""
    j = Journey(api, world).to("scoping")
    ok(j.as_("coordinator").post(f"/reviews/{j.id}/panel", json={
        "user_id": world.user("panel_chair").id, "role": "chair", "independence_statement": "No connection with any agency."}), 201)
    before = snapshot(j)
    body = refused(send(j, "panel_chair", "agree_terms_of_reference"), state="scoping",
                   guard="terms_of_reference_with_review_period", says=["no terms of reference", "5.11"], before=before)
    assert "agree_terms_of_reference" not in body["allowed_events"]

    ok(j.as_("panel_chair").put(f"/reviews/{j.id}/terms-of-reference", json={"coercive_control": True, "text": "Draft terms."}))
    before = snapshot(j)
    refused(send(j, "panel_chair", "agree_terms_of_reference"), state="scoping",
            guard="terms_of_reference_with_review_period", says=["no review period", "the period the review covers", "5.11"], before=before)

    ok(j.as_("panel_chair").put(f"/reviews/{j.id}/terms-of-reference", json={
        "period_from": "2023-01-01", "period_to": "2026-01-02", "coercive_control": True, "text": "Terms."}))
    assert j.fire("panel_chair", "agree_terms_of_reference")["state"] == "evidence"


# -- IMRs and drafting ----------------------------------------------------------------------------

def test_drafting_needs_imrs_commissioned(api, world):
    """8.1, 8.4: drafting starts from the agencies' IMRs; with none commissioned the chair is told to commission them."""
    j = Journey(api, world).to("evidence")
    body = refused(send(j, "panel_chair", "begin_drafting"), state="evidence", guard="imrs_commissioned",
                   says=["No IMR has been commissioned", "8.4"], before=snapshot(j))
    assert [f["guard"] for f in body["failed_guards"]] == ["imrs_commissioned"]
    assert "begin_drafting" not in body["allowed_events"]


def test_drafting_needs_every_imr_accepted_or_no_involvement(api, world):
    """8.4: drafting starts when every commissioned agency has an accepted IMR or confirmed no involvement."""
    j = Journey(api, world).to("evidence")
    j.commission(("police", "health"))
    j.complete_imr("police")
    refused(send(j, "panel_chair", "begin_drafting"), state="evidence", guard="every_imr_accepted_or_no_involvement",
            says=["Example NHS Foundation Trust (commissioned)", "8.4"], before=snapshot(j))
    assert "Exampleshire Constabulary" not in send(j, "panel_chair", "begin_drafting").json()["failed_guards"][0]["reason"]

    j.imr_event("health_author", "health", "acknowledge", author_name="Nora Neutral", author_role="Safeguarding lead", independence_confirmed=True)
    refused(send(j, "panel_chair", "begin_drafting"), state="evidence", guard="every_imr_accepted_or_no_involvement",
            says=["Example NHS Foundation Trust (in progress)"])

    j.imr_event("health_manager", "health", "declare_no_involvement", statement="No record of contact with Adult A or Adult B.")
    assert j.fire("panel_chair", "begin_drafting")["state"] == "drafting"


def test_imr_author_must_be_independent(api, world):
    """8.7: the IMR author had no involvement with the case."""
    j = Journey(api, world).to("evidence")
    j.commission(("police",))
    before = snapshot(j)
    response = send_imr(j, "police_author", "police", "acknowledge", author_name="Sergeant Smith", author_role="Response officer", independence_confirmed=False)
    body = refused(response, state="commissioned", guard="author_independence_confirmed",
                   says=["independent of the case", "independence_confirmed: true", "another author", "8.7"], before=before)
    assert "acknowledge" in body["allowed_events"]
    imr = ok(j.as_("police_author").get(f"/imrs/{j.imrs['police']}"))
    assert imr["state"] == "commissioned" and not imr["author_name"] and not imr["independence_confirmed"]


def test_imr_goes_to_its_senior_manager_only_with_its_sections_written(api, world):
    """8.8, Appendix 2: the IMR's methodology, analysis and lessons are written before quality assurance."""
    j = Journey(api, world).to("evidence")
    j.commission(("police",))
    j.imr_event("police_author", "police", "acknowledge", author_name="Ivy Independent", author_role="Review officer", independence_confirmed=True)
    before = snapshot(j)
    body = refused(send_imr(j, "police_author", "police", "send_for_agency_review"), state="in_progress", guard="imr_sections_filled",
                   says=["empty sections: methodology, analysis, lessons", "Appendix 2"], before=before)
    assert "send_for_agency_review" not in body["allowed_events"]

    imr = ok(j.as_("police_author").get(f"/imrs/{j.imrs['police']}"))
    ok(j.as_("police_author").patch(f"/imrs/{imr['id']}", headers={"If-Match": f'"{imr["version"]}"'},
                                    json={"methodology": "Records reviewed.", "analysis": "Risk was not assessed."}))
    refused(send_imr(j, "police_author", "police", "send_for_agency_review"), state="in_progress", guard="imr_sections_filled",
            says=["empty sections: lessons"])


# -- The Overview Report and the action plan ------------------------------------------------------

def test_overview_is_presented_only_with_its_sections_written(api, world):
    """8.10-8.14, Appendix 4: the panel sees a report whose required sections are written."""
    j = Journey(api, world).to("drafting")
    refused(send(j, "panel_chair", "present_overview"), state="drafting", guard="overview_required_sections_filled",
            says=["empty sections: introduction, facts, analysis, key_issues, conclusions, lessons", "Appendix 4"], before=snapshot(j))
    overview_patch(j, **{k: v for k, v in OVERVIEW.items() if k != "conclusions"})
    refused(send(j, "panel_chair", "present_overview"), state="drafting", guard="overview_required_sections_filled",
            says=["empty sections: conclusions."], before=snapshot(j))
    overview_patch(j, conclusions=OVERVIEW["conclusions"])
    assert j.fire("panel_chair", "present_overview")["state"] == "panel_review"


def test_approval_needs_recommendations(api, world):
    """8.16: the Overview Report makes recommendations, brought together in an action plan."""
    j = Journey(api, world).to("drafting")
    overview_patch(j, **OVERVIEW)
    j.fire("panel_chair", "present_overview")
    refused(send(j, "panel_chair", "approve_overview"), state="panel_review", guard="action_plan_has_recommendations",
            says=["no recommendations", "8.16"], before=snapshot(j))


def test_approval_needs_an_action_with_lead_agency_and_target_date_for_every_recommendation(api, world):
    """8.16-8.17: every recommendation has an action with a lead agency and a target date."""
    j = Journey(api, world).to("panel_review")  # recommendation 1 has a SMART action
    rec = ok(j.as_("panel_chair").post(f"/reviews/{j.id}/recommendations", json={"text": "Share risk information.", "scope": "regional"}), 201)
    refused(send(j, "panel_chair", "approve_overview"), state="panel_review", guard="every_recommendation_has_smart_action",
            says=["recommendation 2 has no action with a lead agency and a target date", "8.16-8.17"], before=snapshot(j))

    ok(j.as_("panel_chair").post(f"/recommendations/{rec['id']}/actions", json={
        "action": "Agree an information-sharing protocol.", "lead_agency_id": world.agencies["health"]}), 201)
    body = refused(send(j, "panel_chair", "approve_overview"), state="panel_review", guard="every_recommendation_has_smart_action",
                   says=["recommendation 2 has no action"], before=snapshot(j))
    assert "recommendation 1" not in body["detail"]
    assert "approve_overview" not in body["allowed_events"] and "request_changes" in body["allowed_events"]

    ok(j.as_("panel_chair").post(f"/recommendations/{rec['id']}/actions", json={
        "action": "Agree an information-sharing protocol.", "lead_agency_id": world.agencies["health"],
        "target_date": "2026-12-31", "outcome_measure": "Protocol signed by every agency."}), 201)
    assert j.fire("panel_chair", "approve_overview")["state"] == "family_review"


def test_family_response_agreed_needs_the_date_the_report_was_shared(api, world):
    """7.3: the family sees the report before it goes to the Home Office; the record gives the date."""
    j = Journey(api, world).to("family_review")
    j.advance(14)
    body = refused(send(j, "panel_chair", "record_family_response", response="agreed"), state="family_review",
                   guard="family_saw_report_or_reason_recorded", says=["shared_on", "7.3"], before=snapshot(j))
    assert "record_family_response" in body["allowed_events"]  # the event is right; its data is not
    refused(send(j, "coordinator", "record_family_response", response="disagreed", shared_on=j.day.isoformat()), state="family_review",
            guard="disagreements_recorded_when_disagreed", says=["record what they disagree with in disagreements", "7.3"], before=snapshot(j))
    review = j.fire("panel_chair", "record_family_response", response="agreed", shared_on=j.day.isoformat())
    assert (review["state"], review["family_shared_on"]) == ("csp_signoff", j.day.isoformat())


# -- Submission, publication and conclusion -------------------------------------------------------

def test_submit_refused_while_the_readiness_check_finds_a_real_name(api, world):
    """8.19, 11.1: nothing goes to the Home Office while the readiness check fails; it names the field and the words."""
    j = Journey(api, world).to("panel_review")
    j.fire("panel_chair", "request_changes", reason="Add what happened on the day.")
    overview_patch(j, facts="Zoë O'Brien-Smith died at home in January 2026.")
    j.fire("panel_chair", "present_overview")
    j.approve()
    j.family()
    j.advance(7)
    body = refused(send(j, "chair", "submit"), state="csp_signoff", guard="readiness_check_passes",
                   says=["The readiness check fails", "overview.facts", "Zoë O'Brien-Smith", "pseudonyms"], before=snapshot(j))
    assert "submit" not in body["allowed_events"] and "return_to_panel" in body["allowed_events"]

    readiness = ok(j.as_("chair").get(f"/reviews/{j.id}/readiness"))
    assert readiness["ready"] is False
    failing = [c for c in readiness["checks"] if not c["passed"]]
    assert [(c["id"], c["where"]) for c in failing] == [("anonymisation", "overview.facts")]

    # Acting on it: back to the panel, the pseudonym instead of the name, and then it goes.
    j.fire("chair", "return_to_panel", reason="The facts name the victim.")
    overview_patch(j, facts="Adult A died at home in January 2026.")
    j.fire("panel_chair", "present_overview")
    j.fire("panel_chair", "approve_overview")
    j.fire("panel_chair", "record_family_response", response="agreed", shared_on=j.day.isoformat())
    assert j.fire("chair", "submit")["state"] == "submitted"


def test_resubmit_refused_while_the_readiness_check_fails(api, world):
    """11.2: a revised report goes back only when the readiness check passes."""
    j = Journey(api, world).to("submitted")
    j.advance(30)
    j.fire("home_office", "qa_require_resubmission", feedback="Recommendations are not SMART.")
    overview_patch(j, lessons="Agencies should ask Zed about coercive control.")
    refused(send(j, "chair", "resubmit"), state="revising", guard="readiness_check_passes",
            says=["overview.lessons", "'Zed'"], before=snapshot(j))


def test_publication_waits_for_criminal_proceedings(api, world):
    """9.2: an Overview Report is not published while criminal proceedings are open."""
    j = Journey(api, world).to("cleared")
    j.advance(7)
    j.fire("coordinator", "record_criminal_proceedings", status="open")
    body = refused(send(j, "chair", "publish", url="https://csp.example/dhr/adult-a"), state="cleared",
                   guard="no_open_criminal_proceedings", says=["Criminal proceedings are open", "9.2", "record_criminal_proceedings"],
                   before=snapshot(j))
    assert "publish" not in body["allowed_events"] and "withhold_publication" in body["allowed_events"]
    j.fire("coordinator", "record_criminal_proceedings", status="concluded")
    assert j.fire("chair", "publish", url="https://csp.example/dhr/adult-a")["state"] == "published"


def test_conclusion_needs_every_action_completed(api, world):
    """8.20: the review is concluded once the action plan is implemented."""
    j = Journey(api, world).to("published")
    j.advance(7)
    body = refused(send(j, "chair", "conclude", audit_note="Audited."), state="published", guard="every_action_completed",
                   says=["1 action is not completed", "8.20"], before=snapshot(j))
    assert "conclude" not in body["allowed_events"]
    j.complete_actions()
    assert j.fire("chair", "conclude", audit_note="Audited by the CSP board.")["state"] == "concluded"


def test_extension_must_be_later_than_the_current_due_date(api, world):
    """6.4: the CSP may extend the Overview Report deadline; an 'extension' to an earlier or the same date is refused."""
    j = Journey(api, world).to("scoping")  # decided 2026-01-15: overview due 2026-07-15
    before = snapshot(j)
    for new_due_on in ("2026-07-01", "2026-07-15"):
        refused(send(j, "chair", "agree_extension", deadline="overview_report", new_due_on=new_due_on, reason="More time."),
                state="scoping", guard="extension_is_for_an_open_deadline_and_later",
                says=["The new due date must be after the current one (2026-07-15)"], before=before)
    report = j.deadline("overview_report")
    assert (report["due_on"], report["original_due_on"], report["extensions"]) == ("2026-07-15", "2026-07-15", [])

    refused(send(j, "chair", "agree_extension", deadline="decision", new_due_on="2026-03-01", reason="More time."),
            state="scoping", guard="extension_is_for_an_open_deadline_and_later", says=["already closed"], before=before)


# -- The envelope: bad data, wrong state, wrong role, unknown event -------------------------------

def test_missing_required_data_is_422_naming_the_field(api, world):
    """4.4-4.6: a decision needs written reasons; the reply names the missing field and what it is."""
    j = Journey(api, world)
    before = snapshot(j)
    response = send(j, "chair", "decide_to_review")
    assert response.status_code == 422, response.text
    body = response.json()
    assert "rationale: required (Reasons for the decision)" in body["detail"]
    assert body["errors"] == ["rationale: required (Reasons for the decision)"]
    unchanged(*before)

    response = send(j, "chair", "decide_to_review", rationale="Meets 3.8.", child_review_considered="yes", colour="blue")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(e.startswith("colour: not data of decide_to_review") for e in errors)
    assert "child_review_considered: must be true or false" in errors
    unchanged(*before)


def test_an_event_not_allowed_now_is_409_listing_what_is_allowed(api, world):
    """8.19-8.20: nothing is published before it is reviewed and cleared; the reply says what may be done now."""
    j = Journey(api, world)
    before = snapshot(j)
    response = send(j, "chair", "publish", url="https://csp.example/dhr/adult-a")
    assert response.status_code == 409
    body = response.json()
    assert set(body) == REFUSAL_KEYS
    assert body["state"] == "notified"
    assert body["failed_guards"] == []
    assert body["allowed_events"] == ["decide_to_review", "decide_not_to_review", "agree_extension", "record_criminal_proceedings"]
    assert body["detail"].startswith("publish is not possible while the review is notified.")
    assert "decide_to_review" in body["detail"]
    unchanged(*before)


def test_the_wrong_role_is_403(api, world):
    """4.4, 8.9: the CSP chair decides whether to review; the panel chair accepts an IMR."""
    j = Journey(api, world)
    before = snapshot(j)
    response = send(j, "coordinator", "decide_to_review", rationale="Meets 3.8.")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Only the csp chair may decide to review here.")
    unchanged(*before)

    j.to("evidence")
    j.commission(("police",))
    j.imr_event("police_author", "police", "acknowledge", author_name="Ivy Independent", author_role="Review officer", independence_confirmed=True)
    response = send_imr(j, "police_author", "police", "return", reason="Not mine to return.")
    assert response.status_code == 409  # in progress: nothing to return yet
    response = j.as_("police_author").post(f"/imrs/{j.imrs['police']}/events", json={"event": "declare_no_involvement", "data": {"statement": "None."}})
    assert response.status_code == 403
    assert response.json() == {"detail": "Only the agency manager may declare no involvement here. Ask the person who holds that role."}
    assert ok(j.as_("police_author").get(f"/imrs/{j.imrs['police']}"))["state"] == "in_progress"


def test_an_unknown_event_is_422_listing_the_events(api, world):
    """The workflow names its events (4.1-11.4); an unknown name is refused with the list."""
    j = Journey(api, world)
    before = snapshot(j)
    response = send(j, "chair", "close_the_case")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "'close_the_case' is not an event of the dhr-2011 workflow" in detail
    assert "decide_to_review" in detail and "conclude" in detail
    unchanged(*before)
