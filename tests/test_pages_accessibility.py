"""Every page each role can reach, in a real browser, checked with axe-core against WCAG 2.2 A and AA.

For each role, a person signs in and follows every link on this site breadth-first from the home
page (GET only; one page of each kind per role, ids ignored). Every page must answer 200, or be the
service's own "not found"/"cannot do this" page, show no server error, raise no script error, and
pass axe. The sign-in page, a form showing its error summary and the not-found pages are checked
on their own.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
import warnings
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from app.core import clock
from tests.browser import (
    SERVER_ERROR, accessibility_violations, check_accessibility, error_summary_items, page_template, preload_axe, same_origin_links, sign_in,
    sign_out,
)
from tests.journey import Journey
from tests.support import PASSWORD, ok

# One person per kind of role (the other partnership's chair sees none of CAMCITY's work).
ROLES = [
    "coordinator", "chair", "panel_chair", "panel_member", "police_author", "police_manager",
    "home_office", "admin", "other_chair",
]
MAX_PAGES_PER_ROLE = 60
# Not pages of this service: the API's own documentation (Swagger UI), static files, and sign-out.
SKIP_PREFIXES = ("/api/", "/static/", "/sign-out")
TODAY = dt.date(2026, 5, 12)


def build_reviews(api, world) -> dict[str, Journey]:
    """Reviews at different stages, so that each role has pages to see, forms to open and IMRs in each state."""
    cleared = Journey(api, world, notified_on=dt.date(2026, 1, 5)).to("cleared")
    submitted = Journey(api, world, notified_on=dt.date(2026, 1, 20)).to("submitted")
    evidence = Journey(api, world, notified_on=dt.date(2026, 4, 10)).to("evidence")
    evidence.commission(agencies=("police", "health", "housing"))
    evidence.imr_event("police_author", "police", "acknowledge", author_name="Ivy Independent", author_role="Review officer", independence_confirmed=True)
    evidence.imr_event("housing_author", "housing", "acknowledge", author_name="Ian Independent", author_role="Lead", independence_confirmed=True)
    notified = Journey(api, world, notified_on=dt.date(2026, 5, 8))
    elsewhere = Journey(api, world, csp="FENLAND", notified_on=dt.date(2026, 4, 20)).to("scoping")
    clock.set_today(TODAY)
    return {"cleared": cleared, "submitted": submitted, "evidence": evidence, "notified": notified, "elsewhere": elsewhere}


@dataclass
class Crawl:
    role: str
    visited: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # URLs checked with axe (or rendered exactly as one that was)
    downloads: list[str] = field(default_factory=list)
    error_pages: list[tuple[str, int, str]] = field(default_factory=list)  # (url, status, found on)
    problems: list[str] = field(default_factory=list)
    violations: list[tuple[str, dict]] = field(default_factory=list)  # (url, axe violation)

    @property
    def templates(self) -> set[str]:
        return {page_template(urlsplit(u).path) for u in self.checked}


def is_error_page(page: Page) -> bool:
    """The service's own error page (error.html): a heading and a way home."""
    return page.locator("h1").count() == 1 and page.get_by_role("link", name="Go to your home page").count() == 1


def fingerprint(page: Page) -> str:
    """The rendered page without its CSRF token: two identical pages need one axe run."""
    html = page.evaluate("document.documentElement.outerHTML")
    return hashlib.sha256(re.sub(r'name="csrf_token" value="[^"]*"', "", html).encode()).hexdigest()


