"""No N+1 queries (issue 8, item 3): every list of the API and every page that lists runs the same
number of SQL statements whether it shows a few rows or several times as many.

The lists are taken from app.openapi() (every GET answering a page: an object with `items`), and each
of their query filters from its parameters, so a new list or filter is measured without editing this
file. The data grows between the two measurements: more reviews (driven through the workflow over
HTTP, so their deadlines, history and mail are real), and more IMRs, chronology entries,
recommendations, actions, people, documents, proceedings, holds and requested changes on one review.
"""
from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from app.actions.models import Action
from app.core import clock
from app.core.db import get_engine, session_scope
from app.documents.models import Document
from app.imrs.models import ChronologyEntry, Imr
from app.overview.models import Recommendation
from app.partnerships.models import Agency
from app.people.models import Person
from app.submissions.models import QaChange, Submission
from tests.journey import Journey
from tests.support import PASSWORD, ok

TODAY = dt.date(2026, 9, 1)  # after the journeys: some deadlines overdue, some met

# Who reads each list (default: the CSP coordinator, who sees the whole partnership).
READER = {
    "/users": "admin", "/csps": "admin", "/agencies": "admin",
    "/national/reviews": "home_office",
    "/actions": "police_manager",
    "/imrs/{imr_id}/chronology": "panel_chair",
    "/reviews/{review_id}/imrs": "panel_chair",
    "/reviews/{review_id}/chronology": "panel_chair",
}
# Lists every role reads (their home pages do): each role's visibility is a different query.
EVERY_ROLE = ("chair", "panel_chair", "police_manager", "police_author", "home_office")
ALSO_READ_BY = {"/reviews": EVERY_ROLE, "/deadlines": EVERY_ROLE, "/actions": ("coordinator", "panel_chair")}
# Lists whose length does not follow the data grown here (set-up data, templates): measured all the same.
FIXED_LENGTH = {"/users", "/csps", "/agencies", "/csps/{csp_id}/templates", "/reviews/{review_id}/submissions",
                "/reviews/{review_id}/panel"}


class StatementCounter:
    """Counts the SQL statements the app's engine runs (SQLAlchemy's before_cursor_execute event)."""

    def __init__(self):
        self.statements: list[str] = []
        self.active = False

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self.statements.append(statement)

    @contextmanager
    def counting(self):
        self.statements, self.active = [], True
        try:
            yield self
        finally:
            self.active = False


@pytest.fixture
def statements(client):
    counter = StatementCounter()
    engine = get_engine()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


