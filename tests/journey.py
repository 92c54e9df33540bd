"""Drives one review through the statutory stages over HTTP, each step as the role that does it.

    j = Journey(api, world)          # a fresh notification in CAMCITY, dated 2026-01-05
    j.to("drafting")                  # every step up to that state, with the data each needs
    j.fire("chair", "pend", reason="trial")

The clock is set to each step's date so deadlines are computed as a user would see them.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from app.core import clock
from tests.support import Api, World, ok

STAGES = [
    "notified", "scoping", "evidence", "drafting", "panel_review", "family_review", "csp_signoff",
    "submitted", "cleared", "published", "concluded",
]
OVERVIEW = {
    "introduction": "This review examines the contact agencies had with Adult A and Adult B.",
    "facts": "Adult A died at home in January 2026.",
    "analysis": "Agencies did not share information about escalating risk.",
    "equality_and_diversity": "The nine protected characteristics were considered.",
    "family_contribution": "Adult A's sister met the chair twice.",
    "key_issues": "Information sharing; recognising coercive control.",
    "conclusions": "The death could not have been predicted but risk was under-recognised.",
    "lessons": "Routine enquiry about coercive control should be embedded.",
}


class Journey:
    def __init__(self, api: Api, world: World, *, csp: str = "CAMCITY", notified_on: dt.date = dt.date(2026, 1, 5), victim_age: int = 34, death_type: str = "homicide"):
        self.api = api
        self.world = world
        self.day = notified_on
        clock.set_today(self.day)
        coordinator = "coordinator" if csp == "CAMCITY" else "other_coordinator"
        self.chair = "chair" if csp == "CAMCITY" else "other_chair"
        self.coordinator = coordinator
        self.review = ok(api.as_(coordinator).post("/reviews", json={
            "csp_id": world.csps[csp], "notified_on": notified_on.isoformat(), "notified_by": "Exampleshire Constabulary",
            "date_of_death": (notified_on - dt.timedelta(days=3)).isoformat(), "death_type": death_type,
            "relationship": "intimate_partner", "victim_age": victim_age, "summary": "Invented case for tests.",
        }), 201)
        self.id = self.review["id"]
        self.imrs: dict[str, str] = {}
        self.recommendations: list[str] = []
        self.actions: list[str] = []

    # -- basics ---------------------------------------------------------------------------------
    def advance(self, days: int) -> dt.date:
        self.day += dt.timedelta(days=days)
        clock.set_today(self.day)
        return self.day

    def as_(self, key: str):
        return self.api.as_(key)

    def fire(self, who: str, event: str, expect: int = 200, **data: Any) -> dict:
        body = ok(self.as_(who).post(f"/reviews/{self.id}/events", json={"event": event, "data": data}), expect)
        if expect == 200:
            self.review = body
        return body

    def get(self, who: str = "coordinator") -> dict:
        self.review = ok(self.as_(who).get(f"/reviews/{self.id}"))
        return self.review

    def deadline(self, kind: str, subject_id: str | None = None) -> dict:
        return next(d for d in self.get(self.coordinator)["deadlines"] if d["kind"] == kind and d["subject_id"] == subject_id)

    def history(self) -> list[dict]:
        return ok(self.as_(self.chair).get(f"/reviews/{self.id}/events"))["items"]

    def imr_event(self, who: str, agency: str, event: str, expect: int = 200, **data: Any) -> dict:
        return ok(self.as_(who).post(f"/imrs/{self.imrs[agency]}/events", json={"event": event, "data": data}), expect)

    # -- the stages ------------------------------------------------------------------------------
    def decide(self) -> None:
        self.advance(10)
        self.fire(self.chair, "decide_to_review", rationale="The death meets the definition in guidance 3.8.")
        self.fire(self.coordinator, "record_home_office_notified", sent_on=self.day.isoformat())

    def scope(self) -> None:
        self.advance(5)
        ok(self.as_(self.coordinator).post(f"/reviews/{self.id}/people", json={
            "role": "victim", "name": "Zoë O'Brien-Smith", "pseudonym": "Adult A", "aliases": ["Zed"],
            "date_of_birth": "1991-03-04", "address": "12 Acacia Avenue, Exampletown EX1 2AB"}), 201)
        ok(self.as_(self.coordinator).post(f"/reviews/{self.id}/people", json={
            "role": "perpetrator", "name": "Bartholomew Quince", "pseudonym": "Adult B"}), 201)
        ok(self.as_(self.coordinator).post(f"/reviews/{self.id}/panel", json={
            "user_id": self.world.user("panel_chair").id, "role": "chair",
            "independence_statement": "I have no connection with any agency involved."}), 201)
        ok(self.as_(self.coordinator).post(f"/reviews/{self.id}/panel", json={
            "user_id": self.world.user("panel_member").id, "role": "member", "agency_id": self.world.agencies["police"]}), 201)
        ok(self.as_("panel_chair").put(f"/reviews/{self.id}/terms-of-reference", json={
            "period_from": "2023-01-01", "period_to": self.day.isoformat(),
            "key_lines_of_enquiry": ["What did agencies know of the risk?"],
            "coercive_control": True, "equality_and_diversity": True, "suicide": False,
            "family_involvement": "The family will be invited to contribute.", "text": "Terms of reference."}))
        self.fire("panel_chair", "agree_terms_of_reference")

    def commission(self, agencies=("police", "health")) -> None:
        self.advance(1)
        for agency in agencies:
            imr = ok(self.as_("panel_chair").post(f"/reviews/{self.id}/imrs", json={"agency_id": self.world.agencies[agency]}), 201)
            self.imrs[agency] = imr["id"]

    def complete_imr(self, agency: str) -> None:
        author, manager = f"{agency}_author", f"{agency}_manager"
        self.imr_event(author, agency, "acknowledge", author_name="Ivy Independent", author_role="Review officer", independence_confirmed=True)
        imr = ok(self.as_(author).get(f"/imrs/{self.imrs[agency]}"))
        ok(self.as_(author).patch(f"/imrs/{self.imrs[agency]}", headers={"If-Match": f'"{imr["version"]}"'}, json={
            "methodology": "Records reviewed; staff interviewed.", "analysis": "Contact was appropriate but risk was not assessed.",
            "lessons": "Ask about coercive control."}))
        ok(self.as_(author).post(f"/imrs/{self.imrs[agency]}/chronology", json={
            "occurred_on": "2025-06-01", "description": "Adult A attended an appointment.", "seen": ["Adult A"],
            "staff": "Practitioner 1", "interviewed": True}), 201)
        self.imr_event(author, agency, "send_for_agency_review")
        self.imr_event(manager, agency, "quality_assure")
        self.imr_event("panel_chair", agency, "accept")

    def gather(self) -> None:
        self.commission()
        self.advance(30)
        for agency in self.imrs:
            self.complete_imr(agency)
        self.fire("panel_chair", "begin_drafting")

    def draft(self) -> None:
        self.advance(20)
        overview = ok(self.as_("panel_chair").get(f"/reviews/{self.id}/overview"))
        ok(self.as_("panel_chair").patch(f"/reviews/{self.id}/overview", headers={"If-Match": f'"{overview["version"]}"'}, json=OVERVIEW))
        rec = ok(self.as_("panel_chair").post(f"/reviews/{self.id}/recommendations", json={"text": "Embed routine enquiry.", "scope": "local", "imr_id": self.imrs.get("police")}), 201)
        self.recommendations.append(rec["id"])
        action = ok(self.as_("panel_chair").post(f"/recommendations/{rec['id']}/actions", json={
            "action": "Train front-line officers in routine enquiry.", "lead_agency_id": self.world.agencies["police"],
            "target_date": (self.day + dt.timedelta(days=90)).isoformat(), "outcome_measure": "90% of officers trained.",
            "milestones": "Course written; first cohort trained."}), 201)
        self.actions.append(action["id"])
        self.fire("panel_chair", "present_overview")

    def approve(self) -> None:
        self.advance(7)
        self.fire("panel_chair", "approve_overview")

    def family(self) -> None:
        self.advance(14)
        self.fire("panel_chair", "record_family_response", shared_on=self.day.isoformat(), response="agreed")

    def submit(self) -> None:
        self.advance(7)
        self.fire(self.chair, "submit")

    def clear(self) -> None:
        self.advance(30)
        self.fire("home_office", "qa_clear", received_on=self.day.isoformat(), letter="QA letter ref 123")

    def publish(self) -> None:
        self.advance(14)
        self.fire(self.chair, "publish", url="https://csp.example/dhr/adult-a")

    def complete_actions(self) -> None:
        self.advance(60)
        for action_id in self.actions:
            ok(self.as_("police_manager").post(f"/actions/{action_id}/events", json={
                "event": "complete", "data": {"completed_on": self.day.isoformat(), "outcome": "All officers trained."}}))

    def conclude(self) -> None:
        self.complete_actions()
        self.fire(self.chair, "conclude", audit_note="Action plan audited by the CSP board.")

    STEPS = {
        "scoping": "decide", "evidence": "scope", "drafting": "gather", "panel_review": "draft",
        "family_review": "approve", "csp_signoff": "family", "submitted": "submit", "cleared": "clear",
        "published": "publish", "concluded": "conclude",
    }

    def to(self, state: str) -> "Journey":
        """Take the review from where it is to `state` along the main path."""
        target = STAGES.index(state)
        while STAGES.index(self.review["state"]) < target:
            nxt = STAGES[STAGES.index(self.review["state"]) + 1]
            getattr(self, self.STEPS[nxt])()
            assert self.review["state"] == nxt, f"expected {nxt}, got {self.review['state']}"
        return self