class Crawler:
    """Follows links breadth-first, as one signed-in person after another, on one browser page.

    Each kind of page (its path with ids as {id}) is checked with axe once per role; up to
    INSTANCES of a kind are opened to find their links (a review at each stage offers other forms).
    A page rendered identically for an earlier role reuses that role's axe result.
    """

    INSTANCES = 6

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.axe_results: dict[str, list[dict]] = {}
        self.script_errors: list[str] = []
        page.on("pageerror", lambda exc: self.script_errors.append(f"script error: {exc}"))
        page.on("console", self._console)

    def _console(self, msg) -> None:
        # A failed resource is reported by its status elsewhere; anything else (a CSP refusal above all) is a fault.
        if msg.type == "error" and "Failed to load resource" not in msg.text:
            self.script_errors.append(f"console error: {msg.text}")

    def crawl(self, role: str) -> Crawl:
        result = Crawl(role)
        # New kinds of page first; more of a kind already seen (to find their links) when none is left.
        self.fresh: deque[tuple[str, str]] = deque([(f"{self.base_url}/", "(start)")])
        self.more: deque[tuple[str, str]] = deque()
        self.seen_urls = {f"{self.base_url}/"}
        self.opened = {"/": 1}
        while (self.fresh or self.more) and len(result.visited) < MAX_PAGES_PER_ROLE:
            url, found_on = (self.fresh or self.more).popleft()
            self.visit(result, url, found_on)
        if self.fresh:
            result.problems.append(f"the crawl stopped at {MAX_PAGES_PER_ROLE} pages with {len(self.fresh)} kinds of page unchecked, e.g. {self.fresh[0][0]}")
        return result

    def visit(self, result: Crawl, url: str, found_on: str) -> None:
        page = self.page
        where = f"{url} (linked from {found_on})"
        self.script_errors.clear()
        try:
            response = page.goto(url)
        except PlaywrightError as exc:
            if "Download is starting" in str(exc):
                result.downloads.append(url)
            else:
                result.problems.append(f"{where} could not be opened: {exc}")
            return
        assert response is not None
        result.visited.append(url)
        content_type = response.headers.get("content-type", "")
        if response.ok and not content_type.startswith("text/html"):
            result.downloads.append(url)  # a document, a package, a calendar: not a page
            return
        if urlsplit(page.url).path == "/sign-in":
            result.problems.append(f"{where} sent a signed-in {result.role} back to the sign-in page")
            return
        if response.status != 200:
            if response.status in (403, 404) and content_type.startswith("text/html") and is_error_page(page):
                result.error_pages.append((url, response.status, found_on))
            else:
                result.problems.append(f"{where} answered {response.status} {content_type or '(no content type)'}, not a page a person can read: {page.inner_text('body')[:300]!r}")
                return
        if match := SERVER_ERROR.search(page.content()):
            result.problems.append(f"{where} shows a server error: {match.group(0)}")
        template = page_template(urlsplit(url).path)
        if template not in result.templates:
            key = fingerprint(page)
            if key not in self.axe_results:
                self.axe_results[key] = accessibility_violations(page)
            result.violations.extend((url, v) for v in self.axe_results[key])
            result.checked.append(url)
        result.problems.extend(f"{where}: {e}" for e in self.script_errors)
        if response.status != 200:
            return  # an error page links only home
        for link in same_origin_links(page, self.base_url):
            parts = urlsplit(link)
            kind = page_template(parts.path)
            # A query string only filters or orders a page already followed; sign-out is not a page.
            if parts.path.startswith(SKIP_PREFIXES) or link in self.seen_urls or (parts.query and kind in self.opened):
                continue
            if self.opened.get(kind, 0) >= self.INSTANCES:
                continue
            (self.more if kind in self.opened else self.fresh).append((link, url))
            self.opened[kind] = self.opened.get(kind, 0) + 1
            self.seen_urls.add(link)


