"""Who may call what: every operation of /api/v1, as every kind of person, in every state that matters.

The access policy under test is tests/access_policy.yaml: a table per review state, one row per
operation (optionally a variant of it, after '#'), one column per person of tests/support.py. The
operations are read from app.openapi(): one without a row, a row for an operation the app no longer
has, a state the file lacks, or a review operation left out of a state whose case supplies its ids,
fails `test_every_operation_has_an_expectation`. See the file's header for the codes and the policy.
"""
from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import docx
import pytest
import yaml
from sqlalchemy import select

from app.auth.models import ApiToken, User
from app.auth.security import new_token, token_digest
from app.core import clock
from app.core.db import session_scope
from app.documents import templates
from app.documents.service import DOCX
from app.notifications import calendar
from app.notifications.models import OutboxMessage
from app.partnerships.models import Agency
from app.submissions.models import QaChange, Submission
from tests.journey import Journey
from tests.support import PASSWORD, Person, password_hash, ok

PREFIX = "/api/v1"
POLICY_FILE = Path(__file__).with_name("access_policy.yaml")
CODES = {"2", "w", "401", "403", "404"}
# The states the policy must cover, each built by build_case below. "other_partnership" is a FENLAND
# review: CAMCITY's people (and its panel) are the outsiders there, FENLAND's officers the insiders.
STATES = ("notified", "evidence", "drafting", "submitted", "published", "other_partnership")
# The path ids each state's case supplies: every review operation whose ids are all here needs a row there.
_COMMON_IDS = {"review_id", "proceeding_id", "message_id", "hold_id"}
_IMR_IDS = _COMMON_IDS | {"imr_id", "document_id"}
_PLAN_IDS = _IMR_IDS | {"recommendation_id", "action_id"}
STATE_IDS = {
    "notified": _COMMON_IDS,
    "evidence": _IMR_IDS,
    "drafting": _PLAN_IDS,
    "submitted": _PLAN_IDS | {"number", "change_id"},
    "published": _PLAN_IDS | {"number", "change_id"},
    "other_partnership": _IMR_IDS,
}
REVIEW_PATHS = {"reviews", "imrs", "recommendations", "actions", "documents", "outbox", "proceedings", "qa-changes", "legal-holds"}


def load_policy(path: Path = POLICY_FILE) -> tuple[list[str], dict[str, str], dict[str, dict[str, str]]]:
    """(principals, the global table, {state: table}); each table maps a row key to its codes as written."""
    policy = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(policy) == {"principals", "global", "states"}, f"{path.name}: top-level keys must be principals, global and states"
    principals = list(policy["principals"])
    tables = [("global", policy["global"]), *policy["states"].items()]
    for name, table in tables:
        assert isinstance(table, dict) and table, f"{path.name}: {name} must be a table of rows"
        for key, codes in table.items():
            assert re.fullmatch(r"(GET|POST|PUT|PATCH|DELETE) /\S+", key), f"{path.name}: {name}: {key!r} is not 'METHOD /path'"
            cells = str(codes).split()
            assert len(cells) == len(principals), f"{path.name}: {name}: {key}: {len(cells)} columns, expected {len(principals)}"
            assert set(cells) <= CODES, f"{path.name}: {name}: {key}: codes must be among {sorted(CODES)}"
    return principals, {k: str(v) for k, v in policy["global"].items()}, {s: {k: str(v) for k, v in t.items()} for s, t in policy["states"].items()}


ROLES, GLOBAL, SCENARIOS = load_policy()


def _parse(table: dict[str, str]) -> dict[str, dict[str, str]]:
    parsed = {}
    for op, codes in table.items():
        cells = codes.split()
        assert len(cells) == len(ROLES), f"{op}: {len(cells)} columns, expected {len(ROLES)}"
        assert set(cells) <= {"2", "w", "401", "403", "404"}, op
        parsed[op] = dict(zip(ROLES, cells))
    return parsed


def _operation(key: str) -> str:
    return key.split("#", 1)[0]


def _matches(expected: str, status: int) -> bool:
    if expected == "2":
        return 200 <= status < 300
    if expected == "w":
        return 200 <= status < 300 or status in (409, 422)
    return status == int(expected)


