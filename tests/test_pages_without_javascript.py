"""The pages work without JavaScript (issue 6, item 4): a real browser with scripting turned off signs
in, is refused with the GOV.UK error summary, commissions an IMR (8.1) and agrees an extension of its
deadline (6.4), and signs out."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.browser import fill_date, sign_in, success_banner
from tests.journey import Journey
from tests.support import PASSWORD, ok


@pytest.fixture
def no_js_page(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False, locale="en-GB")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_commissioning_and_an_extension_with_scripting_turned_off(no_js_page, live_server, world, api):
    page = no_js_page
    j = Journey(api, world).to("evidence")
    sign_in(page, live_server, world.users["panel_chair"].email, PASSWORD)
    # GOV.UK Frontend's inline script never ran: the body has no js-enabled class.
    assert "js-enabled" not in (page.locator("body").get_attribute("class") or "")

    page.goto(f"/reviews/{j.id}/imrs")
    page.get_by_role("button", name="Commission an IMR").click()
    page.get_by_role("button", name="Commission the IMR").click()  # no agency chosen: refused
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose agency")
    page.get_by_label("Agency").select_option(world.agencies["housing"])
    fill_date(page, "due_on", j.day + dt.timedelta(days=56))
    page.get_by_role("button", name="Commission the IMR").click()
    expect(success_banner(page)).to_contain_text("The IMR is commissioned")
    imr = next(i for i in ok(api.as_("panel_chair").get(f"/reviews/{j.id}/imrs"))["items"] if i["agency_id"] == world.agencies["housing"])
    due = dt.date.fromisoformat(imr["due_on"])
    assert due == j.day + dt.timedelta(days=56)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    sign_in(page, live_server, world.users["chair"].email, PASSWORD)
    page.goto(f"/reviews/{j.id}")
    page.get_by_role("button", name="Agree extension").click()
    page.get_by_role("group", name="Which deadline").get_by_label("Imr").check()
    page.get_by_label("Which IMR or action").select_option(imr["id"])
    new_due = due + dt.timedelta(days=28)
    fill_date(page, "new_due_on", new_due)
    page.get_by_label("Why the CSP agrees the extension").fill("The agency's records are held off site.")
    page.get_by_role("button", name="Agree extension").click()
    expect(success_banner(page)).to_contain_text("Agree extension: done.")
    expect(page.locator(".app-timeline")).to_contain_text(
        f"Due {new_due.day} {new_due:%B %Y} (extended from {due.day} {due:%B %Y})")
    deadline = next(d for d in ok(api.as_("chair").get(f"/reviews/{j.id}"))["deadlines"] if d["subject_id"] == imr["id"])
    assert (deadline["due_on"], deadline["original_due_on"]) == (new_due.isoformat(), due.isoformat())
