"""Issue 6: every event and edit of API.md can be done from the pages by the role that may do it, and by no other.

The API's access policy is the tables of tests/test_authorization.py (one row per operation, one
column per person). Here each write operation (and each download) is done again through its web
form, as each person, in a browser of their own (a TestClient with its own cookies, signed in through
/sign-in), and the page must agree with the API:

    API 2         the form page shows (200); posting it answers 303 and the change shows through the API
    API w         the form page shows; posting answers 303 (change visible) or the form again with a
                  GOV.UK error summary (409/412/422: the data or the moment is wrong), never 403/404
    API 403/404   the form page is 404 (or 403); posting answers 403 or 404, and nothing changes
    anonymous     every form page and every post is redirected to /sign-in, and nothing changes

Forms are filled as a browser would: the page's own fields as shown (parsed from its HTML, with
their current values, hidden `version` and the CSRF token) with what a person types over them. A
person with no form (the API refuses them) posts what an allowed person's form would send, so the
refusal is the server's, not the missing page's.

Events that change state are first posted with data that passes the form but fails a data guard
(an unconfirmed author independence, a completion date in the future): every allowed role then
reaches the API's own role check and gets 409 without changing anything; after all roles, one
allowed person posts valid data and the change is checked (see Op.probe and _finale).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import time
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi.testclient import TestClient
from starlette.routing import Match

from app.core import clock
from app.documents import templates
from app.documents.service import DOCX
from app.workflow.definition import WorkflowDef
from tests import test_authorization as authz
from tests.journey import Journey
from tests.support import PASSWORD, ok

ROLES = authz.ROLES
SIGNED_IN = [r for r in ROLES if r != "anonymous"]
WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ERROR_SUMMARY = "govuk-error-summary"

# -- which page does each operation of the API ----------------------------------------------------
# API operation (as in tests/test_authorization.py) -> the web route that does it. `{event}` is the
# workflow event; the page's GET shows the form and its POST submits it (see POST_ONLY, DOWNLOADS).
WEB_FORMS: dict[str, str] = {
    # set-up, by the administrator
    "POST /csps": "/admin/csps/new",
    "POST /agencies": "/admin/agencies/new",
    "PATCH /csps/{csp_id}": "/admin/csps/{csp_id}/edit",
    "POST /users": "/admin/users/new",
    "PATCH /users/{user_id}": "/admin/users/{user_id}/edit",
    # signing in and out; the person's own calendar link
    "POST /auth/token": "/sign-in",
    "POST /auth/revoke": "/sign-out",
    "POST /auth/me/calendar/reset": "/account/calendar/reset",
    # reviews and their parts
    "POST /reviews": "/reviews/new",
    "POST /reviews/{review_id}/events": "/reviews/{review_id}/events/{event}",
    "PATCH /reviews/{review_id}": "/reviews/{review_id}/describe",
    "POST /reviews/{review_id}/people": "/reviews/{review_id}/people/new",
    "POST /reviews/{review_id}/panel": "/reviews/{review_id}/panel/new",
    "PUT /reviews/{review_id}/terms-of-reference": "/reviews/{review_id}/terms-of-reference/edit",
    "POST /reviews/{review_id}/imrs": "/reviews/{review_id}/imrs/new",
    "PATCH /imrs/{imr_id}": "/imrs/{imr_id}/edit",
    "POST /imrs/{imr_id}/events": "/imrs/{imr_id}/events/{event}",
    "POST /imrs/{imr_id}/chronology": "/imrs/{imr_id}/chronology/new",
    "POST /imrs/{imr_id}/documents": "/imrs/{imr_id}/upload",
    "PATCH /reviews/{review_id}/overview": "/reviews/{review_id}/overview/edit",
    "POST /reviews/{review_id}/recommendations": "/reviews/{review_id}/recommendations/new",
    "POST /recommendations/{recommendation_id}/actions": "/recommendations/{recommendation_id}/actions/new",
    "PATCH /actions/{action_id}": "/actions/{action_id}/edit",
    "POST /actions/{action_id}/events": "/actions/{action_id}/events/{event}",
    "POST /reviews/{review_id}/documents": "/reviews/{review_id}/documents/new",
    "POST /reviews/{review_id}/proceedings": "/reviews/{review_id}/proceedings/new",
    "PATCH /proceedings/{proceeding_id}": "/proceedings/{proceeding_id}/edit",
    "POST /reviews/{review_id}/legal-holds": "/reviews/{review_id}/legal-holds/new",
    "POST /legal-holds/{hold_id}/lift": "/legal-holds/{hold_id}/lift",
    "PUT /reviews/{review_id}/submissions/{number}/letter": "/reviews/{review_id}/submissions/{number}/letter/new",
    "POST /qa-changes/{change_id}/events": "/qa-changes/{change_id}/{event}",  # event: made or reopen
    "POST /outbox/{message_id}/retry": "/mail/{message_id}/retry",
    # a partnership's own Word templates (its CSP officers)
    "PUT /csps/{csp_id}/templates/{kind}": "/csps/{csp_id}/templates/{kind}/replace",
    "DELETE /csps/{csp_id}/templates/{kind}": "/csps/{csp_id}/templates/{kind}/reset",
    # downloads
    "GET /documents/{document_id}/content": "/documents/{document_id}/content",
    "GET /reviews/{review_id}/home-office-package": "/reviews/{review_id}/home-office-package",
    "GET /reviews/{review_id}/submissions/{number}/letter": "/reviews/{review_id}/submissions/{number}/letter",
    "GET /csps/{csp_id}/quarterly-report": "/quarterly-report/download?csp_id={csp_id}&quarter={quarter}",
    "GET /csps/{csp_id}/templates/{kind}/content": "/csps/{csp_id}/templates/{kind}/content",
}
DOWNLOADS = {op for op in WEB_FORMS if op.startswith("GET ")}
# A button on another page (the page named here), not a form page of its own: POST only.
POST_ONLY = {
    "POST /auth/revoke": "/account",  # the "Sign out" button is in every page's header
    "POST /auth/me/calendar/reset": "/account",
    "POST /outbox/{message_id}/retry": "/mail",  # shown for failing or failed messages only
}
# Changes of the API that no page offers, each with the reason ("operation": "why"). None now: the
# partnership templates (PUT/DELETE /csps/{csp_id}/templates/{kind}) got their pages in 613ef5a.
EXCLUDED: dict[str, str] = {}
# Roles that may (or may not) be shown a form although the API refuses them THIS request, because
# the same form serves them for other values: a CSP officer of FENLAND records notifications for FENLAND (the
# request is for CAMCITY); agency staff generate their own agency's IMR document (documents.imr.generate)
# from the document form (the request is for the overview report). Their post must still be refused.
ALSO_SHOWN_TO = {
    "POST /reviews": {"other_coordinator", "other_chair"},
    "POST /reviews/{review_id}/documents": {"police_author", "police_manager", "health_author", "probation_manager"},
}
# Done by the browsers themselves: every role signs in through the form and signs out at the end.
SIGN_IN_OUT = {"POST /auth/token", "POST /auth/revoke"}
# The rows of API.md's tables (for the PostgreSQL run, which keeps to them to save time).
API_MD = {
    "POST /csps", "POST /agencies", "POST /users", "POST /reviews", "POST /reviews/{review_id}/events",
    "POST /reviews/{review_id}/people", "POST /reviews/{review_id}/panel", "PUT /reviews/{review_id}/terms-of-reference",
    "POST /reviews/{review_id}/imrs", "PATCH /imrs/{imr_id}", "POST /imrs/{imr_id}/events", "POST /imrs/{imr_id}/chronology",
    "PATCH /reviews/{review_id}/overview", "POST /reviews/{review_id}/recommendations", "POST /recommendations/{recommendation_id}/actions",
    "POST /actions/{action_id}/events", "POST /reviews/{review_id}/documents", "GET /documents/{document_id}/content",
    "GET /reviews/{review_id}/home-office-package",
}


def _api_operations(app) -> set[str]:
    prefix = authz.PREFIX
    ops = set()
    for path, item in app.openapi()["paths"].items():
        for method in item:
            if path.startswith(prefix) and method.upper() in {"POST", "PUT", "PATCH", "DELETE"}:
                ops.add(f"{method.upper()} {path[len(prefix):]}")
    return ops


def _workflow(name: str) -> WorkflowDef:
    return WorkflowDef.model_validate(yaml.safe_load((WORKFLOWS / f"{name}.yaml").read_text()))


def _web_route(app, method: str, path: str) -> bool:
    """Whether a page route answers `method path` (web paths never start with /api/)."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"", "headers": []}
    return not path.startswith("/api/") and any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)