# -- the fixture data ------------------------------------------------------------------------------
@dataclass
class Case:
    api: Any
    world: Any
    journey: Journey
    ids: dict[str, str] = field(default_factory=dict)
    serial: itertools.count = field(default_factory=lambda: itertools.count(1))
    reader: str = "panel_chair"  # someone who may read everything of the review (for ETags)

    def token_for(self, role: str) -> str | None:
        return None if role == "anonymous" else self.world.user(role).token

    def fresh_token(self, role: str) -> str | None:
        """A throwaway token, for calls that end the token they use (sign-out)."""
        if role == "anonymous":
            return None
        token = new_token()
        with session_scope() as session:
            session.add(ApiToken(user_id=self.world.user(role).id, token_hash=token_digest(token), expires_at=clock.now() + dt.timedelta(hours=1)))
        return token

    def etag(self, path: str, who: str) -> str:
        response = self.api.as_(who).get(path)
        assert response.status_code == 200, response.text
        return response.headers["ETag"]


def _extra_user(key: str) -> str:
    with session_scope() as session:
        user = User(email=f"{key}@dhr.example", name=f"Spare {key}", password_hash=password_hash())
        session.add(user)
        session.flush()
        return user.id


def _signed_in_extra(world, key: str, name: str) -> Person:
    """Another person with a token (no role of their own), added to the world as `key`."""
    token = new_token()
    with session_scope() as session:
        user = User(email=f"{key}@dhr.example", name=name, password_hash=password_hash())
        session.add(user)
        session.flush()
        session.add(ApiToken(user_id=user.id, token_hash=token_digest(token), expires_at=clock.now() + dt.timedelta(days=3650)))
        world.users[key] = Person(key=key, id=user.id, email=user.email, name=name, token=token)
    return world.users[key]


def fenland_in_evidence(api, world) -> Journey:
    """A FENLAND review in evidence with the police's IMR commissioned, chaired by someone on no CAMCITY panel."""
    chair = _signed_in_extra(world, "fen_panel_chair", "Fern Fenchair")
    j = Journey(api, world, csp="FENLAND")
    j.decide()
    j.advance(5)
    ok(api.as_("other_coordinator").post(f"/reviews/{j.id}/people", json={"role": "victim", "name": "Vera Fenvictim", "pseudonym": "Adult C"}), 201)
    ok(api.as_("other_coordinator").post(f"/reviews/{j.id}/panel", json={
        "user_id": chair.id, "role": "chair", "independence_statement": "I have no connection with any agency involved."}), 201)
    ok(api.as_("fen_panel_chair").put(f"/reviews/{j.id}/terms-of-reference", json={
        "period_from": "2023-01-01", "period_to": j.day.isoformat(), "key_lines_of_enquiry": ["What did agencies know?"],
        "coercive_control": True, "equality_and_diversity": True, "suicide": False,
        "family_involvement": "The family will be invited to contribute.", "text": "Terms of reference."}))
    j.fire("fen_panel_chair", "agree_terms_of_reference")
    j.advance(1)
    j.imrs["police"] = ok(api.as_("fen_panel_chair").post(f"/reviews/{j.id}/imrs", json={"agency_id": world.agencies["police"]}), 201)["id"]
    return j


def _extra_agency() -> str:
    with session_scope() as session:
        agency = Agency(name="Example Academy Trust", kind="education", email="school@agency.example")
        session.add(agency)
        session.flush()
        return agency.id


