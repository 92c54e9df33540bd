"""The main journeys in a real browser, each step done in the pages by the person whose job it is.

Where a journey needs a review already some way along, the JSON API Journey takes it there; every
step under test is then done by signing in and using the pages: links, buttons and labelled fields.
The assertions are what the person would see: banners, the stage, table rows, error summaries.
"""
from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page, expect

from app.core import clock
from tests.browser import (
    check_accessibility, current_stage, error_summary_items, fill_date, sign_in, sign_out, success_banner, table_row,
)
from tests.journey import Journey
from tests.support import PASSWORD, ok

INJECTED = '<script>alert("xss")</script><b id="injected">bold</b>'


def as_person(page: Page, base_url: str, world, key: str) -> None:
    """Sign out whoever is signed in, then sign in as this person (landing on their home page)."""
    if page.get_by_role("button", name="Sign out").count():
        sign_out(page)
    sign_in(page, base_url, world.user(key).email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your work")


def summary_value(page: Page, key: str):
    """The value beside a key in a GOV.UK summary list."""
    key_cell = page.locator(".govuk-summary-list__key").get_by_text(key, exact=True)
    return page.locator(".govuk-summary-list__row").filter(has=key_cell).locator(".govuk-summary-list__value")


def click_event(page: Page, name: str) -> None:
    """Open an event's form from the record's page: its button under 'What you can do now'."""
    page.get_by_role("button", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


# -- a. notification, decision ------------------------------------------------------------------
def test_coordinator_records_a_notification_and_the_chair_decides_to_review(page, live_server, world, api):
    clock.set_today(dt.date(2026, 3, 2))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    as_person(page, live_server, world, "coordinator")
    page.get_by_role("button", name="Record a notification of a death").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a notification of a death")
    # The coordinator has one partnership: it is chosen already.
    expect(page.get_by_label("Cambridge City CSP (CAMCITY)")).to_be_checked()
    fill_date(page, "notified_on", dt.date(2026, 3, 2))
    page.get_by_label("Who notified the CSP").fill("Exampleshire Constabulary")
    fill_date(page, "date_of_death", dt.date(2026, 2, 27))
    page.get_by_role("group", name="Death type").get_by_label("Homicide").check()
    page.get_by_role("group", name="Relationship").get_by_label("Intimate partner").check()
    page.get_by_label("Age of the person who died").fill("41")
    page.get_by_label("What happened").fill(f"Adult C was found at home. {INJECTED}")
    page.get_by_role("button", name="Record the notification").click()

    expect(success_banner(page)).to_contain_text("Notification recorded as DHR-2026-CAMCITY-")
    expect(success_banner(page)).to_contain_text("The decision is due within a month.")
    reference = page.get_by_role("heading", level=1).inner_text()
    assert reference.startswith("DHR-2026-CAMCITY-"), reference
    expect(current_stage(page)).to_contain_text("Notified")
    # Typed HTML is shown as typed, never run or added to the page.
    expect(summary_value(page, "What happened")).to_have_text(f"Adult C was found at home. {INJECTED}")
    expect(page.locator("#injected")).to_have_count(0)
    review_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    decision = next(d for d in ok(api.as_("coordinator").get(f"/reviews/{review_id}"))["deadlines"] if d["kind"] == "decision")

    as_person(page, live_server, world, "chair")
    awaiting = page.locator("h2:text-is('Notifications awaiting your decision') + table")
    expect(awaiting.locator("th")).to_have_text(["Reference", "Notified", "Decision due", "Days left"])
    row = awaiting.locator("tbody tr").filter(has_text=reference)
    expect(row).to_have_count(1)
    due = dt.date.fromisoformat(decision["due_on"])
    expect(row).to_contain_text(f"{due.day} {due:%B %Y}")
    expect(row).to_contain_text(f"Due in {(due - dt.date(2026, 3, 2)).days} days")

    row.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(reference)
    click_event(page, "Decide to review")
    page.get_by_label("Reasons for the decision").fill(f"Meets the definition in guidance 3.8. {INJECTED}")
    page.get_by_role("button", name="Decide to review", exact=True).click()

    expect(success_banner(page)).to_contain_text("Decide to review: done.")
    expect(page.get_by_role("heading", level=1)).to_have_text(reference)
    expect(current_stage(page)).to_have_count(1)
    expect(current_stage(page)).to_contain_text("Scoping")
    expect(current_stage(page)).to_contain_text("Current stage")
    expect(summary_value(page, "Stage")).to_contain_text("Scoping")
    expect(summary_value(page, "Reasons for the decision")).to_have_text(f"Meets the definition in guidance 3.8. {INJECTED}")
    expect(page.locator("#injected")).to_have_count(0)
    expect(table_row(page, "Decide to review: now scoping", "Chris Cspchair")).to_have_count(1)

    # Decided: it has left the chair's list of notifications awaiting a decision.
    page.get_by_role("link", name="Home", exact=True).click()
    expect(table_row(page, reference)).to_have_count(0)
    assert dialogs == [], f"a script typed into a form ran: {dialogs}"


# -- b. a refused event ------------------------------------------------------------------------------
def test_an_event_whose_guards_fail_is_refused_with_each_reason(page, live_server, world, api):
    j = Journey(api, world).to("scoping")
    # The panel chair is appointed, but no terms of reference are written yet.
    ok(api.as_("coordinator").post(f"/reviews/{j.id}/panel", json={
        "user_id": world.user("panel_chair").id, "role": "chair", "independence_statement": "I have no connection with any agency involved."}), 201)

    as_person(page, live_server, world, "panel_chair")
    table_row(page, j.review["reference"]).first.get_by_role("link", name=j.review["reference"]).click()
    # The review page says why it cannot be done yet, and its form can still be opened.
    expect(page.get_by_role("heading", name="Not possible yet")).to_be_visible()
    page.get_by_role("link", name="Agree terms of reference").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agree terms of reference")
    expect(page.locator(".govuk-warning-text")).to_contain_text("This cannot be done yet: There are no terms of reference")
    page.get_by_role("button", name="Agree terms of reference", exact=True).click()

    items = error_summary_items(page)
    assert items[0] == "Agree terms of reference cannot be done now. These must be put right first:", items
    assert any(i.startswith("There are no terms of reference") for i in items[1:]), items
    assert not any("panel chair" in i for i in items), f"a guard that passes is listed: {items}"
    expect(page).to_have_title("Error: Agree terms of reference - Domestic Homicide Reviews")
    check_accessibility(page)

    page.get_by_role("link", name="Back", exact=True).click()
    expect(current_stage(page)).to_contain_text("Scoping")
    assert ok(api.as_("coordinator").get(f"/reviews/{j.id}"))["state"] == "scoping"


# -- c. IMRs: commission, write, quality-assure, accept -------------------------------------------
def test_an_imr_is_commissioned_written_quality_assured_and_accepted_in_the_pages(page, live_server, world, api):
    j = Journey(api, world).to("evidence")
    reference = j.review["reference"]
    due = j.day + dt.timedelta(days=56)

    as_person(page, live_server, world, "panel_chair")
    page.goto(f"/reviews/{j.id}")
    page.get_by_role("link", name="Individual Management Reviews").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Individual Management Reviews")
    page.get_by_role("button", name="Commission an IMR").click()
    expect(page).to_have_url(f"{live_server}/reviews/{j.id}/imrs/new")
    page.get_by_label("Agency").select_option(label="Exampleshire Constabulary")
    fill_date(page, "due_on", due)
    page.get_by_role("button", name="Commission the IMR").click()
    expect(success_banner(page)).to_contain_text("The IMR is commissioned")
    row = table_row(page, "Exampleshire Constabulary")
    expect(row).to_contain_text("Commissioned")
    expect(row).to_contain_text(f"{due.day} {due:%B %Y}")

    # The police IMR author finds it on their home page and acknowledges it.
    as_person(page, live_server, world, "police_author")
    expect(page.get_by_role("heading", name="Your agency's IMRs")).to_be_visible()
    page.get_by_role("link", name=f"{reference}, Exampleshire Constabulary").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("IMR: Exampleshire Constabulary")
    click_event(page, "Acknowledge")
    page.get_by_label("The IMR author's name").fill("Ivy Independent")
    page.get_by_label("The author's role in the agency").fill("Review officer")
    page.get_by_role("group", name="The author had no involvement in the case").get_by_label("Yes").check()
    page.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(success_banner(page)).to_contain_text("Acknowledge: done.")
    expect(summary_value(page, "State")).to_have_text("In progress")
    expect(summary_value(page, "Author")).to_have_text("Ivy Independent, Review officer")

    # Not written yet: sending it is listed as not possible, and trying is refused with the reason.
    page.get_by_role("link", name="Send for agency review", exact=True).click()
    page.get_by_role("button", name="Send for agency review", exact=True).click()
    assert any("The IMR has empty sections" in i for i in error_summary_items(page))
    page.get_by_role("link", name="Back", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("IMR: Exampleshire Constabulary")

    imr_url = page.url
    page.get_by_role("button", name="Edit the IMR").click()
    expect(page).to_have_url(f"{imr_url}/edit")
    page.get_by_label("Methodology").fill("Records reviewed; staff interviewed.")
    page.get_by_label("Analysis").fill("Contact was appropriate but risk was not assessed.")
    page.get_by_label("Lessons").fill("Ask about coercive control.")
    page.get_by_role("button", name="Save the IMR").click()
    expect(success_banner(page)).to_contain_text("The IMR is saved.")
    expect(page.locator("#analysis + p")).to_have_text("Contact was appropriate but risk was not assessed.")

    page.get_by_role("button", name="Add a chronology entry").click()
    expect(page).to_have_url(f"{imr_url}/chronology/new")
    fill_date(page, "occurred_on", dt.date(2025, 6, 1))
    page.get_by_label("What happened").fill("Adult A attended an appointment.")
    page.get_by_label("Who was seen").fill("Adult A")
    page.get_by_label("Staff involved").fill("Practitioner 1")
    page.get_by_role("group", name="Those staff were interviewed for this IMR").get_by_label("Yes").check()
    page.get_by_role("button", name="Add the entry").click()
    expect(success_banner(page)).to_contain_text("The chronology entry is added.")
    entry = table_row(page, "1 June 2025", "Adult A attended an appointment.")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Practitioner 1")

    click_event(page, "Send for agency review")
    page.get_by_role("button", name="Send for agency review", exact=True).click()
    expect(success_banner(page)).to_contain_text("Send for agency review: done.")
    expect(summary_value(page, "State")).to_have_text("Agency review")
    # Sent: the author can no longer change it.
    expect(page.get_by_role("button", name="Edit the IMR")).to_have_count(0)

    # The police agency's manager quality-assures it.
    as_person(page, live_server, world, "police_manager")
    page.get_by_role("link", name=f"{reference}, Exampleshire Constabulary").click()
    click_event(page, "Quality assure")
    page.get_by_role("button", name="Quality assure", exact=True).click()
    expect(success_banner(page)).to_contain_text("Quality assure: done.")
    expect(summary_value(page, "State")).to_have_text("Submitted")

    # The panel chair accepts it, from the IMR tracker on their home page.
    as_person(page, live_server, world, "panel_chair")
    expect(page.get_by_role("heading", name="IMR tracker")).to_be_visible()
    page.get_by_role("link", name=f"{reference}, Exampleshire Constabulary").click()
    click_event(page, "Accept")
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(success_banner(page)).to_contain_text("Accept: done.")
    expect(summary_value(page, "State")).to_have_text("Accepted")

    page.goto(f"/reviews/{j.id}/imrs")
    expect(table_row(page, "Exampleshire Constabulary")).to_contain_text("Accepted")
    imrs = ok(api.as_("panel_chair").get(f"/reviews/{j.id}/imrs"))["items"]
    assert [(i["state"], i["author_name"]) for i in imrs] == [("accepted", "Ivy Independent")]


# -- d. publication ----------------------------------------------------------------------------------
def test_the_csp_chair_publishes_a_cleared_review(page, live_server, world, api):
    j = Journey(api, world).to("cleared")
    published_on = j.advance(14)
    reference = j.review["reference"]

    as_person(page, live_server, world, "chair")
    page.get_by_role("link", name="Reviews", exact=True).click()
    page.get_by_role("link", name=reference).click()
    expect(current_stage(page)).to_contain_text("Cleared for publication")
    click_event(page, "Publish")
    page.get_by_label("Address of the published report on the CSP's web page").fill("https://csp.example/dhr/adult-a")
    page.get_by_label("Note for the history").fill("Published after the board meeting.")
    page.get_by_role("button", name="Publish", exact=True).click()

    expect(success_banner(page)).to_contain_text("Publish: done.")
    expect(current_stage(page)).to_have_count(1)
    expect(current_stage(page)).to_contain_text("Published")
    expect(summary_value(page, "Published at")).to_have_text("https://csp.example/dhr/adult-a")
    row = table_row(page, "Publish: now published")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"{published_on.day} {published_on:%B %Y}")
    expect(row).to_contain_text("Chris Cspchair")
    expect(row).to_contain_text("Published after the board meeting.")
    # Published: it cannot be published again.
    expect(page.get_by_role("button", name="Publish", exact=True)).to_have_count(0)