def test_every_api_change_has_a_page(app):
    changes = _api_operations(app) | DOWNLOADS
    missing = sorted(changes - set(WEB_FORMS) - set(EXCLUDED))
    assert not missing, "changes of the API with no page (add a page, or a reason to EXCLUDED): " + ", ".join(missing)
    stale = sorted((set(WEB_FORMS) | set(EXCLUDED)) - changes - DOWNLOADS)
    assert not stale, "rows for operations the API no longer has: " + ", ".join(stale)
    assert not set(WEB_FORMS) & set(EXCLUDED)
    gets = {f"GET {p[len(authz.PREFIX):]}" for p, item in app.openapi()["paths"].items() if "get" in item}
    assert DOWNLOADS <= gets, f"downloads the API no longer has: {sorted(DOWNLOADS - gets)}"
    # Each mapped page exists: a GET for its form (unless it is a button elsewhere) and a POST to submit.
    absent = []
    for op, template in WEB_FORMS.items():
        path = urlsplit(re.sub(r"\{[a-z_]+\}", "x1", template)).path
        if op in DOWNLOADS:
            methods = ["GET"]
        elif op in POST_ONLY:
            methods = ["POST"]
            if not _web_route(app, "GET", POST_ONLY[op]):
                absent.append(f"GET {POST_ONLY[op]} (where the button for {op} is)")
        else:
            methods = ["GET", "POST"]
        absent += [f"{m} {template} (for {op})" for m in methods if not _web_route(app, m, path)]
    assert not absent, "pages the table names that the app does not have: " + ", ".join(absent)
    # Each table row of tests/test_authorization.py that changes something has a page or a reason.
    rows = {authz._operation(k) for table in (authz.GLOBAL, *authz.SCENARIOS.values()) for k in table}
    assert {op for op in rows if not op.startswith("GET ")} <= set(WEB_FORMS) | set(EXCLUDED)


# -- a browser per person ----------------------------------------------------------------------------
class FormParser(HTMLParser):
    """The fields of each form on a page, as a browser would send them (checked boxes only, the
    selected option or the first, a text area's text), and the names of all its controls."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._textarea: list | None = None
        self._select: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "enctype": a.get("enctype") or "", "fields": [], "names": set()}
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            self._form["names"].add(name)
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"].append((name, a.get("value") or "on"))
            elif kind not in ("file", "submit", "button", "image", "reset"):
                self._form["fields"].append((name, a.get("value") or ""))
        elif tag == "textarea" and name:
            self._form["names"].add(name)
            self._textarea = [name, []]
        elif tag == "select" and name:
            self._form["names"].add(name)
            self._select = {"name": name, "value": None, "first": None}
        elif tag == "option" and self._select is not None:
            value = a.get("value") or ""
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in a:
                self._select["value"] = value

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            text = "".join(self._textarea[1])
            self._form["fields"].append((self._textarea[0], text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select" and self._select is not None and self._form is not None:
            value = self._select["value"] if self._select["value"] is not None else self._select["first"]
            self._form["fields"].append((self._select["name"], value or ""))
            self._select = None
        elif tag == "form":
            self._form = None


def main_form(html: str) -> dict[str, Any] | None:
    """The page's own form (not the header's sign-out button)."""
    parser = FormParser()
    parser.feed(html)
    forms = [f for f in parser.forms if f["action"] != "/sign-out" and "csrf_token" in f["names"]]
    return forms[-1] if forms else None


def fill(form: dict[str, Any] | None, typed: dict[str, Any]) -> dict[str, Any]:
    """The form's fields as shown, with what the person typed over them (None: left empty / unticked)."""
    data: dict[str, Any] = {}
    for name, value in (form or {}).get("fields", []):
        data.setdefault(name, []).append(value)
    for name, value in typed.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    return {k: v[0] if len(v) == 1 else v for k, v in data.items()}


