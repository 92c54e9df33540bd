"""Parallel proceedings (guidance 6.5-6.8, 9.2, 10): the criminal trial, the inquest and other reviews
are recorded on the review, and publication waits while a criminal trial is open."""
from __future__ import annotations

import datetime as dt

from app.core import clock
from tests.journey import Journey
from tests.support import ok


def _record(j: Journey, who: str = "coordinator", expect: int = 201, **body) -> dict:
    return ok(j.as_(who).post(f"/reviews/{j.id}/proceedings", json=body), expect)


def _patch(j: Journey, proceeding: dict, who: str = "chair", expect: int = 200, **body) -> dict:
    path = f"/proceedings/{proceeding['id']}"
    etag = j.as_(who).get(path).headers["ETag"]
    return ok(j.as_(who).patch(path, json=body, headers={"If-Match": etag}), expect)


def test_publication_waits_while_the_criminal_trial_is_open_and_not_for_an_inquest(api, world):
    """9.2: publication is timed after related court proceedings; an open inquest is recorded but does not hold it."""
    j = Journey(api, world).to("cleared")
    trial = _record(j, kind="criminal_trial", description="Trial at the Crown Court", expected_end_on="2026-12-01")
    inquest = _record(j, who="panel_chair", kind="inquest", description="HM Coroner's inquest, opened and adjourned")
    assert (trial["status"], trial["holds_publication"], inquest["holds_publication"]) == ("open", True, False)
    assert j.get("chair")["criminal_proceedings_open"] is True

    refused = j.fire("chair", "publish", expect=409, url="https://csp.example/dhr/adult-a")
    assert [g["guard"] for g in refused["failed_guards"]] == ["no_open_criminal_proceedings"]
    assert "publication waits" in refused["failed_guards"][0]["reason"]

    concluded = _patch(j, trial, status="concluded", outcome="Convicted of murder.")
    assert (concluded["status"], concluded["concluded_on"], concluded["holds_publication"]) == ("concluded", clock.today().isoformat(), False)
    j.fire("chair", "publish", url="https://csp.example/dhr/adult-a")
    listed = ok(j.as_("home_office").get(f"/reviews/{j.id}/proceedings"))["items"]
    assert [(p["kind"], p["status"]) for p in listed] == [("criminal_trial", "concluded"), ("inquest", "open")]

    history = [h for h in j.history() if h["entity_type"] == "proceeding"]
    assert [h["event"] for h in history] == ["record_proceeding", "record_proceeding", "update_proceeding"]
    assert history[-1]["changes"]["status"] == ["open", "concluded"]


def test_the_criminal_proceedings_event_records_a_trial_and_concludes_it(api, world):
    j = Journey(api, world).to("evidence")
    j.fire("coordinator", "record_criminal_proceedings", status="open")
    j.fire("coordinator", "record_criminal_proceedings", status="open")  # already open: nothing new
    (trial,) = ok(j.as_("chair").get(f"/reviews/{j.id}/proceedings"))["items"]
    assert (trial["kind"], trial["status"]) == ("criminal_trial", "open")
    j.fire("chair", "record_criminal_proceedings", status="concluded")
    (trial,) = ok(j.as_("chair").get(f"/reviews/{j.id}/proceedings"))["items"]
    assert (trial["status"], trial["concluded_on"]) == ("concluded", clock.today().isoformat())
    assert j.get("chair")["criminal_proceedings_open"] is False
    refused = ok(j.as_("panel_member").post(f"/reviews/{j.id}/proceedings", json={"kind": "inquest", "description": "Inquest"}), 403)
    assert "panel chair records" in refused["detail"]


def test_bad_proceedings_are_refused_saying_why_and_nothing_changes(api, world):
    j = Journey(api, world).to("scoping")
    future = (clock.today() + dt.timedelta(days=3)).isoformat()
    refused = _record(j, expect=422, kind="inquest", description="Inquest", status="concluded", concluded_on=future)
    assert "future" in refused["detail"]
    refused = _record(j, expect=422, kind="inquest", description="Inquest", status="open", concluded_on=clock.today().isoformat())
    assert "set status to concluded" in refused["detail"]
    assert _record(j, expect=422, kind="court_martial", description="Not a kind")["message"]
    assert ok(j.as_("chair").get(f"/reviews/{j.id}/proceedings"))["total"] == 0

    inquest = _record(j, kind="inquest", description="Inquest")
    stale = ok(j.as_("chair").patch(f"/proceedings/{inquest['id']}", json={"status": "concluded"}, headers={"If-Match": '"99"'}), 412)
    assert "Reload it" in stale["detail"]
    emptied = _patch(j, inquest, expect=422, description=None)
    assert "cannot be emptied" in emptied["message"]
    reopened = _patch(j, _patch(j, inquest, status="concluded"), status="open")
    assert (reopened["status"], reopened["concluded_on"]) == ("open", None)
