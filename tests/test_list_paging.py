"""The cross-review lists (GET /actions, /deadlines, /national/reviews) filter and page in the database:
each page is the right window of the filtered list with its full total, pages follow on without repeating
or skipping a row, each filter keeps exactly the rows a person would pick out by eye, and everyone still
sees exactly what they saw before (what the review and the action themselves show them)."""
from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.actions.models import Action
from app.core import clock
from app.deadlines.models import Deadline
from app.web.pages import records
from tests.journey import Journey
from tests.support import PASSWORD, ok

D = dt.date
ACTION_READERS = ("coordinator", "other_coordinator", "panel_chair", "police_manager", "probation_manager", "police_author", "home_office")
DEADLINE_READERS = ACTION_READERS + ("health_author", "health_manager")


def _add_action(j: Journey, world, agency: str | None, target: D, text: str) -> str:
    rec = ok(j.as_("panel_chair").post(f"/reviews/{j.id}/recommendations", json={"text": f"Recommendation for {text}", "scope": "local"}), 201)
    return ok(j.as_("panel_chair").post(f"/recommendations/{rec['id']}/actions", json={
        "action": text, "lead_agency_id": world.agencies[agency] if agency else None, "target_date": target.isoformat(),
        "outcome_measure": "Audited."}), 201)["id"]


@pytest.fixture
def reviews(api, world) -> dict:
    """Three reviews in two partnerships, with actions of three agencies due on the same days (ties to break)."""
    submitted = Journey(api, world, csp="FENLAND", notified_on=D(2026, 1, 5)).to("submitted")  # one police action, Home Office sees it
    drafting = Journey(api, world, notified_on=D(2026, 1, 12)).to("drafting")
    panel = Journey(api, world, notified_on=D(2026, 1, 19)).to("panel_review")  # one police action
    clock.set_today(max(submitted.day, drafting.day, panel.day))
    today = clock.today()
    actions = submitted.actions + panel.actions
    for n in range(4):
        actions.append(_add_action(drafting, world, "police", today + dt.timedelta(days=10), f"Police action {n}."))
    for n in range(2):
        actions.append(_add_action(panel, world, "police", today + dt.timedelta(days=10), f"Panel police action {n}."))
        actions.append(_add_action(drafting, world, "probation", today + dt.timedelta(days=40), f"Probation action {n}."))
    actions.append(_add_action(drafting, world, None, today + dt.timedelta(days=10), "Action with no lead agency."))
    clock.set_today(today + dt.timedelta(days=20))  # the ten-day actions are now overdue
    ok(api.as_("police_manager").post(f"/actions/{submitted.actions[0]}/events", json={  # its action plan is agreed
        "event": "complete", "data": {"completed_on": clock.today().isoformat(), "outcome": "Done in time."}}))
    return {"journeys": [submitted, drafting, panel], "actions": actions}


def _all(api, who: str, path: str, **params) -> dict:
    return ok(api.as_(who).get(path, params={**params, "limit": 500}))


def _walk(api, who: str, path: str, limit: int, **params) -> list[dict]:
    """Every page in turn; each must be full until the last and carry the same total."""
    pages, offset = [], 0
    while True:
        page = ok(api.as_(who).get(path, params={**params, "limit": limit, "offset": offset}))
        pages.append(page)
        offset += limit
        if offset >= page["total"]:
            break
    totals = {p["total"] for p in pages}
    assert len(totals) == 1, f"{path} {params} as {who}: the total changed between pages: {totals}"
    assert all(len(p["items"]) == limit for p in pages[:-1]), f"{path} {params} as {who}: a short page before the end"
    return [item for p in pages for item in p["items"]]


def _check_paging(api, who: str, path: str, **params) -> list[dict]:
    everything = _all(api, who, path, **params)
    assert everything["total"] == len(everything["items"])
    for limit in (1, 3):
        walked = _walk(api, who, path, limit, **params)
        assert [i["id"] for i in walked] == [i["id"] for i in everything["items"]], f"{path} {params} as {who}, {limit} a page"
    return everything["items"]


def test_actions_page_filter_and_show_each_person_what_they_may_read(api, world, reviews):
    every_action = reviews["actions"]
    for who in ACTION_READERS:
        listed = _check_paging(api, who, "/actions")
        # Exactly the actions this person can open, soonest due first.
        readable = {a for a in every_action if api.as_(who).get(f"/actions/{a}").status_code == 200}
        assert {a["id"] for a in listed} == readable, who
        dates = [a["target_date"] for a in listed]
        assert dates == sorted(dates), who
        # Each filter keeps exactly the rows that show that value, in the same order.
        for status in ("overdue", "pending", "met", "met_late", "waived"):
            filtered = _check_paging(api, who, "/actions", status=status)
            assert filtered == [a for a in listed if a["deadline"] and a["deadline"]["status"] == status], (who, status)
        for state in ("open", "completed"):
            assert _check_paging(api, who, "/actions", state=state) == [a for a in listed if a["state"] == state], (who, state)
        police = world.agencies["police"]
        assert _check_paging(api, who, "/actions", lead_agency_id=police) == [a for a in listed if a["lead_agency_id"] == police]
        both = _check_paging(api, who, "/actions", lead_agency_id=police, status="overdue")
        assert both == [a for a in listed if a["lead_agency_id"] == police and a["deadline"]["status"] == "overdue"]

    # The data is what the checks above need: pages of a filtered list longer than one, and ties.
    police_overdue = ok(api.as_("police_manager").get("/actions", params={"status": "overdue", "limit": 2}))
    assert police_overdue["total"] == 6 and len(police_overdue["items"]) == 2
    assert len(_all(api, "probation_manager", "/actions")["items"]) == 2
    assert len(_all(api, "police_author", "/actions")["items"]) == 0
    assert len(_all(api, "home_office", "/actions")["items"]) == 1