def _plain_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("The agency's IMR, written outside the service.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def build_case(api, world, scenario: str) -> Case:
    if scenario == "other_partnership":
        j = fenland_in_evidence(api, world)
    else:
        j = Journey(api, world)
        if scenario == "evidence":
            j.to("evidence")
            j.commission()
        elif scenario != "notified":
            j.to(scenario)
    fenland = scenario == "other_partnership"
    # Who reads for ETags: someone who may see everything of the review (before scoping there is no panel).
    reader = "fen_panel_chair" if fenland else "coordinator" if scenario == "notified" else "panel_chair"
    case = Case(api=api, world=world, journey=j, reader=reader)
    reader, coordinator = api.as_(case.reader), api.as_(j.coordinator)
    ids = case.ids
    ids["review_id"] = j.id
    ids["user_id"] = _extra_user("spare")
    ids["panel_candidate"] = _extra_user("candidate")
    ids["spare_agency"] = _extra_agency()
    ids["csp_id"] = world.csps["CAMCITY"]
    ids["agency_id"] = world.agencies["police"]
    ids["kind"] = "executive_summary"
    with session_scope() as session:
        messages = select(OutboxMessage.id).where(OutboxMessage.review_id == j.id).order_by(OutboxMessage.created_at, OutboxMessage.id)
        if j.imrs:
            messages = messages.where(OutboxMessage.kind == "imr_commissioned")
        ids["message_id"] = session.scalars(messages.limit(1)).one()
        ids["token"] = calendar.token_for(session.get(User, world.user("coordinator").id))
    if j.imrs:
        ids["imr_id"] = j.imrs["police"]
        if "health" in j.imrs:
            ids["imr_id#health"] = j.imrs["health"]
        letters = ok(reader.get(f"/reviews/{j.id}/documents", params={"kind": "imr_commission_letter", "imr_id": j.imrs["police"]}))
        ids["document_id"] = letters["items"][0]["id"]
        ids["document_id#report"] = ok(reader.post(f"/reviews/{j.id}/documents", json={"kind": "overview_report"}), 201)["id"]
    if scenario == "drafting":
        chair = api.as_("panel_chair")
        rec = ok(chair.post(f"/reviews/{j.id}/recommendations", json={"text": "Share risk information.", "scope": "local", "imr_id": j.imrs["police"]}), 201)
        target = (clock.today() + dt.timedelta(days=90)).isoformat()
        police = ok(chair.post(f"/recommendations/{rec['id']}/actions", json={
            "action": "Train officers.", "lead_agency_id": world.agencies["police"], "target_date": target,
            "outcome_measure": "90% trained."}), 201)
        probation = ok(chair.post(f"/recommendations/{rec['id']}/actions", json={
            "action": "Review supervision of perpetrators.", "lead_agency_id": world.agencies["probation"], "target_date": target,
            "outcome_measure": "Audit complete."}), 201)
        ids["recommendation_id"] = rec["id"]
        ids["action_id"] = police["id"]
        ids["action_id#probation"] = probation["id"]
    elif scenario in ("submitted", "published"):
        ids["recommendation_id"] = j.recommendations[0]
        ids["action_id"] = j.actions[0]
        with session_scope() as session:
            submission = session.scalars(select(Submission).where(Submission.review_id == j.id)).one()
            change = QaChange(review_id=j.id, submission_id=submission.id, number=1, text="Remove the month of death.")
            session.add(change)
            session.flush()
            ids["change_id"] = change.id
    if scenario == "published":
        published = ok(reader.get(f"/reviews/{j.id}/documents", params={"published": "true", "kind": "overview_report"}))["items"]
        ids["document_id#published"] = published[0]["id"]
        ids["review_event"] = "conclude"
        ok(coordinator.put(f"/reviews/{j.id}/submissions/1/letter", files={"file": ("letter.docx", _plain_docx(), DOCX)}))
    ids["number"] = 1
    ids["proceeding_id"] = ok(coordinator.post(f"/reviews/{j.id}/proceedings", json={
        "kind": "criminal_trial", "description": "Trial at the Crown Court"}), 201)["id"]
    ids["hold_id"] = ok(coordinator.post(f"/reviews/{j.id}/legal-holds", json={"reason": "An inquest may ask for the records."}), 201)["id"]
    return case


# -- one request per operation ---------------------------------------------------------------------
Request = tuple[str, str, dict[str, Any]]
PATH_IDS = (
    "review_id", "imr_id", "recommendation_id", "action_id", "user_id", "csp_id", "agency_id", "document_id", "kind",
    "message_id", "token", "proceeding_id", "number", "change_id", "hold_id",
)


def _build(case: Case, key: str, role: str) -> tuple[Request, str | None]:
    """The request for one table row, and the token to send (None: none)."""
    ids = case.ids
    n = next(case.serial)
    op = _operation(key)
    method, template = op.split(" ", 1)
    variant = key.split("#", 1)[1] if "#" in key else None
    # "GET /imrs/{imr_id}#health" takes ids["imr_id#health"]; a variant without its own id takes the plain one.
    path = template.format_map({name: ids.get(f"{name}#{variant}", ids.get(name)) for name in PATH_IDS})
    token = case.token_for(role)
    today = clock.today()
    kwargs: dict[str, Any] = {}
    bodies: dict[str, Callable[[], Any]] = {
        "POST /users": lambda: {"email": f"new{n}@dhr.example", "name": "New Person", "password": "a long enough passphrase", "roles": [{"role": "home_office"}]},
        "PATCH /users/{user_id}": lambda: {"name": f"Spare renamed {n}"},
        "PATCH /reviews/{review_id}": lambda: {"themes": [f"Learning theme {n}"]},
        "POST /csps": lambda: {"name": f"Partnership {n}", "code": f"NEW{n}", "region": "East of England"},
        "POST /agencies": lambda: {"name": f"Agency {n}", "kind": "voluntary", "email": f"agency{n}@agency.example"},
        "POST /reviews": lambda: {
            "csp_id": ids["csp_id"], "notified_on": today.isoformat(), "notified_by": "Exampleshire Constabulary",
            "date_of_death": (today - dt.timedelta(days=2)).isoformat(), "death_type": "homicide",
            "relationship": "ex_partner", "victim_age": 40, "summary": "Invented case for tests."},
        # An event of this state without its required data (allowed roles: 422; others 403).
        "POST /reviews/{review_id}/events": lambda: (
            {"event": "qa_clear_subject_to_changes", "data": {}} if key.endswith("#qa") else {"event": ids.get("review_event", "record_criminal_proceedings"), "data": {}}),
        "POST /reviews/{review_id}/people": lambda: {"role": "other", "name": f"Nina Neighbour {n}", "pseudonym": f"Neighbour {n}"},
        "POST /reviews/{review_id}/panel": lambda: {"user_id": ids["panel_candidate"], "role": "member"},
        "PUT /reviews/{review_id}/terms-of-reference": lambda: {
            "period_from": "2023-01-01", "period_to": "2026-01-01", "key_lines_of_enquiry": ["What did agencies know?"],
            "coercive_control": True, "equality_and_diversity": True, "family_involvement": "Invited.", "text": "Revised."},
        "POST /reviews/{review_id}/imrs": lambda: {"agency_id": ids["spare_agency"]},
        "PATCH /imrs/{imr_id}": lambda: {"methodology": f"Records reviewed ({n})."},
        "POST /imrs/{imr_id}/events": lambda: {"event": "acknowledge", "data": {}},
        "POST /imrs/{imr_id}/chronology": lambda: {"occurred_on": "2025-06-01", "description": f"Contact {n}.", "seen": ["Adult A"]},
        "PATCH /reviews/{review_id}/overview": lambda: {"facts": f"The facts, draft {n}."},
        "POST /reviews/{review_id}/recommendations": lambda: {"text": f"Recommendation {n}.", "scope": "local"},
        "POST /recommendations/{recommendation_id}/actions": lambda: {
            "action": f"Action {n}.", "lead_agency_id": ids["agency_id"], "target_date": (today + dt.timedelta(days=60)).isoformat(),
            "outcome_measure": "Measured."},
        "PATCH /actions/{action_id}": lambda: {"milestones": f"Milestone {n}."},
        "POST /actions/{action_id}/events": lambda: {"event": "complete", "data": {}},
        "POST /reviews/{review_id}/documents": lambda: {"kind": "overview_report"},
        "POST /reviews/{review_id}/proceedings": lambda: {"kind": "inquest", "description": f"Inquest {n}"},
        "PATCH /proceedings/{proceeding_id}": lambda: {"description": f"Trial at the Crown Court ({n})"},
        "POST /qa-changes/{change_id}/events": lambda: {"event": "made", "text": "Done."},
        "PATCH /csps/{csp_id}": lambda: {"region": "East of England"},
        "POST /reviews/{review_id}/legal-holds": lambda: {"reason": f"Civil claim {n} notified by the family's solicitors."},
        "POST /legal-holds/{hold_id}/lift": lambda: {"reason": "The claim was settled."},
    }
    uploads: dict[str, Callable[[], bytes]] = {
        "POST /imrs/{imr_id}/documents": _plain_docx,
        "PUT /csps/{csp_id}/templates/{kind}": lambda: templates.statutory("executive_summary").content,
        "PUT /reviews/{review_id}/submissions/{number}/letter": _plain_docx,
    }
    if op == "POST /auth/token":
        user = case.world.user("coordinator" if role == "anonymous" else role)
        kwargs["data"] = {"username": user.email, "password": PASSWORD}
        token = None
    elif op == "POST /auth/revoke":
        token = case.fresh_token(role)
    elif op in bodies:
        kwargs["json"] = bodies[op]()
    elif op in uploads:
        kwargs["files"] = {"file": ("upload.docx", uploads[op](), DOCX)}
    elif op == "GET /csps/{csp_id}/quarterly-report":
        kwargs["params"] = {"quarter": f"{today.year}Q{(today.month - 1) // 3 + 1}", "format": "json"}
    if method == "PATCH" and op != "PATCH /users/{user_id}":
        reader = "police_manager" if op == "PATCH /imrs/{imr_id}" else case.reader
        kwargs["headers"] = {"If-Match": case.etag(path, reader)}
    return (method, path, kwargs), token


def _call(case: Case, request: Request, token: str | None):
    method, path, kwargs = request
    headers = {**kwargs.pop("headers", {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return case.api.client.request(method, PREFIX + path, headers=headers, **kwargs)


def _check_table(case: Case, table: dict[str, dict[str, str]]) -> list[str]:
    problems = []
    invisible = {r for r, code in table.get("GET /reviews/{review_id}", {}).items() if code == "404"}
    for key, row in table.items():
        for role in ROLES:
            request, token = _build(case, key, role)
            response = _call(case, request, token)
            expected = row[role]
            if not _matches(expected, response.status_code):
                problems.append(f"{key:55} {role:18} expected {expected:3} got {response.status_code}: {response.text[:160]}")
            elif response.status_code == 404 and role in invisible and "part of the review" in response.text:
                problems.append(f"{key:55} {role:18} 404 reveals that the review exists: {response.text[:160]}")
            elif response.status_code == 401 and not response.json().get("detail"):
                problems.append(f"{key:55} {role:18} 401 without a detail")
    return problems


# -- the tests -------------------------------------------------------------------------------------
def _api_operations(app) -> set[str]:
    """Every operation under /api/v1: those of app.openapi(), and any route left out of it."""
    operations = set()
    for path, item in app.openapi()["paths"].items():
        if not path.startswith(PREFIX):
            continue
        for method in item:
            if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                operations.add(f"{method.upper()} {path[len(PREFIX):]}")
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith(PREFIX) and path != f"{PREFIX}/openapi.json":
            for method in getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}:
                operations.add(f"{method} {path[len(PREFIX):]}")
    return operations


def _path_ids(op: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", op))


def test_every_operation_has_an_expectation(app):
    """Fails when an endpoint is added without a row in tests/access_policy.yaml, a row goes stale, or a state is missing."""
    operations = _api_operations(app)
    covered = set(GLOBAL) | {_operation(k) for table in SCENARIOS.values() for k in table}
    missing = sorted(operations - covered)
    stale = sorted(covered - operations)
    assert not missing, f"operations with no row in {POLICY_FILE.name} (add one per principal): " + ", ".join(missing)
    assert not stale, f"rows in {POLICY_FILE.name} for operations the app no longer has: " + ", ".join(stale)
    assert not set(STATES) - set(SCENARIOS), f"states with no table in {POLICY_FILE.name}: {sorted(set(STATES) - set(SCENARIOS))}"
    assert not set(SCENARIOS) - set(STATES), f"tables in {POLICY_FILE.name} for states this test cannot build: {sorted(set(SCENARIOS) - set(STATES))}"
    review_scoped = {op for op in operations if "{" in op and op.split(" ", 1)[1].split("/")[1] in REVIEW_PATHS}
    assert not set(GLOBAL) & review_scoped, f"review operations belong in the states' tables: {sorted(set(GLOBAL) & review_scoped)}"
    assert operations - review_scoped <= set(GLOBAL), f"operations not about one review belong in global: {sorted(operations - review_scoped - set(GLOBAL))}"
    for state, table in SCENARIOS.items():
        rows = {_operation(k) for k in table}
        assert rows <= review_scoped, f"{state}: {sorted(rows - review_scoped)} belong in global"
        # Every review operation whose ids this state's case supplies is checked in it, and no other.
        needed = {op for op in review_scoped if _path_ids(op) <= STATE_IDS[state]}
        assert needed <= rows, f"{state}: no row for {sorted(needed - rows)}"
        assert rows <= needed, f"{state}: rows for operations whose ids this state's case does not supply: {sorted(rows - needed)}"


@pytest.mark.parametrize("scenario", STATES)
def test_each_role_gets_what_the_policy_says(api, world, scenario):
    case = build_case(api, world, scenario)
    assert STATE_IDS[scenario] <= set(case.ids), f"the {scenario} case lacks {sorted(STATE_IDS[scenario] - set(case.ids))}"
    table = _parse(SCENARIOS[scenario])
    if scenario == "evidence":  # the operations that are not about one review: once is enough
        table = {**_parse(GLOBAL), **table}
    problems = _check_table(case, table)
    assert not problems, f"{len(problems)} calls disagree with the policy ({scenario}):\n" + "\n".join(problems)


def _ids(response) -> set[str]:
    return {item["id"] for item in ok(response)["items"]}


def test_lists_show_only_what_each_role_may_open(api, world):
    """Lists are the easy place to leak: each shows exactly the items the person could open."""
    fen = Journey(api, world, csp="FENLAND")
    cam = Journey(api, world).to("evidence")
    cam.commission()
    reviews = {"cam": cam.id, "fen": fen.id}
    sees = {
        "admin": set(), "home_office": set(), "coordinator": {"cam"}, "chair": {"cam"},
        "other_coordinator": {"fen"}, "other_chair": {"fen"}, "panel_chair": {"cam"}, "panel_member": {"cam"},
        "police_author": {"cam"}, "police_manager": {"cam"}, "health_author": {"cam"}, "housing_author": set(),
        "probation_manager": set(),
    }
    for role, expected in sees.items():
        listed = _ids(api.as_(role).get("/reviews"))
        assert listed == {reviews[k] for k in expected}, role
        for key, review_id in reviews.items():
            status = api.as_(role).get(f"/reviews/{review_id}").status_code
            assert status == (200 if key in expected else 404), (role, key, status)
        deadlines = ok(api.as_(role).get("/deadlines"))["items"]
        assert {d["review_id"] for d in deadlines} <= {reviews[k] for k in expected}, role
    # Agency staff: only their own agency's IMRs, in the list and among the deadlines.
    imrs = {"police_author": {"police"}, "police_manager": {"police"}, "health_author": {"health"}, "coordinator": {"police", "health"}, "panel_member": {"police", "health"}}
    for role, agencies in imrs.items():
        listed = ok(api.as_(role).get(f"/reviews/{cam.id}/imrs"))["items"]
        assert {i["agency_id"] for i in listed} == {world.agencies[a] for a in agencies}, role
    police_deadlines = ok(api.as_("police_author").get("/deadlines"))["items"]
    assert {d["subject_id"] for d in police_deadlines} == {cam.imrs["police"]}
    assert {d["kind"] for d in ok(api.as_("coordinator").get("/deadlines"))["items"]} >= {"imr", "overview_report"}
    # The CSP's officers may look people up (to build a panel); nobody else but the administrator.
    assert ok(api.as_("other_coordinator").get("/users", params={"email": "chair@dhr.example"}))["total"] == 1


def test_agency_staff_and_the_home_office_see_what_they_need_of_a_review(api, world):
    j = Journey(api, world).to("submitted")
    coordinator = ok(api.as_("coordinator").get(f"/reviews/{j.id}"))
    assert coordinator["summary"] and coordinator["decision_rationale"]
    for role in ("police_author", "police_manager", "health_author"):
        seen = ok(api.as_(role).get(f"/reviews/{j.id}"))
        assert seen["summary"] is None and seen["decision_rationale"] is None, role
        assert seen["reference"] == coordinator["reference"]
        assert {d["subject_id"] for d in seen["deadlines"]} <= set(j.imrs.values()) | set(j.actions), role
    home_office = ok(api.as_("home_office").get(f"/reviews/{j.id}"))
    assert home_office["summary"] == coordinator["summary"]
    assert _ids(api.as_("home_office").get("/reviews")) == {j.id}
    # The Home Office clears the report; a probation manager whose agency leads nothing still sees nothing.
    ok(api.as_("home_office").post(f"/reviews/{j.id}/events", json={"event": "qa_clear", "data": {"received_on": clock.today().isoformat(), "letter": "QA ok"}}))
    assert api.as_("probation_manager").get(f"/reviews/{j.id}").status_code == 404


def test_the_history_gives_the_home_office_no_imr_content(api, world):
    """The Home Office may read a submitted review's history, but never what the IMRs say."""
    j = Journey(api, world).to("submitted")
    analysis = "Contact was appropriate but risk was not assessed."  # written into each IMR by the journey
    team = ok(api.as_("chair").get(f"/reviews/{j.id}/events"))["items"]
    assert any(analysis in str(e["changes"]) for e in team), "the case team's history records the IMR edits"
    history = ok(api.as_("home_office").get(f"/reviews/{j.id}/events"))["items"]
    assert [e["seq"] for e in history] == [e["seq"] for e in team]  # the same entries, so timeliness shows
    for entry in history:
        if entry["entity_type"] in ("imr", "chronology_entry"):
            assert entry["changes"] == {} and entry["data"] == {} and entry["note"] is None, entry
    assert not any(analysis in str(e) or "Ivy Independent" in str(e) for e in history)
