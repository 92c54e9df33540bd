"""Every page each role can reach, in a real browser, checked with axe-core against WCAG 2.2 A and AA.

For each role, a person signs in and follows every link on this site breadth-first from the home
page: GET only (buttons that post are actions, not pages; a button that opens a form is a link),
one page of each kind per role (ids ignored), downloads skipped. Every page must answer 200, or be
the service's own "not found"/"cannot do this" page; show no server error; load all its styles,
scripts and fonts; raise no script error (a Content-Security-Policy refusal included); and pass
axe. The sign-in page, a form showing its error summary and the not-found pages are checked on
their own.
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

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from app.core import clock
from tests.browser import (
    SERVER_ERROR, accessibility_violations, check_accessibility, error_summary_items, page_template, preload_axe, same_origin, sign_in,
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
    checked: list[str] = field(default_factory=list)  # the first page of each kind: axe ran on it (or on one drawn identically)
    downloads: list[str] = field(default_factory=list)
    error_pages: list[tuple[str, int, str]] = field(default_factory=list)  # (url, status, found on)
    problems: list[str] = field(default_factory=list)
    broken_resources: dict[str, list[str]] = field(default_factory=dict)  # what failed -> pages it failed on
    violations: list[tuple[str, dict]] = field(default_factory=list)  # (url, axe violation)

    @property
    def templates(self) -> set[str]:
        return {page_template(urlsplit(u).path) for u in self.checked}


# One look at the page as drawn: its HTML (for a server error and a fingerprint), its links, and
# whether it is the service's own error page (error.html: one heading and a way home).
SNAPSHOT = """() => ({
  html: document.documentElement.outerHTML,
  links: Array.from(document.querySelectorAll('a[href]'), a => a.href),
  errorPage: document.querySelectorAll('h1').length === 1
    && Array.from(document.querySelectorAll('a')).some(a => a.textContent.trim() === 'Go to your home page'),
})"""


def fingerprint(html: str) -> str:
    """The rendered page without its CSRF token: two identical pages need one axe run."""
    return hashlib.sha256(re.sub(r'name="csrf_token" value="[^"]*"', "", html).encode()).hexdigest()


class Crawler:
    """Follows links breadth-first, as one signed-in person after another, on one browser page.

    Each kind of page (its path with ids as {id}) is checked with axe once per role. A record's own
    page (/reviews/{id}, /imrs/{id}...) offers other forms at each stage, so up to INSTANCES of
    those are opened to find their links. A page rendered identically for an earlier role reuses
    that role's axe result.
    """

    INSTANCES = 6
    RECORD_PAGE = re.compile(r"^/[a-z-]+/\{id\}$")

    def __init__(self, page: Page, base_url: str, *, axe: bool = True) -> None:
        self.page = page
        self.base_url = base_url
        self.axe = axe
        self.axe_results: dict[str, list[dict]] = {}
        self.script_errors: list[str] = []
        self.broken: list[str] = []  # this page's styles, scripts, fonts or images that did not load
        self.timeouts = 0
        page.on("pageerror", lambda exc: self.script_errors.append(f"script error: {exc}"))
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("requestfailed", self._request_failed)

    def _console(self, msg) -> None:
        # A failed resource is reported by its status (below); anything else (a CSP refusal above all) is a fault.
        if msg.type == "error" and "Failed to load resource" not in msg.text:
            self.script_errors.append(f"console error: {msg.text}")

    def _response(self, response) -> None:
        # The page's own status is judged in visit(); its styles, scripts, fonts and images must all load.
        if response.status >= 400 and response.request.resource_type != "document":
            self.broken.append(f"{response.request.resource_type} {urlsplit(response.url).path} answered {response.status}")

    def _request_failed(self, request) -> None:
        # ERR_ABORTED: the browser gave up on it (a failed status above, or the next navigation began).
        if request.resource_type != "document" and "ERR_ABORTED" not in (request.failure or ""):
            self.broken.append(f"{request.resource_type} {urlsplit(request.url).path} failed: {request.failure}")

    def crawl(self, role: str) -> Crawl:
        result = Crawl(role)
        # New kinds of page first; more of a kind already seen (to find their links) when none is left.
        self.fresh: deque[tuple[str, str]] = deque([(f"{self.base_url}/", "(start)")])
        self.more: deque[tuple[str, str]] = deque()
        self.seen_urls = {f"{self.base_url}/"}
        self.opened = {"/": 1}
        while (self.fresh or self.more) and len(result.visited) < MAX_PAGES_PER_ROLE:
            if self.timeouts >= 2:
                result.problems.append("the crawl stopped: the server stopped answering (two pages timed out)")
                break
            url, found_on = (self.fresh or self.more).popleft()
            self.visit(result, url, found_on)
        if self.fresh:
            result.problems.append(f"the crawl stopped at {MAX_PAGES_PER_ROLE} pages with {len(self.fresh)} kinds of page unchecked, e.g. {self.fresh[0][0]}")
        return result

    def visit(self, result: Crawl, url: str, found_on: str) -> None:
        page = self.page
        where = f"{url} (linked from {found_on})"
        self.script_errors.clear()
        self.broken.clear()
        try:
            response = page.goto(url)
        except PlaywrightError as exc:
            if "Download is starting" in str(exc):
                result.downloads.append(url)
            else:
                self.timeouts += "Timeout" in str(exc)
                result.problems.append(f"{where} could not be opened: {str(exc).splitlines()[0]}")
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
        snapshot = page.evaluate(SNAPSHOT)
        if response.status != 200:
            if response.status in (403, 404) and content_type.startswith("text/html") and snapshot["errorPage"]:
                result.error_pages.append((url, response.status, found_on))
            else:
                result.problems.append(f"{where} answered {response.status} {content_type or '(no content type)'}, not a page a person can read: {page.inner_text('body')[:300]!r}")
                return
        if match := SERVER_ERROR.search(snapshot["html"]):
            result.problems.append(f"{where} shows a server error: {match.group(0)}")
        template = page_template(urlsplit(url).path)
        if template not in result.templates:
            key = fingerprint(snapshot["html"])
            if key not in self.axe_results:
                self.axe_results[key] = accessibility_violations(page) if self.axe else []
            result.violations.extend((url, v) for v in self.axe_results[key])
            result.checked.append(url)
        result.problems.extend(f"{where}: {e}" for e in self.script_errors)
        for resource in dict.fromkeys(self.broken):
            result.broken_resources.setdefault(resource, []).append(url)
        if response.status != 200:
            return  # an error page links only home
        for link in same_origin(snapshot["links"], self.base_url):
            parts = urlsplit(link)
            kind = page_template(parts.path)
            # A query string only filters or orders a page already followed; sign-out is not a page.
            if parts.path.startswith(SKIP_PREFIXES) or link in self.seen_urls or (parts.query and kind in self.opened):
                continue
            if self.opened.get(kind, 0) >= (self.INSTANCES if self.RECORD_PAGE.match(kind) else 1):
                continue
            (self.more if kind in self.opened else self.fresh).append((link, url))
            self.opened[kind] = self.opened.get(kind, 0) + 1
            self.seen_urls.add(link)


def report(crawls: list[Crawl]) -> str:
    """Problems by role, then each distinct axe violation once, with every page it is on."""
    lines: list[str] = []
    for c in crawls:
        lines.extend(f"[{c.role}] {p}" for p in c.problems)
    resources: dict[str, list[str]] = {}
    for c in crawls:
        for resource, pages in c.broken_resources.items():
            resources.setdefault(resource, []).extend(f"{c.role} {urlsplit(u).path}" for u in pages)
    for resource, pages in resources.items():
        lines.append(f"{resource}, on {len(pages)} page(s), e.g. {', '.join(pages[:3])}")
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


def test_every_page_each_role_can_reach_works_and_is_accessible(database_url, page, live_server, api, world):
    # axe judges the HTML, which is the same on both databases: it runs on SQLite. On PostgreSQL the
    # crawl still opens every page (a query only PostgreSQL refuses shows there), in half the time.
    with_axe = database_url.startswith("sqlite")
    reviews = build_reviews(api, world)
    if with_axe:
        preload_axe(page.context)
    crawler = Crawler(page, live_server, axe=with_axe)
    crawls = []
    for role in ROLES:
        page.context.clear_cookies()
        sign_in(page, live_server, world.user(role).email, PASSWORD)
        crawls.append(crawler.crawl(role))
        if crawler.timeouts >= 2:
            break
    assert crawler.timeouts < 2, report(crawls)
    by_role = {c.role: c for c in crawls}
    for c in crawls:  # shown when the test fails
        print(f"{c.role}: {len(c.visited)} pages opened, {len(c.checked)} kinds checked, {len(c.downloads)} downloads: {sorted(c.templates)}")

    # The crawl really went somewhere: each role saw its home page, and those with reviews saw one.
    for c in crawls:
        assert "/" in c.templates, f"{c.role}: the home page was not checked ({c.problems[:3]})"
    for role in ("coordinator", "chair", "panel_chair", "home_office", "police_author"):
        assert "/reviews/{id}" in by_role[role].templates, f"{role} reached no review page: {sorted(by_role[role].templates)}"
    assert any(t.startswith("/reviews/{id}/events/") for t in by_role["chair"].templates), "the chair reached no event form"
    camcity = [j.id for key, j in reviews.items() if key != "elsewhere"]
    leaked = [u for u in by_role["other_chair"].visited if any(i in u for i in camcity)]
    assert not leaked, f"the other partnership's chair reached CAMCITY's reviews: {leaked}"

    error_links = [f"[{c.role}] {url} answered {status} (linked from {found_on})" for c in crawls for url, status, found_on in c.error_pages]
    if error_links:
        warnings.warn("links that lead to an error page:\n" + "\n".join(error_links), stacklevel=1)
    assert not any(c.problems or c.violations or c.broken_resources for c in crawls), report(crawls)


def test_the_pages_styles_scripts_and_fonts_all_load(page, live_server):
    """GOV.UK Frontend's CSS asks for its fonts at /assets/fonts/...: they must be served there."""
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.request.resource_type} {urlsplit(r.url).path} answered {r.status}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failed.append(f"{r.resource_type} {urlsplit(r.url).path} failed: {r.failure}") if "ERR_ABORTED" not in (r.failure or "") else None)
    page.goto("/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.evaluate("document.fonts.ready.then(() => true)")
    fonts = page.evaluate("Array.from(document.fonts, f => `${f.family} ${f.weight} ${f.status}`)")
    assert not failed, "\n".join(failed)
    assert any("GDS Transport" in f and f.endswith("loaded") for f in fonts), f"the GDS Transport font did not load: {fonts}"
    assert "/static/govuk-frontend/govuk-frontend.min.css" in page.evaluate("Array.from(document.styleSheets, s => new URL(s.href).pathname)")


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
    page.get_by_role("button", name="Record a notification of a death").click()
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
