"""Deadlines (DOMAIN.md, Deadlines; guidance 6.2, 6.4): calendar arithmetic, statuses, extensions,
waivers, the sweep (run through the real `dhr sweep` command) and the deadline filters of the API."""
from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from app.cli import app as cli
from app.core import clock
from app.deadlines.rules import add_months, add_period
from tests.journey import Journey
from tests.support import PASSWORD, ok

D = dt.date


# -- calendar months clamp to the month's end -----------------------------------------------------

@pytest.mark.parametrize(
    ("start", "months", "due"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # leap year
        (D(2100, 1, 31), 1, D(2100, 2, 28)),  # divisible by 100, not by 400: not a leap year
        (D(2000, 1, 31), 1, D(2000, 2, 29)),  # divisible by 400: a leap year
        (D(2025, 8, 31), 6, D(2026, 2, 28)),
        (D(2027, 8, 31), 6, D(2028, 2, 29)),
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 1, 15), 1, D(2026, 2, 15)),
        (D(2026, 12, 31), 1, D(2027, 1, 31)),  # across the year end
        (D(2026, 7, 5), 6, D(2027, 1, 5)),
        (D(2026, 5, 31), 12, D(2027, 5, 31)),
        (D(2027, 2, 28), 12, D(2028, 2, 28)),  # a month's end does not roll forward to the 29th
    ],
)
def test_calendar_months_clamp_to_the_months_end(start, months, due):
    assert add_months(start, months) == due


def test_periods_in_weeks_and_days_count_exactly():
    assert add_period(D(2026, 1, 5), {"weeks": 8}) == D(2026, 3, 2)
    assert add_period(D(2028, 2, 28), {"days": 2}) == D(2028, 3, 1)
    assert add_period(D(2026, 1, 31), {"months": 1, "days": 1}) == D(2026, 3, 1)


def _deadline(review: dict, kind: str) -> dict:
    return next(d for d in review["deadlines"] if d["kind"] == kind)


def _sign_in_again(api, world, *keys: str) -> None:
    """Tokens expire against the service's clock: a test that moves the clock years ahead signs in then."""
    for key in keys:
        person = world.user(key)
        body = ok(api.client.post("/api/v1/auth/token", data={"username": person.email, "password": PASSWORD}))
        person.token = body["access_token"]


def test_notified_on_31_january_of_a_leap_year_the_decision_is_due_29_february(api, world):
    clock.set_today(D(2028, 1, 31))
    _sign_in_again(api, world, "coordinator")
    j = Journey(api, world, notified_on=D(2028, 1, 31))
    decision = j.deadline("decision")
    assert decision["due_on"] == "2028-02-29"
    assert decision["original_due_on"] == "2028-02-29"
    assert decision["starts_on"] == "2028-01-31"
    assert decision["status"] == "pending"
    assert j.deadline("terms_of_reference")["due_on"] == "2028-02-29"


def test_the_overview_report_is_due_six_calendar_months_after_the_decision(api, world):
    j = Journey(api, world, notified_on=D(2025, 8, 20))
    clock.set_today(D(2025, 8, 31))
    j.fire("chair", "decide_to_review", rationale="The definition in 3.8 is met.")
    overview = j.deadline("overview_report")
    assert overview["starts_on"] == "2025-08-31"
    assert overview["due_on"] == "2026-02-28"


# -- statuses -----------------------------------------------------------------------------------

def test_a_deadline_is_pending_until_its_due_date_has_passed_then_overdue(api, world):
    j = Journey(api, world, notified_on=D(2026, 1, 5))
    assert j.deadline("decision")["due_on"] == "2026-02-05"
    clock.set_today(D(2026, 2, 4))
    assert j.deadline("decision")["status"] == "pending"
    assert j.deadline("decision")["days_left"] == 1
    clock.set_today(D(2026, 2, 5))  # the due day itself is still in time
    assert j.deadline("decision")["status"] == "pending"
    assert j.deadline("decision")["days_left"] == 0
    clock.set_today(D(2026, 2, 6))
    assert j.deadline("decision")["status"] == "overdue"
    assert j.deadline("decision")["days_left"] == -1
    assert j.deadline("terms_of_reference")["status"] == "overdue"