def date_fields(name: str, day: dt.date) -> dict[str, str]:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}


class Browser:
    """One person's browser: its own cookies (session and CSRF), never following redirects."""

    def __init__(self, app, role: str | None = None) -> None:
        self.role = role
        self.http = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
        self._csrf: str | None = None

    def sign_in(self, email: str) -> None:
        page = self.http.get("/sign-in")
        assert page.status_code == 200, page.text[:300]
        response = self.http.post("/sign-in", data={"csrf_token": CSRF.search(page.text).group(1), "email": email, "password": PASSWORD, "next": "/"})
        assert response.status_code == 303 and response.headers["location"] == "/", (self.role, response.status_code, response.text[:300])
        assert self.http.cookies.get("dhr_session"), self.role
        self._csrf = None

    def csrf(self) -> str:
        """This browser's CSRF token, from a page it may open (every page's header has the sign-out form)."""
        if self._csrf is None:
            page = self.http.get("/account" if self.role else "/sign-in")
            assert page.status_code == 200, (self.role, page.status_code)
            self._csrf = CSRF.search(page.text).group(1)
        return self._csrf

    def get(self, path: str):
        return self.http.get(path)

    def post(self, path: str, data: dict[str, Any], files: dict | None = None):
        return self.http.post(path, data=data, files=files)


def signed_in_browsers(app, world, roles=SIGNED_IN) -> dict[str, Browser]:
    browsers = {}
    for role in roles:
        browsers[role] = Browser(app, role)
        browsers[role].sign_in(world.user(role).email)
    return browsers


# -- what each form is given, and how its change shows through the API --------------------------------
@dataclass
class Op:
    typed: Callable[["Run", int], dict[str, Any]]  # what the person types over the form as shown
    snapshot: Callable[["Run", str], Any]  # what the API shows of what the form changes (as that role's change)
    event: str | None = None  # for the generic event routes
    workflow: str | None = None  # its workflow, and where its subject's state is read
    probe: Callable[["Run", int], dict[str, Any]] | None = None  # passes the form, fails a data guard (state-changing events)
    file: Callable[[], tuple[str, bytes, str]] | None = None  # the upload of a multipart form
    # Whether a 303 did what it should, from the snapshots before and after (default: something changed).
    succeeded: Callable[[Any, Any], bool] = lambda before, after: after != before


def _as(run: "Run", who: str):
    return run.case.api.as_(who)


def _items(run: "Run", who: str, path: str, **params) -> list:
    return ok(_as(run, who).get(path, params={"limit": 500, **params}))["items"]


def _history(run: "Run", _role: str) -> list:
    return [(e["event"], e.get("note")) for e in _items(run, "chair", f"/reviews/{run.ids['review_id']}/events")]


def _state(path: str, who: str) -> Callable[["Run", str], Any]:
    def snapshot(run: "Run", _role: str) -> Any:
        body = ok(_as(run, who).get(path.format_map(run.ids)))
        return body.get("state"), body.get("version")

    return snapshot


def _get(path: str, who: str, *fields: str) -> Callable[["Run", str], Any]:
    def snapshot(run: "Run", _role: str) -> Any:
        body = ok(_as(run, who).get(path.format_map(run.ids)))
        return {f: body.get(f) for f in fields} if fields else body

    return snapshot


def _list(path: str, who: str, key: Callable[[dict], Any] = lambda i: i["id"], **params) -> Callable[["Run", str], Any]:
    def snapshot(run: "Run", _role: str) -> Any:
        return sorted(map(str, (key(i) for i in _items(run, who, path.format_map(run.ids), **params))))

    return snapshot


def _docx() -> tuple[str, bytes, str]:
    return ("imr.docx", authz._plain_docx(), DOCX)


def _template() -> tuple[str, bytes, str]:
    return ("executive-summary.docx", templates.statutory("executive_summary").content, DOCX)


def _templates(run: "Run", _role: str) -> list:
    return sorted(map(str, (ok(_as(run, "coordinator").get(f"/csps/{run.ids['csp_id']}/templates"))["items"])))


