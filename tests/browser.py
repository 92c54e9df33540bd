"""Real-browser helpers: the app served by uvicorn, Chromium driven by Playwright, axe-core checks.

The fixtures that use these are in tests/conftest.py (`live_server`, `browser`, `page`). Helpers
act as a person would: they find fields by their visible labels and buttons by their text.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from axe_playwright_python.base import AXE_FILE_PATH as AXE_SCRIPT_PATH
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

CHROMIUM = Path("/usr/bin/chromium")
# We run as root on a machine without network: no sandbox, and no background calls home.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
MISSING_CHROMIUM = f"Chromium is not installed at {CHROMIUM}: the browser tests need it (.ci/run installs chromium: apt-get install chromium)"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SERVER_ERROR = re.compile(r"Traceback \(most recent call last\)|Internal Server Error", re.I)
SUCCESS_BANNER = ".govuk-notification-banner--success"
ERROR_SUMMARY = ".govuk-error-summary"


def require_chromium() -> None:
    """Skip locally, fail in CI, when the browser is missing."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(MISSING_CHROMIUM)
    pytest.skip(MISSING_CHROMIUM)


# -- the app, served for real --------------------------------------------------------------------
class LiveServer:
    """The app under uvicorn in a background thread, on a free port on 127.0.0.1."""

    def __init__(self, app) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, name="live-server", daemon=True)

    def start(self, timeout: float = 15.0) -> str:
        self.thread.start()
        deadline = time.monotonic() + timeout
        # Waiting for start-up (not for the app under test): uvicorn says when it is listening.
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the live server stopped while starting: see the log above")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the live server did not start within {timeout} seconds")
            time.sleep(0.01)
        return self.url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        if self.thread.is_alive():  # a request is stuck: stop without waiting for it
            self.server.force_exit = True
            self.thread.join(timeout=10)
        self.socket.close()
        assert not self.thread.is_alive(), "the live server did not stop within 20 seconds (a request never finished)"


# -- acting as a person ----------------------------------------------------------------------------
def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    """Sign in through the form, as a person would, and land on the home page (or the `next` page)."""
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(SUCCESS_BANNER)).to_contain_text("You have signed out.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def fill_date(page: Page | Locator, name: str, date: dt.date) -> None:
    """The GOV.UK date input: three boxes named <name>-day, <name>-month and <name>-year."""
    page.locator(f'input[name="{name}-day"]').fill(str(date.day))
    page.locator(f'input[name="{name}-month"]').fill(str(date.month))
    page.locator(f'input[name="{name}-year"]').fill(str(date.year))


def success_banner(page: Page) -> Locator:
    return page.locator(SUCCESS_BANNER)


def error_summary(page: Page) -> Locator:
    return page.locator(ERROR_SUMMARY)


def error_summary_items(page: Page) -> list[str]:
    expect(error_summary(page)).to_be_visible()
    return [t.strip() for t in error_summary(page).locator(".govuk-error-summary__list li").all_inner_texts()]


def current_stage(page: Page) -> Locator:
    """The review page's stage list item marked as the current step."""
    return page.locator('ol.app-stages li[aria-current="step"]')


def table_row(page: Page, *cells: str) -> Locator:
    """The table rows containing every one of these texts."""
    rows = page.locator("tr.govuk-table__row")
    for text in cells:
        rows = rows.filter(has_text=text)
    return rows


# -- accessibility -----------------------------------------------------------------------------------
_axe = Axe()
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}


def accessibility_violations(page: Page) -> list[dict]:
    """axe-core's violations on the page as it is now (axe is injected unless an init script already did)."""
    if page.evaluate("typeof window.axe === 'undefined'"):
        page.evaluate(_axe.axe_script)
    return page.evaluate("options => axe.run(options)", AXE_OPTIONS)["violations"]


def preload_axe(context) -> None:
    """Have axe-core in every page of this context from the start (faster when checking many pages)."""
    context.add_init_script(path=str(AXE_SCRIPT_PATH))


def describe_violations(url: str, violations: list[dict], snippet: int = 300) -> str:
    lines = [f"{len(violations)} accessibility violation(s) (axe-core, WCAG 2.2 A/AA) on {url}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact') or 'no impact given'}): {v['help']} [{v.get('helpUrl', '')}]")
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node.get("target", []))
            html = re.sub(r"\s+", " ", node.get("html", ""))
            if len(html) > snippet:
                html = html[:snippet] + "..."
            lines.append(f"    at {target}: {html}")
            summary = node.get("failureSummary")
            if summary:
                lines.append("      " + re.sub(r"\s*\n\s*", " / ", summary.strip()))
    return "\n".join(lines)


def check_accessibility(page: Page) -> None:
    """axe-core on the page as it is now: no WCAG 2.0-2.2 A or AA violation."""
    violations = accessibility_violations(page)
    assert not violations, describe_violations(page.url, violations)


# -- crawling ----------------------------------------------------------------------------------------
_ID = re.compile(r"^(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+)$", re.I)


def page_template(path: str) -> str:
    """The kind of page a path is: ids become {id}, and a named item between two fixed words becomes {name}.

    /reviews/0f3c.../events/publish -> /reviews/{id}/events/publish (each event has its own form);
    /csps/0f3c.../templates/imr/replace -> /csps/{id}/templates/{name}/replace (one form for every template).
    """
    parts = ["{id}" if _ID.match(part) else part for part in path.split("/")]
    for i in range(3, len(parts) - 1):
        if parts[i - 2] == "{id}" and parts[i - 1] != "{id}" and parts[i] != "{id}" and parts[i + 1]:
            parts[i] = "{name}"
    return "/".join(parts)


def same_origin(hrefs: list[str], base_url: str) -> list[str]:
    """The links (a[href] values, absolute) that stay on this site, without their fragments."""
    origin = urlsplit(base_url)
    links = []
    for href in hrefs:
        parts = urlsplit(href)
        if (parts.scheme, parts.netloc) == (origin.scheme, origin.netloc):
            links.append(parts._replace(fragment="").geturl())
    return links