def test_a_deadline_met_on_time_is_met_and_one_met_after_its_due_date_is_met_late(api, world):
    on_time = Journey(api, world, notified_on=D(2026, 1, 5))
    clock.set_today(D(2026, 2, 5))
    on_time.fire("chair", "decide_to_review", rationale="The definition in 3.8 is met.")
    decision = on_time.deadline("decision")
    assert (decision["status"], decision["met_on"]) == ("met", "2026-02-05")

    late = Journey(api, world, notified_on=D(2026, 1, 5))
    clock.set_today(D(2026, 2, 10))
    late.fire("chair", "decide_to_review", rationale="The definition in 3.8 is met.")
    decision = late.deadline("decision")
    assert (decision["status"], decision["met_on"]) == ("met_late", "2026-02-10")
    # Still late when read long afterwards, and the other deadlines are unaffected.
    clock.set_today(D(2026, 6, 1))
    assert late.deadline("decision")["status"] == "met_late"
    assert late.deadline("terms_of_reference")["status"] == "overdue"
    assert late.deadline("overview_report")["status"] == "pending"


def test_a_decision_recorded_as_of_an_earlier_date_is_met_on_that_date(api, world):
    j = Journey(api, world, notified_on=D(2026, 1, 5))
    clock.set_today(D(2026, 2, 20))
    ok(j.as_("chair").post(f"/reviews/{j.id}/events", json={
        "event": "decide_to_review", "on": "2026-02-01", "data": {"rationale": "Decided at the board meeting."}}))
    decision = j.deadline("decision")
    assert (decision["met_on"], decision["status"]) == ("2026-02-01", "met")


def test_deciding_not_to_review_waives_the_terms_of_reference_deadline_with_its_reason(api, world):
    j = Journey(api, world, notified_on=D(2026, 1, 5))
    clock.set_today(D(2026, 1, 20))
    j.fire("chair", "decide_not_to_review", rationale="The death does not meet the definition in 3.8.")
    terms = j.deadline("terms_of_reference")
    assert terms["status"] == "waived"
    assert terms["waived_reason"] == "The CSP decided not to hold a review"
    assert terms["met_on"] is None
    assert j.deadline("decision")["status"] == "met"
    # Waived stays waived however much time passes: it never becomes overdue.
    clock.set_today(D(2026, 11, 1))
    assert j.deadline("terms_of_reference")["status"] == "waived"
    assert not any(d["kind"] == "overview_report" for d in j.get()["deadlines"])

    # Reconsidering reopens both deadlines, counted from the original notification.
    j.fire("chair", "reconsider", reason="The Home Office QA panel challenged the decision (11.4).")
    terms = j.deadline("terms_of_reference")
    assert terms["status"] == "overdue" and terms["waived_reason"] is None
    assert j.deadline("decision")["status"] == "overdue"


# -- extensions -----------------------------------------------------------------------------------

def test_an_extension_keeps_the_original_due_date_beside_the_new_one_and_is_in_the_history(api, world):
    j = Journey(api, world, notified_on=D(2026, 1, 5))
    clock.set_today(D(2026, 1, 20))
    j.fire("chair", "decide_to_review", rationale="The definition in 3.8 is met.")
    before = j.deadline("overview_report")
    assert before["due_on"] == before["original_due_on"] == "2026-07-20"

    clock.set_today(D(2026, 6, 1))
    reason = "Criminal trial listed for June; the panel agreed to wait for the verdict (6.4)."
    j.fire("chair", "agree_extension", deadline="overview_report", new_due_on="2026-10-31", reason=reason)
    after = j.deadline("overview_report")
    assert after["due_on"] == "2026-10-31"
    assert after["original_due_on"] == "2026-07-20"
    assert after["status"] == "pending"
    assert after["extensions"] == [
        {"previous_due_on": "2026-07-20", "new_due_on": "2026-10-31", "reason": reason, "agreed_on": "2026-06-01"}
    ]
    assert j.review["state"] == "scoping"  # an extension does not change the state

    entry = j.history()[-1]
    assert entry["event"] == "agree_extension"
    assert entry["from_state"] == entry["to_state"] == "scoping"
    assert entry["data"] == {"deadline": "overview_report", "new_due_on": "2026-10-31", "reason": reason}
    assert entry["changes"]["deadline.overview_report.due_on"] == ["2026-07-20", "2026-10-31"]
    assert entry["actor"] == world.user("chair").name

    # A second extension keeps the very first date as the original.
    j.fire("chair", "agree_extension", deadline="overview_report", new_due_on="2027-01-31", reason="The trial was adjourned.")
    after = j.deadline("overview_report")
    assert (after["original_due_on"], after["due_on"]) == ("2026-07-20", "2027-01-31")
    assert [e["previous_due_on"] for e in after["extensions"]] == ["2026-07-20", "2026-10-31"]

    # Past the original date but within the extension: pending, not overdue.
    clock.set_today(D(2026, 11, 15))
    assert j.deadline("overview_report")["status"] == "pending"