OPS: dict[str, Op] = {
    "POST /users": Op(
        lambda r, n: {"email": f"web{n}@dhr.example", "name": f"New Person {n}", "password": "a long enough passphrase", "role": "home_office", "csp_id": "", "agency_id": ""},
        _list("/users", "admin", lambda u: u["email"])),
    "PATCH /users/{user_id}": Op(
        lambda r, n: {"name": f"Spare renamed {n}", "is_active": "true", "role": "home_office"},
        _get("/users/{user_id}", "admin", "name", "roles")),
    "POST /csps": Op(lambda r, n: {"name": f"Partnership {n}", "code": f"WEB{n}", "region": "East of England"}, _list("/csps", "admin")),
    "POST /agencies": Op(lambda r, n: {"name": f"Agency {n}", "kind": "voluntary", "email": f"agency{n}@agency.example"}, _list("/agencies", "admin")),
    "PATCH /csps/{csp_id}": Op(lambda r, n: {"retention_years": str(6 + n % 5 + 1)}, _get("/csps/{csp_id}", "coordinator", "retention_years", "version")),
    "POST /reviews": Op(
        lambda r, n: {"csp_id": r.ids["csp_id"], **date_fields("notified_on", r.today), "notified_by": "Exampleshire Constabulary",
                      **date_fields("date_of_death", r.today - dt.timedelta(days=2)), "death_type": "homicide", "relationship": "ex_partner",
                      "victim_age": "40", "summary": f"Invented case {n} for tests."},
        _list("/reviews", "coordinator")),
    "POST /auth/me/calendar/reset": Op(lambda r, n: {}, lambda r, role: ok(_as(r, role).get("/auth/me/calendar"))),
    # record_criminal_proceedings keeps the state: everyone allowed really records it.
    "POST /reviews/{review_id}/events": Op(
        lambda r, n: {"status": "open", "note": f"Recorded from the pages ({n})."}, _history, event="record_criminal_proceedings", workflow="review"),
    # qa_clear_subject_to_changes moves the review on: probed without its changes (the form says so,
    # 422), then done for real by the Home Office at the end.
    "POST /reviews/{review_id}/events#qa": Op(
        lambda r, n: {"changes": "Remove the month of death.\nUse the agreed pseudonyms throughout.", "note": f"QA ({n})."}, _get("/reviews/{review_id}", "chair", "state"),
        event="qa_clear_subject_to_changes", workflow="review", probe=lambda r, n: {"changes": ""}),
    "PATCH /reviews/{review_id}": Op(lambda r, n: {"themes": f"Learning theme {n}\nInformation sharing"}, _get("/reviews/{review_id}", "chair", "themes", "version")),
    "POST /reviews/{review_id}/people": Op(
        lambda r, n: {"role": "other", "name": f"Nina Neighbour {n}", "pseudonym": f"Neighbour {n}"}, _list("/reviews/{review_id}/people", "coordinator")),
    "POST /reviews/{review_id}/panel": Op(
        lambda r, n: {"user_id": r.ids["panel_candidate"], "role": "member"}, _list("/reviews/{review_id}/panel", "coordinator")),
    "PUT /reviews/{review_id}/terms-of-reference": Op(
        lambda r, n: {**date_fields("period_from", dt.date(2023, 1, 1)), **date_fields("period_to", dt.date(2026, 1, 1)),
                      "key_lines_of_enquiry": "What did agencies know?", "coercive_control": "true", "equality_and_diversity": "true",
                      "family_involvement": "Invited.", "text": f"Revised ({n})."},
        _get("/reviews/{review_id}/terms-of-reference", "coordinator", "version", "text")),
    "POST /reviews/{review_id}/imrs": Op(lambda r, n: {"agency_id": r.ids["spare_agency"]}, _list("/reviews/{review_id}/imrs", "coordinator")),
    "PATCH /imrs/{imr_id}": Op(lambda r, n: {"methodology": f"Records reviewed ({n})."}, _get("/imrs/{imr_id}", "coordinator", "methodology", "version")),
    # acknowledge moves the IMR on: probed without the author's independence (a data guard: 409).
    "POST /imrs/{imr_id}/events": Op(
        lambda r, n: {"author_name": "Ivy Independent", "author_role": "Review officer", "independence_confirmed": "true"},
        _state("/imrs/{imr_id}", "coordinator"), event="acknowledge", workflow="imr",
        probe=lambda r, n: {"author_name": "Ivy Independent", "author_role": "Review officer", "independence_confirmed": None}),
    "POST /imrs/{imr_id}/chronology": Op(
        lambda r, n: {**date_fields("occurred_on", dt.date(2025, 6, 1)), "description": f"Contact {n}.", "seen": "Adult A"},
        _list("/imrs/{imr_id}/chronology", "coordinator")),
    "POST /imrs/{imr_id}/documents": Op(lambda r, n: {}, _list("/reviews/{review_id}/documents", "coordinator"), file=_docx),
    "PATCH /reviews/{review_id}/overview": Op(lambda r, n: {"facts": f"The facts, draft {n}."}, _get("/reviews/{review_id}/overview", "panel_chair", "facts", "version")),
    "POST /reviews/{review_id}/recommendations": Op(
        lambda r, n: {"text": f"Recommendation {n}.", "scope": "local"}, _list("/reviews/{review_id}/recommendations", "panel_chair")),
    "POST /recommendations/{recommendation_id}/actions": Op(
        lambda r, n: {"action": f"Action {n}.", "lead_agency_id": r.ids["agency_id"], **date_fields("target_date", r.today + dt.timedelta(days=60)),
                      "outcome_measure": "Measured."},
        _list("/reviews/{review_id}/recommendations", "panel_chair", lambda rec: [a["id"] for a in rec["actions"]])),
    "PATCH /actions/{action_id}": Op(lambda r, n: {"milestones": f"Milestone {n}."}, _get("/actions/{action_id}", "panel_chair", "milestones", "version")),
    # complete moves the action on: probed with a completion date in the future (a data guard: 409).
    "POST /actions/{action_id}/events": Op(
        lambda r, n: {**date_fields("completed_on", r.today), "outcome": f"Done ({n})."}, _state("/actions/{action_id}", "panel_chair"),
        event="complete", workflow="action",
        probe=lambda r, n: {**date_fields("completed_on", r.today + dt.timedelta(days=1)), "outcome": f"Done ({n})."}),
    "POST /actions/{action_id}/events#probation": Op(
        lambda r, n: {**date_fields("completed_on", r.today), "outcome": f"Done ({n})."}, _state("/actions/{action_id#probation}", "panel_chair"),
        event="complete", workflow="action",
        probe=lambda r, n: {**date_fields("completed_on", r.today + dt.timedelta(days=1)), "outcome": f"Done ({n})."}),
    "POST /reviews/{review_id}/documents": Op(lambda r, n: {"kind": "overview_report"}, _list("/reviews/{review_id}/documents", "coordinator")),
    "POST /reviews/{review_id}/proceedings": Op(
        lambda r, n: {"kind": "inquest", "description": f"Inquest {n}"}, _list("/reviews/{review_id}/proceedings", "coordinator")),
    "PATCH /proceedings/{proceeding_id}": Op(
        lambda r, n: {"description": f"Trial at the Crown Court ({n})"}, _get("/proceedings/{proceeding_id}", "coordinator", "description", "version")),
    "POST /reviews/{review_id}/legal-holds": Op(
        lambda r, n: {"reason": f"Civil claim {n} notified by the family's solicitors."}, _list("/reviews/{review_id}/legal-holds", "coordinator")),
    # A hold is lifted once: the second officer is shown the form, and its post says it was already lifted (409).
    "POST /legal-holds/{hold_id}/lift": Op(
        lambda r, n: {"reason": f"The claim was settled ({n})."}, _list("/reviews/{review_id}/legal-holds", "coordinator", lambda h: (h["id"], h["active"]))),
    "PUT /reviews/{review_id}/submissions/{number}/letter": Op(
        lambda r, n: {}, _list("/reviews/{review_id}/submissions", "coordinator", lambda s: (s["number"], s.get("letter"))), file=_docx),
    "POST /qa-changes/{change_id}/events": Op(
        lambda r, n: {"text": f"Done ({n})."}, _list("/reviews/{review_id}/qa-changes", "coordinator", lambda c: (c["id"], c["made"], c.get("how"))), event="made"),
    "PUT /csps/{csp_id}/templates/{kind}": Op(lambda r, n: {}, _templates, file=_template),
    # Going back to the statutory template twice is no change the second time (the API's 2 for both officers).
    "DELETE /csps/{csp_id}/templates/{kind}": Op(lambda r, n: {}, _templates, succeeded=lambda before, after: after != before or "'partnership'" not in str(after)),
    "POST /outbox/{message_id}/retry": Op(lambda r, n: {}, lambda r, role: [e for e in _history(r, role) if e[0] == "mail_retry"]),
    # downloads: nothing changes; the answer itself is checked
    "GET /documents/{document_id}/content": Op(lambda r, n: {}, lambda r, role: None),
    "GET /reviews/{review_id}/home-office-package": Op(lambda r, n: {}, lambda r, role: None),
    "GET /reviews/{review_id}/submissions/{number}/letter": Op(lambda r, n: {}, lambda r, role: None),
    "GET /csps/{csp_id}/quarterly-report": Op(lambda r, n: {}, lambda r, role: None),
    "GET /csps/{csp_id}/templates/{kind}/content": Op(lambda r, n: {}, lambda r, role: None),
}
OBJECTS = {"review": ("/reviews/{review_id}", "chair", "dhr-2011"), "imr": ("/imrs/{imr_id}", "coordinator", "imr-2011"), "action": ("/actions/{action_id}", "panel_chair", "action-2011")}