def report(crawls: list[Crawl]) -> str:
    """Problems by role, then each distinct axe violation once, with every page it is on."""
    lines: list[str] = []
    for c in crawls:
        lines.extend(f"[{c.role}] {p}" for p in c.problems)
    grouped: dict[tuple, list[str]] = {}
    for c in crawls:
        for url, v in c.violations:
            for node in v["nodes"]:
                key = (v["id"], v.get("impact"), v["help"], " ".join(map(str, node.get("target", []))), " ".join(node.get("html", "").split())[:300], (node.get("failureSummary") or "").strip().replace("\n", " / "))
                grouped.setdefault(key, []).append(f"{c.role} {urlsplit(url).path}")
    for (rule, impact, help_text, target, html, summary), pages in grouped.items():
        shown = ", ".join(pages[:6]) + (f" and {len(pages) - 6} more" if len(pages) > 6 else "")
        lines.append(f"axe {rule} ({impact}): {help_text}\n    at {target}: {html}\n    {summary}\n    on {len(pages)} page(s): {shown}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "database_url", [pytest.param("sqlite", id="sqlite")], indirect=True,
)  # The crawl is the same on both databases and takes a minute; the journeys run on both.
def test_every_page_each_role_can_reach_is_accessible(database_url, page, live_server, api, world):
    reviews = build_reviews(api, world)
    preload_axe(page.context)
    crawler = Crawler(page, live_server)
    crawls = []
    for role in ROLES:
        page.context.clear_cookies()
        sign_in(page, live_server, world.user(role).email, PASSWORD)
        crawls.append(crawler.crawl(role))
    by_role = {c.role: c for c in crawls}

    # The crawl really went somewhere: each role saw its home page, and those with reviews saw one.
    for c in crawls:
        assert "/" in c.templates, f"{c.role}: the home page was not checked ({c.problems[:3]})"
    for role in ("coordinator", "chair", "panel_chair", "home_office", "police_author"):
        assert "/reviews/{id}" in by_role[role].templates, f"{role} reached no review page: {sorted(by_role[role].templates)}"
    assert any(t.startswith("/reviews/{id}/events/") for t in by_role["chair"].templates), "the chair reached no event form"
    camcity = [j.id for key, j in reviews.items() if key != "elsewhere"]
    leaked = [u for u in by_role["other_chair"].checked if any(i in u for i in camcity)]
    assert not leaked, f"the other partnership's chair reached CAMCITY's reviews: {leaked}"

    error_links = [f"[{c.role}] {url} answered {status} (linked from {found_on})" for c in crawls for url, status, found_on in c.error_pages]
    if error_links:
        warnings.warn("links that lead to an error page:\n" + "\n".join(error_links), stacklevel=1)
    assert not any(c.problems or c.violations for c in crawls), report(crawls)


def test_sign_in_page_is_accessible_also_when_it_shows_an_error(page, live_server):
    response = page.goto("/sign-in")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check_accessibility(page)

    page.get_by_role("button", name="Sign in", exact=True).click()
    assert error_summary_items(page) == ["Enter your email address and password"]
    expect(page).to_have_title("Error: Sign in - Domestic Homicide Reviews")
    check_accessibility(page)


def test_a_form_showing_its_error_summary_is_accessible(page, live_server, world):
    sign_in(page, live_server, world.user("coordinator").email, PASSWORD)
    page.get_by_role("link", name="Record a notification of a death").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a notification of a death")
    check_accessibility(page)

    page.get_by_role("button", name="Record the notification").click()
    items = error_summary_items(page)
    assert "Enter date the CSP was notified" in items, items
    # Each message in the summary is also shown at its field, and the summary's links go to the fields.
    expect(page.locator(".govuk-error-message").first).to_be_visible()
    for link in page.locator(".govuk-error-summary__list a").all():
        target = link.get_attribute("href")
        assert target and target.startswith("#") and page.locator(target).count() == 1, f"error summary link {target} goes to no field"
    check_accessibility(page)


def test_page_not_found_is_a_readable_accessible_page(page, live_server, world, api):
    sign_in(page, live_server, world.user("coordinator").email, PASSWORD)
    for path in (f"/reviews/{uuid.uuid4().hex}", "/no-such-page"):
        response = page.goto(path)
        assert response.status == 404, f"{path}: {response.status}"
        assert response.headers.get("content-type", "").startswith("text/html"), f"{path} answered {response.headers.get('content-type')}: {page.inner_text('body')[:300]}"
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
        expect(page.get_by_role("link", name="Go to your home page")).to_be_visible()
        check_accessibility(page)


def test_a_review_of_another_partnership_is_not_found_and_sign_out_works(page, live_server, world, api):
    elsewhere = Journey(api, world, csp="FENLAND")
    sign_in(page, live_server, world.user("coordinator").email, PASSWORD)
    response = page.goto(f"/reviews/{elsewhere.id}")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator("body")).not_to_contain_text(elsewhere.review["reference"])
    check_accessibility(page)
    sign_out(page)
    page.goto(f"/reviews/{elsewhere.id}")
    expect(page).to_have_url(f"{live_server}/sign-in?next=/reviews/{elsewhere.id}")
    ok(api.as_("other_coordinator").get(f"/reviews/{elsewhere.id}"))