def test_a_deadline_met_after_its_original_date_but_within_the_extension_is_met(api, world):
    j = Journey(api, world, notified_on=D(2026, 1, 5))
    clock.set_today(D(2026, 2, 1))
    j.fire("chair", "agree_extension", deadline="decision", new_due_on="2026-02-20", reason="Awaiting the inquest file.")
    clock.set_today(D(2026, 2, 15))
    j.fire("chair", "decide_to_review", rationale="The definition in 3.8 is met.")
    decision = j.deadline("decision")
    assert (decision["original_due_on"], decision["due_on"], decision["met_on"]) == ("2026-02-05", "2026-02-20", "2026-02-15")
    assert decision["status"] == "met"


def test_an_extension_must_be_of_an_open_deadline_to_a_later_date_and_agreed_by_the_csp_chair(api, world):
    j = Journey(api, world, notified_on=D(2026, 1, 5))
    clock.set_today(D(2026, 1, 20))
    body = j.fire("chair", "agree_extension", expect=409, deadline="decision", new_due_on="2026-02-01", reason="Too soon.")
    assert body["failed_guards"][0]["guard"] == "extension_is_for_an_open_deadline_and_later"
    assert "2026-02-05" in body["detail"]
    body = j.fire("coordinator", "agree_extension", expect=403, deadline="decision", new_due_on="2026-03-01", reason="Busy.")
    assert "csp chair" in body["detail"]
    body = j.fire("chair", "agree_extension", expect=422, deadline="decision", new_due_on="1 March", reason="Busy.")
    assert "new_due_on" in body["detail"]
    j.fire("chair", "decide_to_review", rationale="The definition in 3.8 is met.")
    body = j.fire("chair", "agree_extension", expect=409, deadline="decision", new_due_on="2026-03-01", reason="Late.")
    assert "already closed" in body["detail"]
    assert j.deadline("decision")["extensions"] == []


# -- the sweep ----------------------------------------------------------------------------------

def _sweep(on: str):
    result = CliRunner().invoke(cli, ["sweep", "--on", on])
    assert result.exit_code == 0, result.output
    return result.output


def _overdue_rows(j: Journey) -> list[dict]:
    return [e for e in j.history() if e["event"] == "deadline_overdue"]


def test_the_sweep_records_each_newly_overdue_deadline_once(api, world, database_url):
    late = Journey(api, world, notified_on=D(2026, 1, 5))  # decision and terms due 2026-02-05
    decided = Journey(api, world, notified_on=D(2026, 1, 6))  # terms due 2026-02-06; decision met
    clock.set_today(D(2026, 1, 20))
    decided.fire("chair", "decide_to_review", rationale="The definition in 3.8 is met.")
    declined = Journey(api, world, notified_on=D(2026, 1, 7))  # terms waived, decision met
    declined.fire("chair", "decide_not_to_review", rationale="Not a domestic homicide (3.8).")
    recent = Journey(api, world, notified_on=D(2026, 2, 20))  # due 2026-03-20: still in time
    other = Journey(api, world, csp="FENLAND", notified_on=D(2026, 1, 8))
    clock.set_today(D(2026, 3, 1))

    output = _sweep("2026-03-01")
    assert "Sweep as of 2026-03-01: 5 deadline(s) became overdue" in output

    rows = _overdue_rows(late)
    assert sorted(r["data"]["kind"] for r in rows) == ["decision", "terms_of_reference"]
    for row in rows:
        assert row["on"] == "2026-03-01"
        assert row["actor"] == "system"
        assert row["data"]["due_on"] == "2026-02-05"
        assert row["entity_type"] == "deadline"
    assert [r["data"]["kind"] for r in _overdue_rows(decided)] == ["terms_of_reference"]
    assert _overdue_rows(declined) == []
    assert _overdue_rows(recent) == []
    assert sorted(r["data"]["kind"] for r in _overdue_rows(other)) == ["decision", "terms_of_reference"]
    histories = {j.id: len(j.history()) for j in (late, decided, declined, recent, other)}

    # A second run on the same day finds nothing new and writes nothing; the next day records no
    # new lapse (its alert emails are tests/test_alerts.py's business).
    assert "0 deadline(s) became overdue" in _sweep("2026-03-01")
    assert {j.id: len(j.history()) for j in (late, decided, declined, recent, other)} == histories
    overdue_rows = {j.id: len(_overdue_rows(j)) for j in (late, decided, declined, recent, other)}
    assert "0 deadline(s) became overdue" in _sweep("2026-03-02")
    assert {j.id: len(_overdue_rows(j)) for j in (late, decided, declined, recent, other)} == overdue_rows

    # When the recent review's deadlines pass, only they are new.
    assert "2 deadline(s) became overdue" in _sweep("2026-03-21")
    assert sorted(r["data"]["kind"] for r in _overdue_rows(recent)) == ["decision", "terms_of_reference"]
    assert len(_overdue_rows(late)) == 2