def _op(key: str) -> Op:
    return OPS.get(key) or OPS[authz._operation(key)]


@dataclass
class Run:
    case: Any
    app: Any
    browsers: dict[str, Browser]
    scenario: str
    problems: list[str] = field(default_factory=list)
    cases: int = 0
    done: list[str] = field(default_factory=list)  # what was really done through a page, for the report
    refused: list[str] = field(default_factory=list)  # allowed roles the moment or data refused (API "w"), why

    @property
    def ids(self) -> dict[str, str]:
        return self.case.ids

    @property
    def today(self) -> dt.date:
        return clock.today()

    def path(self, key: str) -> str:
        op = authz._operation(key)
        variant = key.split("#", 1)[1] if "#" in key else None
        spec = _op(key)
        names = {n: self.ids.get(f"{n}#{variant}", self.ids.get(n)) for n in authz.PATH_IDS}
        today = self.today
        names |= {"event": spec.event or "", "quarter": f"{today.year}Q{(today.month - 1) // 3 + 1}"}
        return WEB_FORMS[op].format_map(names)

    def subject_path(self, key: str) -> str:
        """The API path of the event's subject (a variant's own id where the case has one)."""
        variant = key.split("#", 1)[1] if "#" in key else None
        path, _who, _wf = OBJECTS[_op(key).workflow]
        return re.sub(r"\{([a-z_]+)\}", lambda m: self.ids.get(f"{m.group(1)}#{variant}", self.ids[m.group(1)]), path)

    def possible_now(self, key: str) -> bool:
        """Whether the workflow has a transition for this event from its subject's state now."""
        spec = _op(key)
        if spec.workflow is None:
            return True
        path, who, name = OBJECTS[spec.workflow]
        state = ok(self.case.api.as_(who).get(self.subject_path(key)))["state"]
        return bool(_workflow(name).transitions_for(spec.event, state))

    def fail(self, key: str, role: str, message: str, response=None) -> None:
        body = f" [{response.status_code} {response.headers.get('location', '')}] {what_it_says(response)}" if response is not None else ""
        self.problems.append(f"{self.scenario:9} {key:55} {role:17} {message}{body}")


def what_it_says(response) -> str:
    """A page's heading and error summary, in a line (for failure messages)."""
    if "text/html" not in response.headers.get("content-type", ""):
        return response.headers.get("content-type", "")
    html = re.sub(r"(?s)<(script|style|header|nav)\b.*?</\1>", " ", response.text)
    h1 = re.search(r"(?s)<h1[^>]*>(.*?)</h1>", html)
    summary = re.search(r'(?s)class="[^"]*govuk-error-summary__list[^"]*"[^>]*>(.*?)</ul>', html)
    text = lambda fragment: unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()  # noqa: E731
    return (text(h1.group(1)) if h1 else "") + (f" | {text(summary.group(1))}" if summary else "")


def _allowed(code: str) -> bool:
    return code in ("2", "w")


def _reference(run: Run, key: str, row: dict[str, str]) -> dict[str, Any] | None:
    """The form an allowed person is shown now (fresh: an edit form carries the current version)."""
    for role in SIGNED_IN:
        if _allowed(row[role]):
            page = run.browsers[role].get(run.path(key))
            if page.status_code == 200:
                return main_form(page.text)
    return None


def _submit(run: Run, key: str, role: str, typed: dict[str, Any], form: dict[str, Any] | None):
    spec = _op(key)
    browser = run.browsers[role]
    data = fill(form, typed)
    data["csrf_token"] = browser.csrf()
    files = {"file": spec.file()} if spec.file else None
    return browser.post(run.path(key), data, files)