def test_deadlines_page_filter_and_show_each_person_what_their_reviews_show(api, world, reviews):
    for who in DEADLINE_READERS:
        listed = _check_paging(api, who, "/deadlines")
        # Exactly the deadlines the person sees on the reviews they can open, soonest due first.
        on_reviews = {d["id"] for r in _all(api, who, "/reviews")["items"] for d in r["deadlines"]}
        assert {d["id"] for d in listed} == on_reviews, who
        assert [d["due_on"] for d in listed] == sorted(d["due_on"] for d in listed), who
        for status in ("overdue", "pending", "met", "met_late", "waived"):
            assert _check_paging(api, who, "/deadlines", status=status) == [d for d in listed if d["status"] == status], (who, status)
        cut = clock.today().isoformat()
        assert _check_paging(api, who, "/deadlines", due_before=cut, status="overdue") == [
            d for d in listed if d["due_on"] < cut and d["status"] == "overdue"]

    # Agency staff see only their own agency's IMRs and actions, even on a review they can open.
    police = _all(api, "police_author", "/deadlines")["items"]
    assert police and {d["kind"] for d in police} == {"imr"}
    assert {d["kind"] for d in _all(api, "probation_manager", "/deadlines")["items"]} == {"action"}
    assert len(_all(api, "coordinator", "/deadlines", status="overdue")["items"]) > 3


@contextmanager
def _loaded(model) -> list:
    """The rows of `model` read from the database inside the block."""
    rows: list = []

    def on_load(target, _context):
        rows.append(target)

    event.listen(model, "load", on_load)
    try:
        yield rows
    finally:
        event.remove(model, "load", on_load)


def test_a_page_reads_only_its_own_rows_from_the_database(api, world, reviews):
    # A national list must not read every visible row to show fifty of them.
    with _loaded(Action) as actions, _loaded(Deadline) as their_deadlines:
        page = ok(api.as_("coordinator").get("/actions", params={"limit": 2, "status": "overdue"}))
    assert len(page["items"]) == 2 and page["total"] > 2
    assert len({a.id for a in actions}) == 2 and len({d.id for d in their_deadlines}) == 2
    with _loaded(Deadline) as deadlines:
        page = ok(api.as_("coordinator").get("/deadlines", params={"limit": 2}))
    assert len(page["items"]) == 2 and page["total"] > 2
    assert len({d.id for d in deadlines}) == 2


def _submitted(api, world, count: int) -> list[Journey]:
    out = []
    for n in range(count):
        j = Journey(api, world, csp="FENLAND" if n % 2 else "CAMCITY", notified_on=D(2026, 1, 5) + dt.timedelta(days=7 * n)).to("submitted")
        out.append(j)
    out[0].to("cleared")
    return out


def test_the_national_view_pages_and_counts_every_review_the_filters_keep(api, world):
    journeys = _submitted(api, world, 3)
    everything = _all(api, "home_office", "/national/reviews")
    assert everything["total"] == 3 and len(everything["items"]) == 3

    first = ok(api.as_("home_office").get("/national/reviews", params={"limit": 2}))
    second = ok(api.as_("home_office").get("/national/reviews", params={"limit": 2, "offset": 2}))
    assert [len(first["items"]), len(second["items"])] == [2, 1]
    assert [i["id"] for i in first["items"] + second["items"]] == [i["id"] for i in everything["items"]]
    for page in (first, second):
        # The totals and themes describe every review, not the page shown.
        assert page["total"] == 3
        assert page["by_state"] == [{"state": "cleared", "total": 1}, {"state": "submitted", "total": 2}]
        assert page["themes"] == everything["themes"] and everything["themes"][0]["reviews"] == 3
    fenland = ok(api.as_("home_office").get("/national/reviews", params={"csp_id": world.csps["FENLAND"], "limit": 1}))
    assert fenland["total"] == 1 and [i["reference"] for i in fenland["items"]] == [journeys[1].review["reference"]]
    assert api.as_("home_office").get("/national/reviews", params={"limit": 501}).status_code == 422


def _browser(app, email: str) -> TestClient:
    browser = TestClient(app, base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/sign-in").text).group(1)
    signed_in = browser.post("/sign-in", data={"csrf_token": token, "email": email, "password": PASSWORD, "next": "/"}, follow_redirects=False)
    assert signed_in.status_code == 303
    return browser


def test_the_national_page_shows_govuk_pagination_when_there_is_more_than_one_page(app, api, world, monkeypatch):
    references = [j.review["reference"] for j in _submitted(api, world, 3)]
    browser = _browser(app, world.users["home_office"].email)
    whole = browser.get("/national").text
    assert all(r in whole for r in references) and "govuk-pagination" not in whole

    monkeypatch.setattr(records, "NATIONAL_PAGE_SIZE", 2)
    first = browser.get("/national").text
    assert [r in first for r in references] == [True, True, False]
    assert 'class="govuk-pagination"' in first and 'href="/national?page=2"' in first and 'aria-current="page"' in first
    second = browser.get("/national", params={"page": 2}).text
    assert [r in second for r in references] == [False, False, True]
    assert 'href="/national?page=1"' in second and "showing 3 to 3 of 3" in second
