"""The home pages and the reviews page stay short however much there is: each home-page list shows its
most urgent rows, says how many there are in all and links to them; the reviews page shows one page
of 50 with GOV.UK pagination. What is shown is what the API lists, in its order, to the same person."""
from __future__ import annotations

import datetime as dt
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.core import clock
from app.core.db import get_engine
from app.web.pages import home_lists, parts, reviews
from tests.journey import Journey
from tests.support import PASSWORD, ok
from tests.test_query_counts import StatementCounter

D = dt.date


def _sign_in(app, world, who: str) -> TestClient:
    browser = TestClient(app, base_url="http://127.0.0.1")
    page = browser.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = browser.post("/sign-in", data={"csrf_token": token, "email": world.users[who].email, "password": PASSWORD, "next": "/"},
                            follow_redirects=False)
    assert response.status_code == 303, response.text
    return browser


def _sections(html: str) -> dict[str, str]:
    """Each heading's text and the page's HTML up to the next heading."""
    parts = re.split(r'<h[23] class="govuk-heading-[ms]">', html)
    return {unescape(p.split("</h", 1)[0].strip()): p.split("</h", 1)[1] for p in parts[1:]}


def _rows(html: str) -> list[list[str]]:
    """Each body row of the tables in this HTML, as the text of its cells."""
    body = "".join(re.findall(r'<tbody class="govuk-table__body">(.*?)</tbody>', html, re.S))
    return [[" ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in re.findall(r'<td class="govuk-table__cell">(.*?)</td>', row, re.S)]
            for row in re.findall(r'<tr class="govuk-table__row"[^>]*>(.*?)</tr>', body, re.S)]


def _links(html: str) -> dict[str, str]:
    return {" ".join(unescape(re.sub(r"<[^>]+>", "", text)).split()): unescape(href)
            for href, text in re.findall(r'<a class="govuk-link[^"]*" href="([^"]+)"[^>]*>(.*?)</a>', html, re.S)}


def _references(html: str) -> list[str]:
    return [row[0] for row in _rows(html)]


def _add_action(j: Journey, world, agency: str, target: D, text: str) -> str:
    rec = ok(j.as_("panel_chair").post(f"/reviews/{j.id}/recommendations", json={"text": f"Recommendation for {text}", "scope": "local"}), 201)
    return ok(j.as_("panel_chair").post(f"/recommendations/{rec['id']}/actions", json={
        "action": text, "lead_agency_id": world.agencies[agency], "target_date": target.isoformat(), "outcome_measure": "Audited."}), 201)["id"]


def _walk(browser: TestClient, path: str, *kept: str) -> tuple[list[str], str]:
    """The first cell of every row on every page from `path` on, following "Next"; and the last page."""
    seen = []
    while path:
        page = browser.get(path).text
        seen += [row[0] for row in _rows(page)]
        following = re.search(r'<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="next"', page)
        path = unescape(following.group(1)) if following else None
        for kept_filter in kept:
            assert path is None or kept_filter in path, f"the filter {kept_filter} rides along to the next page"
    return seen, page


@pytest.fixture
def few_rows(monkeypatch):
    """Two rows a home-page list, two a page of reviews: a handful of reviews shows what thousands would."""
    monkeypatch.setattr(home_lists, "HOME_ROWS", 2)
    monkeypatch.setattr(home_lists, "STAGE_ROWS", 2)
    monkeypatch.setattr(reviews, "REVIEWS_PER_PAGE", 2)


def test_the_chair_and_coordinator_see_the_most_urgent_notifications_and_a_link_to_all(app, api, world, few_rows):
    notified = [Journey(api, world, notified_on=D(2026, 1, day)).review for day in (19, 5, 12)]
    clock.set_today(D(2026, 1, 20))
    by_due = [r["reference"] for r in sorted(notified, key=lambda r: r["notified_on"])]  # the decision is due a month after

    chair = _sign_in(app, world, "chair")
    awaiting = _sections(chair.get("/").text)["Notifications awaiting your decision"]
    assert _references(awaiting) == by_due[:2], "the two decisions due soonest, soonest first"
    assert "Showing 2 of 3." in awaiting
    everything = _links(awaiting)["Show all 3 notifications awaiting a decision"]
    assert urlsplit(everything).path == "/reviews" and f"csp_id={world.csps['CAMCITY']}" in everything and "state=notified" in everything
    listed = chair.get(everything).text
    assert "3 reviews, showing 1 to 2." in listed
    assert _references(listed) == [r["reference"] for r in ok(api.as_("chair").get("/reviews", params={"state": "notified"}))["items"]][:2]

    stages = _sections(_sign_in(app, world, "coordinator").get("/").text)
    stage = f"{notified[0]['state_title']} (3)"
    assert _references(stages[stage]) == by_due[:2]
    assert "Show all 3 reviews at this stage" in _links(stages[stage])


def test_everything_overdue_shows_the_longest_overdue_and_how_many_there_are(app, api, world, few_rows):
    for day in (5, 12, 19):
        Journey(api, world, notified_on=D(2026, 1, day))
    clock.set_today(D(2026, 3, 1))
    overdue = ok(api.as_("coordinator").get("/deadlines", params={"status": "overdue", "limit": 500}))
    assert overdue["total"] > 2

    section = _sections(_sign_in(app, world, "coordinator").get("/").text)["Everything overdue"]
    assert [row[:3] for row in _rows(section)] == [[d["reference"], d["title"], f"{D.fromisoformat(d['due_on']).day} {D.fromisoformat(d['due_on']):%B %Y}"]
                                                   for d in overdue["items"][:2]]
    assert f"Showing the 2 deadlines overdue longest of {overdue['total']}." in section
    assert _links(section)["Show every review with an overdue deadline"] == "/reviews?overdue=true"


def test_imr_lists_put_the_imrs_still_to_do_first(app, api, world, few_rows):
    done = Journey(api, world, notified_on=D(2026, 1, 5)).to("evidence")
    done.commission(agencies=("police",))
    done.complete_imr("police")  # accepted: due first, but nothing is left to do
    waiting = [Journey(api, world, notified_on=D(2026, 1, day)).to("evidence") for day in (6, 7)]
    for j in waiting:
        j.commission(agencies=("police",))

    police = _sections(_sign_in(app, world, "police_author").get("/").text)["Your agency's IMRs"]
    assert [row[0] for row in _rows(police)] == [f"{j.review['reference']}, Exampleshire Constabulary" for j in waiting]
    assert "Showing 2 of 3." in police

    chair = _sections(_sign_in(app, world, "panel_chair").get("/").text)
    assert "Showing 2 of 3." in chair["Reviews you chair"]
    assert [row[0] for row in _rows(chair["IMR tracker"])] == [f"{j.review['reference']}, Exampleshire Constabulary" for j in waiting]
    assert "Showing the 2 most urgent of 3 IMRs." in chair["IMR tracker"]


def test_the_home_office_queue_shows_the_longest_waiting_and_links_to_each_stage(app, api, world, few_rows):
    submitted = [Journey(api, world, notified_on=D(2026, 1, day)).to("submitted") for day in (12, 5, 19)]
    clock.set_today(max(j.day for j in submitted))
    longest = sorted(submitted, key=lambda j: j.review["submitted_on"])

    queue = _sections(_sign_in(app, world, "home_office").get("/").text)["Submissions queue"]
    assert _references(queue) == [j.review["reference"] for j in longest[:2]]
    assert "Showing the 2 waiting longest of 3." in queue
    assert _links(queue)[f"{submitted[0].review['state_title']} (3)"] == "/reviews?state=submitted"


def test_the_reviews_page_pages_through_what_the_api_lists(app, api, world, few_rows):
    for day in (5, 6, 7, 8, 9):
        Journey(api, world, notified_on=D(2026, 1, day))
    expected = [r["reference"] for r in ok(api.as_("coordinator").get("/reviews", params={"state": "notified", "limit": 500}))["items"]]
    assert len(expected) == 5

    browser = _sign_in(app, world, "coordinator")
    seen, last = _walk(browser, "/reviews?state=notified", "state=notified")
    assert seen == expected
    assert "5 reviews, showing 5 to 5." in last
    assert "There is no page with that number." in browser.get("/reviews?state=notified&page=9").text


def test_the_reviews_page_shows_each_person_the_next_deadline_the_api_shows_them(app, api, world):
    j = Journey(api, world).to("evidence")
    # The police IMR is due after the Overview Report: the partnership's next deadline is not the police's.
    police_imr = ok(api.as_("panel_chair").post(f"/reviews/{j.id}/imrs", json={"agency_id": world.agencies["police"], "due_on": "2027-06-30"}), 201)
    clock.set_today(j.day)
    shown = {}
    for who in ("coordinator", "police_author"):
        review = ok(api.as_(who).get("/reviews"))["items"][0]
        soonest = min((d for d in review["deadlines"] if d["status"] in ("pending", "overdue")), key=lambda d: d["due_on"])
        due = D.fromisoformat(soonest["due_on"])
        row = _rows(_sign_in(app, world, who).get("/reviews").text)[0]
        assert row[0] == review["reference"]
        assert row[3].startswith(f"{soonest['title']}, {due.day} {due:%B %Y}"), f"{who}: {row[3]}"
        shown[who] = soonest
    assert shown["police_author"]["subject_id"] == police_imr["id"], "agency staff see their own IMR's deadline"
    assert shown["coordinator"]["subject_id"] != police_imr["id"]


def test_the_home_page_shows_the_open_actions_due_soonest_and_links_to_each_state(app, api, world, few_rows, monkeypatch):
    monkeypatch.setattr(parts, "ACTIONS_PER_PAGE", 1)
    done = Journey(api, world, notified_on=D(2026, 1, 5)).to("family_review")  # its action plan is approved: actions may complete
    drafting = Journey(api, world, notified_on=D(2026, 1, 12)).to("drafting")
    today = clock.today()
    for days, text in ((30, "Audit referrals."), (10, "Brief the control room."), (20, "Train call handlers.")):
        _add_action(drafting, world, "police", today + dt.timedelta(days=days), text)
    _add_action(drafting, world, "probation", today + dt.timedelta(days=5), "Probation's own action.")
    done_action = ok(api.as_("police_manager").post(f"/actions/{done.actions[0]}/events", json={
        "event": "complete", "data": {"completed_on": today.isoformat(), "outcome": "All officers trained."}}))["action"]

    browser = _sign_in(app, world, "police_manager")
    home = _sections(browser.get("/").text)["Your agency's open actions"]
    assert [row[0] for row in _rows(home)] == ["Brief the control room.", "Train call handlers."], "the two due soonest, of the police's only"
    assert "Showing the 2 due soonest of 3." in home, "the completed action is not open"
    agreed = _links(home)["Agreed (3)"]
    assert agreed == "/actions?state=open"
    expected = [a["action"] for a in ok(api.as_("police_manager").get("/actions", params={"state": "open", "limit": 500}))["items"]]
    seen, last = _walk(browser, agreed, "state=open")
    assert seen == expected and len(seen) == 3
    assert "showing 3 to 3 of 3" in last

    everything, _ = _walk(browser, "/actions")
    assert everything == [a["action"] for a in ok(api.as_("police_manager").get("/actions", params={"limit": 500}))["items"]]
    assert len(everything) == 4 and done_action in everything, "page by page, the completed one too"
    clock.set_today(today + dt.timedelta(days=15))  # a fortnight on: a new sign-in, the old session has timed out
    overdue, _ = _walk(_sign_in(app, world, "police_manager"), "/actions?overdue=true&state=open", "overdue=true", "state=open")
    assert overdue == ["Brief the control room."]


def test_agency_staff_never_see_another_agencys_rows(app, api, world, few_rows):
    both = Journey(api, world, notified_on=D(2026, 1, 5)).to("evidence")
    both.commission(agencies=("police", "health"))
    health_only = Journey(api, world, notified_on=D(2026, 1, 6)).to("evidence")
    health_only.commission(agencies=("health",))
    drafting = Journey(api, world, notified_on=D(2026, 1, 7)).to("drafting")  # the police and health IMRs
    _add_action(drafting, world, "probation", clock.today() + dt.timedelta(days=1), "Probation's own action.")
    _add_action(drafting, world, "police", clock.today() + dt.timedelta(days=2), "The police's own action.")

    for who, own in (("police_author", "Exampleshire Constabulary"), ("health_author", "Example NHS Foundation Trust")):
        browser = _sign_in(app, world, who)
        imrs = _rows(_sections(browser.get("/").text)["Your agency's IMRs"])
        assert imrs and {row[1] for row in imrs} == {own}, f"{who} sees only their own agency's IMRs"
        listed, _ = _walk(browser, "/reviews")
        assert listed == [r["reference"] for r in ok(api.as_(who).get("/reviews"))["items"]]
    police = _sign_in(app, world, "police_author")
    assert health_only.review["reference"] not in police.get("/").text + "".join(_walk(police, "/reviews")[0])

    manager = _sign_in(app, world, "police_manager")
    home = manager.get("/").text
    assert "Probation's own action." not in home + manager.get("/actions").text
    assert [row[0] for row in _rows(_sections(home)["Your agency's open actions"])] == ["The police's own action."]


def test_the_home_page_runs_the_same_statements_however_many_reviews(app, api, world, few_rows):
    """Every list of every home page is longer than it shows from the start; then there are twice as many."""
    counter = StatementCounter()
    engine = get_engine()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        def grow(days):
            for day in days:
                Journey(api, world, notified_on=D(2026, 1, day))
                Journey(api, world, notified_on=D(2026, 1, day)).to("submitted")  # IMRs, actions and a place in the queue

        def measure() -> dict[str, tuple[int, str]]:
            clock.set_today(D(2026, 9, 1))  # deadlines overdue everywhere
            counts = {}
            for who in ("chair", "coordinator", "panel_chair", "police_manager", "police_author", "home_office"):
                browser = _sign_in(app, world, who)
                browser.get("/")  # warm: caches filled on a first call are not the page's cost
                with counter.counting():
                    page = browser.get("/").text
                counts[who] = (len(counter.statements), page)
            return counts

        grow((5, 6, 7))
        small = measure()
        grow((8, 9, 12, 13, 14))
        large = measure()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    for who, (count, page) in small.items():
        shown = re.findall(r"Showing (?:the )?2 [^.]*?of (\d+)\b", page)
        grown = re.findall(r"Showing (?:the )?2 [^.]*?of (\d+)\b", large[who][1])
        assert shown and len(shown) == len(grown), f"{who}: each list shows two of more"
        assert all(int(big) > int(few) for few, big in zip(shown, grown)), f"{who}: the totals grew ({shown} -> {grown})"
        assert large[who][0] == count, f"{who}: {count} statements for {shown}, {large[who][0]} for {grown}"