def _check_anonymous(run: Run, key: str) -> None:
    op = authz._operation(key)
    spec = _op(key)
    anonymous = Browser(run.app)
    path = run.path(key)
    before = spec.snapshot(run, "coordinator") if op != "POST /auth/me/calendar/reset" else None
    if op not in POST_ONLY:
        response = anonymous.get(path)
        if response.status_code != 303 or not response.headers.get("location", "").startswith("/sign-in?next="):
            run.fail(key, "anonymous", "GET should redirect to /sign-in", response)
    if op not in DOWNLOADS:
        response = anonymous.post(path, fill(None, spec.typed(run, next(run.case.serial))) | {"csrf_token": anonymous.csrf()},
                                  {"file": spec.file()} if spec.file else None)
        if response.status_code != 303 or not response.headers.get("location", "").startswith("/sign-in"):
            run.fail(key, "anonymous", "POST should redirect to /sign-in", response)
        if before is not None and spec.snapshot(run, "coordinator") != before:
            run.fail(key, "anonymous", "an anonymous POST changed something")
    run.cases += 1


def _check_download(run: Run, key: str, row: dict[str, str]) -> None:
    path = run.path(key)
    for role in SIGNED_IN:
        expected = row[role]
        response = run.browsers[role].get(path)
        status, kind = response.status_code, response.headers.get("content-type", "")
        if expected == "2":
            good = status == 200 and "text/html" not in kind and response.content
        elif expected == "w":
            good = (status == 200 and "text/html" not in kind) or status in (409, 422)
        else:
            good = status in (403, 404)
        if not good:
            run.fail(key, role, f"API says {expected}; the download answered {status} {kind}", response)
        run.cases += 1


def _check_form(run: Run, key: str, row: dict[str, str]) -> None:
    op = authz._operation(key)
    spec = _op(key)
    path = run.path(key)
    possible = run.possible_now(key) if spec.event and spec.workflow else True
    cached_reference: dict[str, Any] | None = None
    have_reference = False
    before: dict[str, Any] = {}
    for role in SIGNED_IN:
        expected = row[role]
        allowed = _allowed(expected) and possible
        n = next(run.case.serial)
        # 1. The form page: shown to those who may use it, "not found" to everyone else.
        form = None
        if op not in POST_ONLY:
            page = run.browsers[role].get(path)
            may_see = allowed  # must be shown the form
            might_see = may_see or (role in ALSO_SHOWN_TO.get(op, set()) and possible)  # may be shown it
            if page.status_code == 200:
                form = main_form(page.text)
                if not might_see:
                    run.fail(key, role, f"API says {expected}{'' if possible else ' (no such event from this state)'}; the form page is shown (200)", page)
                elif form is None:
                    run.fail(key, role, "the form page has no form with a CSRF token", page)
            elif may_see or page.status_code not in (403, 404):
                run.fail(key, role, f"API says {expected}; the form page answered {page.status_code}", page)
            if form is not None:
                unknown = {k.split("-")[0] for k in spec.typed(run, n)} - {k.split("-")[0] for k in form["names"]} - {"note"}
                if unknown and (allowed or spec.probe is None):
                    run.fail(key, role, f"the test types into fields the form does not have: {sorted(unknown)}")
        if form is None:
            # No form of their own: post what an allowed person's form sends (an edit's, with the current version).
            if not have_reference or op.startswith("PATCH ") or op.startswith("PUT "):
                cached_reference, have_reference = _reference(run, key, row), True
            form = cached_reference
        # 2. The post.
        typed = (spec.probe or spec.typed)(run, n)
        if "snap" not in before or op == "POST /auth/me/calendar/reset":
            before["snap"] = spec.snapshot(run, role)
        response = _submit(run, key, role, typed, form)
        after = spec.snapshot(run, role)
        changed = after != before["snap"]
        worked = spec.succeeded(before["snap"], after)
        before["snap"] = after
        status = response.status_code
        shows_errors = ERROR_SUMMARY in response.text
        if not possible:
            good = status == 404 and not changed
            why = "no transition from this state: the page should answer 404"
        elif expected == "2":
            good = status == 303 and worked
            why = "should succeed (303) and change what the API shows"
        elif expected == "w":
            good = (status == 303 and worked) or (status in (409, 412, 422) and shows_errors and not changed)
            why = "should succeed (303, changed) or show the form again with an error summary (409/412/422, unchanged)"
        else:
            good = status in (403, 404) and not changed
            why = "should be refused (403/404) with nothing changed"
        if not good:
            run.fail(key, role, f"API says {expected}; {why}; the page answered {status}{' and changed it' if changed else ''}", response)
        elif status == 303:
            run.done.append(f"{key} as {role}")
        elif _allowed(expected):
            run.refused.append(f"{key} as {role}: {status} {what_it_says(response)}")
        run.cases += 1


def _finale(run: Run, key: str, row: dict[str, str]) -> None:
    """A state-changing event, done for real by the first person allowed (the others were probed)."""
    spec = _op(key)
    role = next((r for r in SIGNED_IN if _allowed(row[r])), None)
    if spec.probe is None or role is None or not run.possible_now(key):
        return
    page = run.browsers[role].get(run.path(key))
    if page.status_code != 200:
        run.fail(key, role, "the form page for the real event is not shown", page)
        return
    before = spec.snapshot(run, role)
    response = _submit(run, key, role, spec.typed(run, next(run.case.serial)), main_form(page.text))
    changed = spec.snapshot(run, role) != before
    if row[role] == "2" or response.status_code == 303:
        good = response.status_code == 303 and changed
    else:
        good = response.status_code in (409, 412, 422) and ERROR_SUMMARY in response.text and not changed
    if not good:
        run.fail(key, role, f"valid data (API says {row[role]}): answered {response.status_code}{', changed' if changed else ''}", response)
    elif response.status_code == 303:
        run.done.append(f"{key} as {role} (valid data)")
    run.cases += 1


def _sign_out(run: Run) -> None:
    for role, browser in run.browsers.items():
        token = browser.http.cookies.get("dhr_session")
        response = browser.post("/sign-out", {"csrf_token": browser.csrf()})
        if response.status_code != 303 or response.headers.get("location") != "/sign-in":
            run.fail("POST /auth/revoke", role, "signing out should redirect to /sign-in", response)
        if browser.get("/account").status_code != 303:
            run.fail("POST /auth/revoke", role, "still signed in after signing out")
        # The session's token is revoked, not just forgotten by the browser.
        if run.case.api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code != 401:
            run.fail("POST /auth/revoke", role, "the session's token still works after signing out")
        run.cases += 1