def test_an_extension_brings_a_swept_deadline_back_into_time_and_a_new_lapse_is_recorded_again(api, world, database_url):
    j = Journey(api, world, notified_on=D(2026, 1, 5))
    clock.set_today(D(2026, 2, 10))
    assert "2 deadline(s) became overdue" in _sweep("2026-02-10")
    j.fire("chair", "agree_extension", deadline="terms_of_reference", new_due_on="2026-03-31", reason="Panel chair appointed late.")
    assert j.deadline("terms_of_reference")["status"] == "pending"
    # The extension itself puts the deadline back in time: the next sweep has nothing to record.
    assert "0 deadline(s) became overdue" in _sweep("2026-02-11")
    assert "1 deadline(s) became overdue" in _sweep("2026-04-01")
    rows = [r for r in _overdue_rows(j) if r["data"]["kind"] == "terms_of_reference"]
    assert [r["data"]["due_on"] for r in rows] == ["2026-02-05", "2026-03-31"]


def test_the_sweep_refuses_a_malformed_date(database_url):
    result = CliRunner().invoke(cli, ["sweep", "--on", "1 March 2026"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


# -- filters over HTTP ----------------------------------------------------------------------------

def _kinds(items: list[dict]) -> list[tuple[str, str]]:
    return sorted((d["review_id"], d["kind"]) for d in items)


def test_deadlines_filter_by_status_and_due_date(api, world):
    late = Journey(api, world, notified_on=D(2026, 1, 5))  # due 2026-02-05
    met = Journey(api, world, notified_on=D(2026, 1, 10))  # due 2026-02-10
    clock.set_today(D(2026, 1, 20))
    met.fire("chair", "decide_not_to_review", rationale="Not a domestic homicide (3.8).")
    recent = Journey(api, world, notified_on=D(2026, 2, 20))  # due 2026-03-20
    Journey(api, world, csp="FENLAND", notified_on=D(2026, 1, 5))  # not visible to CAMCITY
    clock.set_today(D(2026, 3, 1))
    chair = api.as_("chair")

    every = ok(chair.get("/deadlines"))
    assert every["total"] == 6
    assert {d["review_id"] for d in every["items"]} == {late.id, met.id, recent.id}
    assert [d["due_on"] for d in every["items"]] == sorted(d["due_on"] for d in every["items"])

    overdue = ok(chair.get("/deadlines", params={"status": "overdue"}))
    assert _kinds(overdue["items"]) == [(late.id, "decision"), (late.id, "terms_of_reference")]
    assert overdue["total"] == 2
    assert all(d["status"] == "overdue" and d["reference"] == late.review["reference"] for d in overdue["items"])

    pending = ok(chair.get("/deadlines", params={"status": "pending"}))
    assert _kinds(pending["items"]) == [(recent.id, "decision"), (recent.id, "terms_of_reference")]
    assert _kinds(ok(chair.get("/deadlines", params={"status": "met"}))["items"]) == [(met.id, "decision")]
    assert _kinds(ok(chair.get("/deadlines", params={"status": "waived"}))["items"]) == [(met.id, "terms_of_reference")]
    assert ok(chair.get("/deadlines", params={"status": "met_late"}))["items"] == []

    before = ok(chair.get("/deadlines", params={"due_before": "2026-02-10"}))
    assert _kinds(before["items"]) == [(late.id, "decision"), (late.id, "terms_of_reference")]
    assert ok(chair.get("/deadlines", params={"due_before": "2026-02-05"}))["items"] == []  # strictly before
    assert ok(chair.get("/deadlines", params={"due_before": "2026-02-11"}))["total"] == 4
    assert ok(chair.get("/deadlines", params={"due_before": "2027-01-01"}))["total"] == 6
    combined = ok(chair.get("/deadlines", params={"due_before": "2026-03-31", "status": "pending"}))
    assert _kinds(combined["items"]) == [(recent.id, "decision"), (recent.id, "terms_of_reference")]

    page = ok(chair.get("/deadlines", params={"limit": 2, "offset": 1}))
    assert page["total"] == 6 and len(page["items"]) == 2

    other = ok(api.as_("other_chair").get("/deadlines", params={"status": "overdue"}))
    assert other["total"] == 2 and all(d["review_id"] not in (late.id, met.id, recent.id) for d in other["items"])

    for bad in ({"status": "late"}, {"due_before": "next week"}):
        response = chair.get("/deadlines", params=bad)
        assert response.status_code == 422, response.text


def test_reviews_filter_to_those_with_an_overdue_deadline(api, world):
    late = Journey(api, world, notified_on=D(2026, 1, 5))
    on_time = Journey(api, world, notified_on=D(2026, 1, 6))
    clock.set_today(D(2026, 1, 20))
    on_time.fire("chair", "decide_not_to_review", rationale="Not a domestic homicide (3.8).")
    recent = Journey(api, world, notified_on=D(2026, 2, 20))
    extended = Journey(api, world, notified_on=D(2026, 1, 7))
    extended.fire("chair", "agree_extension", deadline="decision", new_due_on="2026-04-30", reason="Awaiting the post-mortem.")
    extended.fire("chair", "agree_extension", deadline="terms_of_reference", new_due_on="2026-04-30", reason="Awaiting the post-mortem.")
    Journey(api, world, csp="FENLAND", notified_on=D(2026, 1, 5))
    clock.set_today(D(2026, 3, 1))
    chair = api.as_("chair")

    overdue = ok(chair.get("/reviews", params={"overdue": "true"}))
    assert [r["id"] for r in overdue["items"]] == [late.id]
    assert overdue["total"] == 1
    in_time = ok(chair.get("/reviews", params={"overdue": "false"}))
    assert sorted(r["id"] for r in in_time["items"]) == sorted([on_time.id, recent.id, extended.id])
    assert ok(chair.get("/reviews"))["total"] == 4

    # The filter follows the clock: a month later the recent review has lapsed too.
    clock.set_today(D(2026, 3, 21))
    assert sorted(r["id"] for r in ok(chair.get("/reviews", params={"overdue": "true"}))["items"]) == sorted([late.id, recent.id])
    assert ok(chair.get("/reviews", params={"overdue": "true", "state": "scoping"}))["items"] == []


def test_an_imr_deadline_is_counted_from_commissioning_and_extended_by_its_id(api, world):
    j = Journey(api, world).to("evidence")  # terms agreed on 2026-01-20
    j.commission(agencies=("police", "health"))  # commissioned 2026-01-21
    police, health = j.imrs["police"], j.imrs["health"]
    deadline = j.deadline("imr", police)
    assert (deadline["starts_on"], deadline["due_on"], deadline["status"]) == ("2026-01-21", "2026-03-18", "pending")

    body = j.fire("chair", "agree_extension", expect=409, deadline="imr", new_due_on="2026-04-30", reason="Staff absence.")
    assert "subject_id" in body["detail"]
    j.fire("chair", "agree_extension", deadline="imr", subject_id=police, new_due_on="2026-04-30", reason="Staff absence.")
    assert (j.deadline("imr", police)["due_on"], j.deadline("imr", police)["original_due_on"]) == ("2026-04-30", "2026-03-18")
    assert j.deadline("imr", health)["due_on"] == "2026-03-18"  # the other agency's is untouched

    clock.set_today(D(2026, 3, 19))
    assert j.deadline("imr", police)["status"] == "pending"
    assert j.deadline("imr", health)["status"] == "overdue"
    overdue = ok(api.as_("chair").get("/deadlines", params={"status": "overdue"}))["items"]
    assert [(d["kind"], d["subject_id"]) for d in overdue if d["kind"] == "imr"] == [("imr", health)]
    # The agency sees its own IMR's deadline only.
    mine = ok(api.as_("health_manager").get("/deadlines"))["items"]
    assert [(d["kind"], d["subject_id"]) for d in mine] == [("imr", health)]