def list_operations(app) -> list[tuple[str, list[str]]]:
    """(path, query filters) of every GET of the API that answers a list."""
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    found = []
    for path, ops in spec["paths"].items():
        get = ops.get("get")
        if not get:
            continue
        ref = get["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        if not ref:
            continue
        schema = schemas.get(ref.rsplit("/", 1)[1], {})
        if schema.get("properties", {}).get("items", {}).get("type") != "array":
            continue
        filters = [p["name"] for p in get.get("parameters", []) if p["in"] == "query" and p["name"] not in ("limit", "offset")]
        found.append((path.removeprefix("/api/v1"), filters))
    return found


# -- the data ---------------------------------------------------------------------------------------
class Data:
    """One review carried to QA (the subject of the per-review lists) and others around it."""

    def __init__(self, api, world):
        self.api, self.world = api, world
        self.subject = Journey(api, world).to("submitted")
        self.subject.advance(20)
        self.subject.fire("home_office", "qa_clear_subject_to_changes", changes=["Remove the name of the school.", "Add the date of the inquest."])
        self.others = [Journey(api, world).to("panel_review")]
        self._proceeding_and_hold()
        self.round = 0
        self.grow_subject(1)

    @property
    def id(self) -> str:
        return self.subject.id

    def _proceeding_and_hold(self) -> None:
        ok(self.api.as_("coordinator").post(f"/reviews/{self.id}/proceedings", json={"kind": "inquest", "description": "Inquest opened."}), 201)
        ok(self.api.as_("chair").post(f"/reviews/{self.id}/legal-holds", json={"reason": "A claim has been notified."}), 201)

    def grow(self, reviews: int, per_review: int) -> None:
        """More reviews through the workflow, and `per_review` more of every part of the subject."""
        for n in range(reviews):
            self.others.append(Journey(self.api, self.world).to("submitted" if n % 2 else "panel_review"))
        for _ in range(per_review):
            self._proceeding_and_hold()
        self.grow_subject(per_review)

    def grow_subject(self, count: int) -> None:
        """The parts no event of a submitted review can add, written as the services would store them."""
        review_id = self.id
        with session_scope() as s:
            police_imr = s.get(Imr, self.subject.imrs["police"])
            submission = s.scalars(select(Submission).where(Submission.review_id == review_id)).first()
            rec_number = len(s.scalars(select(Recommendation.id).where(Recommendation.review_id == review_id)).all())
            change_number = len(s.scalars(select(QaChange.id).where(QaChange.review_id == review_id)).all())
            for _ in range(count):
                self.round += 1
                n = self.round
                agency = Agency(name=f"Example Agency {n}", kind="voluntary", email=f"agency{n}@agency.example")
                s.add(agency)
                s.flush()
                imr = Imr(review_id=review_id, agency_id=agency.id, state="accepted", workflow_name="imr-2011", workflow_version=1,
                          commissioned_on=dt.date(2026, 1, 22), due_on=dt.date(2026, 3, 31), submitted_on=dt.date(2026, 2, 10),
                          accepted_on=dt.date(2026, 2, 15), author_name=f"Author {n}", author_role="Safeguarding lead",
                          independence_confirmed=True, methodology="Records reviewed.", analysis="Risk not assessed.", lessons="Ask.")
                s.add(imr)
                s.flush()
                for m in range(3):
                    for owner in (imr, police_imr):
                        s.add(ChronologyEntry(imr_id=owner.id, review_id=review_id, occurred_on=dt.date(2025, 1, 1) + dt.timedelta(days=n * 7 + m),
                                              description=f"Contact {n}.{m}.", seen=["Adult A"], staff="Practitioner 2", interviewed=True))
                rec_number += 1
                rec = Recommendation(review_id=review_id, number=rec_number, text=f"Recommendation {rec_number}.", scope="local", imr_id=imr.id)
                s.add(rec)
                s.flush()
                for m in range(2):
                    s.add(Action(recommendation_id=rec.id, review_id=review_id, state="open", workflow_name="action-2011", workflow_version=1,
                                 action=f"Action {n}.{m}.", lead_agency_id=self.world.agencies["police"], target_date=dt.date(2027, 1, 1),
                                 outcome_measure="Staff trained.", milestones="Course written."))
                s.add(Person(review_id=review_id, role="family", name=f"Relative {n}", pseudonym=f"Family member {n}"))
                s.add(Document(review_id=review_id, kind="decision_letter", variant="restricted", version=n, source="generated",
                               filename=f"decision-letter-v{n}.docx", sha256="0" * 64, size=1, created_by_name="Cora Coordinator", content=b"x"))
                change_number += 1
                s.add(QaChange(review_id=review_id, submission_id=submission.id, number=change_number, text=f"Change {change_number}."))


FILTER_VALUES = {
    "state": lambda d: "panel_review", "csp_id": lambda d: d.world.csps["CAMCITY"], "overdue": lambda d: "true",
    "due_before": lambda d: "2027-01-01", "status": lambda d: None,  # status: each value of its enum (below)
    "lead_agency_id": lambda d: d.world.agencies["police"], "review_id": lambda d: d.id, "region": lambda d: "East of England",
    "kind": lambda d: "decision_letter", "imr_id": lambda d: d.subject.imrs["police"], "published": lambda d: "false",
    "email": lambda d: d.world.users["coordinator"].email,
}
PER_LIST_VALUES = {("/actions", "state"): "open"}
STATUS_VALUES = {"/deadlines": ["overdue", "pending", "met"], "/actions": ["pending", "overdue"], "/outbox": ["waiting", "sent"]}


def requests_for(app, data: Data) -> list[tuple[str, str, dict]]:
    """(reader, path, params) for every list and each of its filters alone."""
    out = []
    for template, filters in list_operations(app):
        path = template.format(review_id=data.id, imr_id=data.subject.imrs["police"], csp_id=data.world.csps["CAMCITY"])
        assert "{" not in path, f"{template}: say which record this list is read for in test_query_counts.requests_for"
        who = READER.get(template, "coordinator")
        out.append((who, path, {}))
        out += [(other, path, {}) for other in ALSO_READ_BY.get(template, ())]
        for name in filters:
            assert name in FILTER_VALUES, f"{template}?{name}: add a value for this filter to FILTER_VALUES"
            if name == "status":
                out += [(who, path, {"status": v}) for v in STATUS_VALUES[template]]
            elif (template, name) in PER_LIST_VALUES:
                out.append((who, path, {name: PER_LIST_VALUES[template, name]}))
            else:
                out.append((who, path, {name: FILTER_VALUES[name](data)}))
    return out


def measure_api(api, statements, requests) -> dict:
    results = {}
    clock.set_today(TODAY)
    for who, path, params in requests:
        api.as_(who).get(path, params=params)  # warm: caches filled on a first call are not the list's cost
        with statements.counting() as counted:
            body = ok(api.as_(who).get(path, params=params))
        results[(who, path, tuple(sorted(params.items())))] = (len(counted.statements), len(body["items"]), counted.statements)
    return results


def compare(small: dict, large: dict) -> list[str]:
    problems = []
    for key, (count, rows, _) in small.items():
        big_count, big_rows, big_statements = large[key]
        if big_count > count:
            repeated = max(set(big_statements), key=big_statements.count)
            problems.append(f"{key}: {count} statements for {rows} (rows or bytes), {big_count} for {big_rows}; most repeated: {repeated[:300]}")
    return problems


def test_every_list_of_the_api_runs_the_same_statements_however_long(app, api, world, statements):
    data = Data(api, world)
    requests = requests_for(app, data)
    small = measure_api(api, statements, requests)
    data.grow(reviews=3, per_review=3)
    large = measure_api(api, statements, requests)
    for (who, path, params), (count, rows, _) in small.items():
        print(f"{path} {dict(params)} as {who}: {count} statements for {rows} rows, {large[(who, path, params)][0]} for {large[(who, path, params)][1]}")
    assert not compare(small, large), "\n".join(compare(small, large))
    # The data really grew where it should, so the comparison means something.
    grew = {path for (who, path, params), (count, rows, _) in small.items() if large[(who, path, params)][1] > rows}
    unfiltered = {path for (who, path, params) in small if not params}
    templates = {t for t, _ in list_operations(app)}
    fixed = {t.format(review_id=data.id, imr_id=data.subject.imrs["police"], csp_id=world.csps["CAMCITY"]) for t in templates & FIXED_LENGTH}
    assert unfiltered - fixed <= grew, f"these lists did not grow with the data: {sorted(unfiltered - fixed - grew)}"


# -- the pages --------------------------------------------------------------------------------------
def _sign_in(app, email: str) -> TestClient:
    browser = TestClient(app, base_url="http://127.0.0.1")
    page = browser.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = browser.post("/sign-in", data={"csrf_token": token, "email": email, "password": PASSWORD, "next": "/"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return browser


def pages_for(data: Data) -> list[tuple[str, str]]:
    review = f"/reviews/{data.id}"
    homes = [(who, "/") for who in ("chair", "coordinator", "panel_chair", "police_manager", "police_author", "home_office", "admin")]
    return homes + [
        ("coordinator", "/reviews"), ("coordinator", review), ("panel_chair", f"{review}/imrs"), ("panel_chair", f"{review}/chronology"),
        ("coordinator", f"{review}/people"), ("coordinator", f"{review}/recommendations"), ("coordinator", f"{review}/documents"),
        ("coordinator", f"{review}/submissions"), ("coordinator", f"{review}/proceedings"), ("coordinator", f"{review}/legal-holds"),
        ("panel_chair", f"/imrs/{data.subject.imrs['police']}"), ("police_manager", "/actions"), ("coordinator", "/mail"),
        ("home_office", "/national"), ("admin", "/admin"),
    ]


def measure_pages(app, world, statements, pages) -> dict:
    clock.set_today(TODAY)
    browsers = {who: _sign_in(app, world.users[who].email) for who in {who for who, _ in pages}}
    results = {}
    for who, path in pages:
        browsers[who].get(path)
        with statements.counting() as counted:
            response = browsers[who].get(path)
        assert response.status_code == 200, f"{path} as {who}: {response.status_code}"
        results[(who, path)] = (len(counted.statements), len(response.text), counted.statements)
    return results


def test_every_page_that_lists_runs_the_same_statements_however_long(app, api, world, statements):
    data = Data(api, world)
    pages = pages_for(data)
    small = measure_pages(app, world, statements, pages)
    data.grow(reviews=3, per_review=3)
    large = measure_pages(app, world, statements, pages)
    for key, (count, size, _) in small.items():
        print(f"{key}: {count} statements ({size} bytes), {large[key][0]} ({large[key][1]} bytes)")
    assert not compare(small, large), "\n".join(compare(small, large))