def matrix(run: Run, table: dict[str, dict[str, str]]) -> None:
    finales = []
    for key, row in table.items():
        op = authz._operation(key)
        if op not in WEB_FORMS or op in SIGN_IN_OUT or (op.startswith("GET ") and op not in DOWNLOADS):
            continue
        _check_anonymous(run, key)
        if op in DOWNLOADS:
            _check_download(run, key, row)
        else:
            _check_form(run, key, row)
            if _op(key).probe is not None:
                finales.append((key, row))
    for key, row in finales:
        _finale(run, key, row)


# DHR_TEST_PAGES_FULL=1 runs every operation on PostgreSQL too (by default it keeps to API.md's).
FULL_ON_POSTGRES = os.environ.get("DHR_TEST_PAGES_FULL") == "1"


@pytest.mark.parametrize("scenario", ["evidence", "drafting", "submitted"])
def test_pages_allow_exactly_the_roles_the_api_allows(api, world, app, database_url, scenario):
    started = time.monotonic()
    case = authz.build_case(api, world, scenario)
    table = authz._parse(authz.SCENARIOS[scenario])
    if scenario == "evidence":  # the operations that are not about one review: once is enough
        table = {**authz._parse(authz.GLOBAL), **table}
    if not database_url.startswith("sqlite") and not FULL_ON_POSTGRES:  # PostgreSQL: API.md's operations only, to keep the run short
        table = {k: v for k, v in table.items() if authz._operation(k) in API_MD}
    run = Run(case=case, app=app, browsers=signed_in_browsers(app, world), scenario=scenario)
    run.cases += len(run.browsers)  # each signed in through the form (POST /auth/token)
    matrix(run, table)
    _sign_out(run)
    print(f"\n{scenario}: {run.cases} role x operation cases in {time.monotonic() - started:.1f}s; done through pages: {len(run.done)}")
    print("  done:\n    " + "\n    ".join(run.done) + "\n  allowed but refused (w):\n    " + "\n    ".join(run.refused))
    assert not run.problems, f"{len(run.problems)} page answers disagree with the API's policy ({scenario}):\n" + "\n".join(run.problems)


# -- CSRF ------------------------------------------------------------------------------------------------
def test_a_post_without_this_browsers_csrf_token_is_refused_and_changes_nothing(api, world, app):
    j = Journey(api, world).to("scoping")
    people = f"/reviews/{j.id}/people"
    count = lambda: ok(api.as_("coordinator").get(people))["total"]  # noqa: E731
    before = count()
    mine, other = Browser(app, "coordinator"), Browser(app, "coordinator")
    visitor = Browser(app)  # the same person's browser before signing in
    early_token = visitor.csrf()
    for browser in (mine, other):
        browser.sign_in(world.user("coordinator").email)
    visitor.sign_in(world.user("coordinator").email)
    page = mine.get(f"{people}/new")
    assert page.status_code == 200
    typed = {"role": "other", "name": "Nina Neighbour", "pseudonym": "Neighbour"}
    form = fill(main_form(page.text), typed)
    other_token = CSRF.search(other.get(f"{people}/new").text).group(1)
    attempts = {
        "no token": {k: v for k, v in form.items() if k != "csrf_token"},
        "an empty token": form | {"csrf_token": ""},
        "a made-up token": form | {"csrf_token": "0" * 64},
        "another browser's token (its own cookie)": form | {"csrf_token": other_token},
        "the token shown before signing in": None,
    }
    for what, data in attempts.items():
        browser, data = (visitor, form | {"csrf_token": early_token}) if data is None else (mine, data)
        response = browser.post(f"{people}/new", data)
        assert response.status_code == 403, (what, response.status_code)
        assert "Nothing was changed" in response.text, what
        assert count() == before, what
    # Without this browser's CSRF cookie, its own token is refused too.
    stripped = Browser(app, "coordinator")
    stripped.http.cookies.set("dhr_session", mine.http.cookies.get("dhr_session"), domain="127.0.0.1")
    assert stripped.post(f"{people}/new", form).status_code == 403
    # A button: replacing the calendar link, and signing out.
    link = ok(api.as_("coordinator").get("/auth/me/calendar"))
    assert mine.post("/account/calendar/reset", {"csrf_token": other_token}).status_code == 403
    assert mine.post("/sign-out", {}).status_code == 403
    assert ok(api.as_("coordinator").get("/auth/me/calendar")) == link
    assert mine.get("/account").status_code == 200, "a refused sign-out leaves the person signed in"
    # The same form with this browser's own token goes through.
    assert count() == before
    response = mine.post(f"{people}/new", form)
    assert response.status_code == 303, response.text[:500]
    assert count() == before + 1
    # ...and the other browser's token still works in the other browser.
    assert other.post(f"{people}/new", fill(None, {**typed, "name": "Ned Neighbour", "pseudonym": "Neighbour 2"}) | {"csrf_token": other_token}).status_code == 303
    assert count() == before + 2


# -- every workflow event has a form someone can open --------------------------------------------------
YAML_ROLE_TO_PERSON = {
    "csp_chair": "chair", "csp_coordinator": "coordinator", "panel_chair": "panel_chair", "home_office": "home_office",
    "imr_author": "police_author", "agency_manager": "police_manager",
}


