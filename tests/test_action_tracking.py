"""Action tracking across reviews (guidance 8.17-8.20): an agency's manager sees every action their
agency leads, in every review, with what is due and what is late; nobody sees another's actions."""
from __future__ import annotations

import datetime as dt

from app.core import clock
from tests.journey import Journey
from tests.support import ok


def _add_action(j: Journey, world, agency: str | None, target: dt.date, text: str) -> str:
    rec = ok(j.as_("panel_chair").post(f"/reviews/{j.id}/recommendations", json={"text": f"Recommendation for {text}.", "scope": "local"}), 201)
    return ok(j.as_("panel_chair").post(f"/recommendations/{rec['id']}/actions", json={
        "action": text, "lead_agency_id": world.agencies[agency] if agency else None, "target_date": target.isoformat(),
        "outcome_measure": "Audited."}), 201)["id"]


def test_an_agency_manager_sees_its_actions_from_every_review_with_due_and_overdue(api, world):
    first = Journey(api, world, notified_on=dt.date(2026, 1, 5)).to("panel_review")  # with one police action of its own
    second = Journey(api, world, notified_on=dt.date(2026, 1, 12)).to("drafting")
    clock.set_today(max(first.day, second.day))
    today = clock.today()
    late = _add_action(first, world, "police", today + dt.timedelta(days=10), "Train call handlers.")
    soon = _add_action(second, world, "police", today + dt.timedelta(days=40), "Audit risk assessments.")
    probation = _add_action(second, world, "probation", today + dt.timedelta(days=20), "Review supervision.")
    first.fire("panel_chair", "approve_overview")  # the first review's action plan is agreed (8.17)
    planned = first.actions[0]  # due 90 days after drafting: later than both
    clock.set_today(today + dt.timedelta(days=15))

    mine = ok(api.as_("police_manager").get("/actions"))
    assert [a["id"] for a in mine["items"]] == [late, soon, planned]  # soonest due first
    assert {a["reference"] for a in mine["items"]} == {first.review["reference"], second.review["reference"]}
    assert [a["deadline"]["status"] for a in mine["items"]] == ["overdue", "pending", "pending"]
    overdue = ok(api.as_("police_manager").get("/actions", params={"status": "overdue"}))
    assert [a["id"] for a in overdue["items"]] == [late] and overdue["total"] == 1

    # Probation sees only its own; the police author (no actions to lead) and another partnership see none.
    assert [a["id"] for a in ok(api.as_("probation_manager").get("/actions"))["items"]] == [probation]
    assert ok(api.as_("police_author").get("/actions"))["total"] == 0
    assert ok(api.as_("other_coordinator").get("/actions"))["total"] == 0
    # The partnership's coordinator sees every action of its reviews, and can filter by lead agency.
    everything = ok(api.as_("coordinator").get("/actions"))
    assert {a["id"] for a in everything["items"]} == {late, soon, probation, planned}
    police_only = ok(api.as_("coordinator").get("/actions", params={"lead_agency_id": world.agencies["police"]}))
    assert {a["id"] for a in police_only["items"]} == {late, soon, planned}

    # Completing it takes it out of the overdue list; it stays in the agency's list as met late.
    ok(api.as_("police_manager").post(f"/actions/{late}/events", json={
        "event": "complete", "data": {"completed_on": clock.today().isoformat(), "outcome": "All call handlers trained."}}))
    assert ok(api.as_("police_manager").get("/actions", params={"status": "overdue"}))["total"] == 0
    completed = ok(api.as_("police_manager").get("/actions", params={"state": "completed"}))
    assert [(a["id"], a["deadline"]["status"]) for a in completed["items"]] == [(late, "met_late")]


def test_a_bad_filter_is_refused_saying_what_is_allowed(api, world):
    response = api.as_("police_manager").get("/actions", params={"status": "late"})
    assert response.status_code == 422 and "overdue" in response.json()["message"]