def test_every_workflow_event_has_a_form_page_in_some_state(api, world, app):
    """Walk reviews, an IMR and an action through every state; in each, open each event's form as the
    person the YAML names. Every event of dhr-2011, imr-2011 and action-2011 must be shown (200) somewhere."""
    definitions = {subject: _workflow(name) for subject, (_p, _w, name) in OBJECTS.items()}
    wanted = {(subject, e) for subject, d in definitions.items() for e in d.event_names()}
    reached: dict[tuple[str, str], str] = {}
    browsers = signed_in_browsers(app, world, sorted(set(YAML_ROLE_TO_PERSON.values())))
    bases = {"review": "/reviews/{}", "imr": "/imrs/{}", "action": "/actions/{}"}

    def visit(subject: str, subject_id: str, path: str) -> None:
        state = ok(api.as_("chair" if subject != "imr" else "coordinator").get(path.format(subject_id)))["state"]
        for event in definitions[subject].event_names():
            if (subject, event) in reached:
                continue
            for t in definitions[subject].transitions_for(event, state):
                for role in t.roles:
                    page = browsers[YAML_ROLE_TO_PERSON[role]].get(f"{bases[subject].format(subject_id)}/events/{event}")
                    if page.status_code == 200 and main_form(page.text) is not None:
                        reached[(subject, event)] = f"{state} as {YAML_ROLE_TO_PERSON[role]}"
                        break
                if (subject, event) in reached:
                    break

    review = lambda j: visit("review", j.id, "/reviews/{}")  # noqa: E731
    # Not reviewed, and reconsidered.
    side = Journey(api, world)
    review(side)
    side.fire("chair", "decide_not_to_review", rationale="Not within the definition.")
    review(side)
    # The main path, with a pause, the IMRs and the action on the way.
    j = Journey(api, world).to("scoping")
    review(j)
    j.fire("chair", "pend", reason="A criminal trial.")
    review(j)
    j.fire("chair", "resume")
    # Journey.scope, stopping before the terms are agreed: the panel chair sees the review from now on.
    j.advance(5)
    for person in ({"role": "victim", "name": "Zoe Example", "pseudonym": "Adult A"}, {"role": "perpetrator", "name": "Bart Example", "pseudonym": "Adult B"}):
        ok(api.as_("coordinator").post(f"/reviews/{j.id}/people", json=person), 201)
    ok(api.as_("coordinator").post(f"/reviews/{j.id}/panel", json={"user_id": world.user("panel_chair").id, "role": "chair", "independence_statement": "No connection."}), 201)
    ok(api.as_("coordinator").post(f"/reviews/{j.id}/panel", json={"user_id": world.user("panel_member").id, "role": "member", "agency_id": world.agencies["police"]}), 201)
    ok(api.as_("panel_chair").put(f"/reviews/{j.id}/terms-of-reference", json={
        "period_from": "2023-01-01", "period_to": j.day.isoformat(), "key_lines_of_enquiry": ["What did agencies know of the risk?"],
        "coercive_control": True, "equality_and_diversity": True, "suicide": False, "family_involvement": "Invited.", "text": "Terms."}))
    review(j)
    j.fire("panel_chair", "agree_terms_of_reference")
    review(j)
    j.commission()
    imr = lambda: visit("imr", j.imrs["police"], "/imrs/{}")  # noqa: E731
    imr()
    j.imr_event("police_author", "police", "acknowledge", author_name="Ivy Independent", author_role="Review officer", independence_confirmed=True)
    imr()
    version = ok(api.as_("police_author").get(f"/imrs/{j.imrs['police']}"))["version"]
    ok(api.as_("police_author").patch(f"/imrs/{j.imrs['police']}", headers={"If-Match": f'"{version}"'},
                                       json={"methodology": "Records.", "analysis": "Analysis.", "lessons": "Lessons."}))
    j.imr_event("police_author", "police", "send_for_agency_review")
    imr()
    j.imr_event("police_manager", "police", "quality_assure")
    imr()
    j.imr_event("panel_chair", "police", "accept")
    j.complete_imr("health")
    j.fire("panel_chair", "begin_drafting")
    for stage in ("drafting", "panel_review", "family_review", "csp_signoff", "submitted"):
        j.to(stage)
        review(j)
    action = lambda: visit("action", j.actions[0], "/actions/{}")  # noqa: E731
    action()
    ok(api.as_("police_manager").post(f"/actions/{j.actions[0]}/events", json={"event": "complete", "data": {"completed_on": clock.today().isoformat(), "outcome": "Done."}}))
    action()
    j.fire("home_office", "qa_require_resubmission", feedback="The analysis is thin.")
    review(j)
    j.fire("chair", "resubmit", summary="Analysis extended.")
    j.fire("home_office", "qa_clear_subject_to_changes", changes=["Remove the month of death."])
    review(j)
    for change in ok(api.as_("chair").get(f"/reviews/{j.id}/qa-changes"))["items"]:
        ok(api.as_("chair").post(f"/qa-changes/{change['id']}/events", json={"event": "made", "text": "Removed."}))
    j.fire("chair", "confirm_changes_made", summary="Every change made.")
    review(j)
    j.fire("chair", "withhold_publication", reason="A compelling reason.")
    review(j)
    print("\n" + "\n".join(f"  {subject} {event}: {where}" for (subject, event), where in sorted(reached.items())))
    missing = sorted(f"{subject}: {event}" for subject, event in wanted - set(reached))
    assert not missing, "workflow events whose form no one could open in any state: " + ", ".join(missing)


def test_the_review_page_gives_the_home_office_no_imr_notes(app, api, world):
    """The page's history is read on its own (reviews.service.history_lines), not through the API's
    answer: it must hide what the IMRs say from the Home Office just as GET /reviews/{id}/events does."""
    note = "Manager's note: the GP letter about Adult A was missed."
    j = Journey(api, world)
    plain_imr_event = j.imr_event

    def imr_event_with_note(who, agency, event, expect=200, **data):
        if event != "quality_assure":
            return plain_imr_event(who, agency, event, expect, **data)
        return ok(j.as_(who).post(f"/imrs/{j.imrs[agency]}/events", json={"event": event, "data": data, "note": note}), expect)

    j.imr_event = imr_event_with_note
    j.to("submitted")
    browsers = signed_in_browsers(app, world, ("chair", "home_office"))
    chair_page, home_office_page = (unescape(browsers[r].get(f"/reviews/{j.id}").text) for r in ("chair", "home_office"))
    assert note in chair_page and "Quality assure" in chair_page
    assert "Quality assure" in home_office_page and note not in home_office_page
