"""Property-based run over the published OpenAPI (schemathesis), as every kind of person.

For each role (and anonymous), valid and malformed requests are sent with that person's real bearer
token against real ids, and every response is checked against the OpenAPI document: never a 5xx,
the status code documented for the operation, the content type documented for that status, and
the body valid against the documented schema. Anonymous callers must get 401 from every operation
the document says needs a bearer token (a body that cannot be read at all is refused first, 400/422).
Runs on SQLite and PostgreSQL, which refuse different things (a NUL character, say).

Bounded: a few examples per operation and kind (no shrinking): about two minutes per database on
two CPUs. A failure prints the request as curl, to reproduce it.
"""
from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from app.auth.models import User
from app.core.db import session_scope
from app.notifications import calendar
from app.notifications.models import OutboxMessage
from app.submissions.models import QaChange, Submission
from tests.journey import Journey
from tests.support import ok

# Examples per operation: valid requests with real ids, malformed requests, valid requests with made-up ids.
EXAMPLES = {"valid": 4, "malformed": 3, "made-up ids": 2}


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
        suppress_health_check=list(HealthCheck),
    )


CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# One person per role of tests/support.py (panel roles are held on both reviews below).
ROLES = [
    "anonymous", "admin", "coordinator", "chair", "panel_chair", "panel_member", "police_author",
    "police_manager", "home_office",
]
# Path parameters that only the submitted review has.
SUBMISSION_PARAMS = ("number", "change_id")
REVOKE = "/api/v1/auth/revoke"
SIGN_IN = "/api/v1/auth/token"  # takes no token: fuzzed once, as anonymous (each try costs an argon2 hash)


def _review_ids(api, world, j: Journey) -> dict[str, object]:
    """Real ids of everything one review holds, by the path parameter names of the OpenAPI."""
    ids: dict[str, object] = {
        "review_id": j.id,
        "imr_id": j.imrs["police"],
        "recommendation_id": j.recommendations[0],
        "action_id": j.actions[0],
        "user_id": world.user("panel_chair").id,
        "csp_id": world.csps["CAMCITY"],
        "agency_id": world.agencies["police"],
        "kind": "executive_summary",
    }
    letters = ok(api.as_("panel_chair").get(f"/reviews/{j.id}/documents", params={"kind": "imr_commission_letter", "imr_id": j.imrs["police"]}))
    ids["document_id"] = letters["items"][0]["id"]
    ids["proceeding_id"] = ok(api.as_("coordinator").post(f"/reviews/{j.id}/proceedings", json={
        "kind": "inquest", "description": "Inquest opened and adjourned"}), 201)["id"]
    ids["hold_id"] = ok(api.as_("coordinator").post(f"/reviews/{j.id}/legal-holds", json={
        "reason": "A civil claim against an agency is expected."}), 201)["id"]
    with session_scope() as session:
        ids["message_id"] = session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.review_id == j.id, OutboxMessage.kind == "imr_commissioned").limit(1)
        ).one()
    return ids


@pytest.fixture
def case_world(api, world):
    """Two reviews of CAMCITY: one in panel review (most parts editable) and one submitted to the
    Home Office (with a QA change asked for), so real ids exist for every path parameter."""
    drafting = Journey(api, world).to("panel_review")
    submitted = Journey(api, world).to("submitted")
    ids = {"panel_review": _review_ids(api, world, drafting), "submitted": _review_ids(api, world, submitted)}
    with session_scope() as session:
        submission = session.scalars(select(Submission).where(Submission.review_id == submitted.id)).one()
        change = QaChange(review_id=submitted.id, submission_id=submission.id, number=1, text="Remove the month of death.")
        session.add(change)
        session.flush()
        ids["submitted"].update(number=submission.number, change_id=change.id)
    # Sanity: the ids resolve for the people the fuzzing acts as.
    ok(api.as_("panel_member").get(f"/reviews/{drafting.id}"))
    ok(api.as_("police_author").get(f"/imrs/{drafting.imrs['police']}"))
    ok(api.as_("home_office").get(f"/reviews/{submitted.id}"))
    return ids


def _calendar_token(user_id: str) -> str:
    with session_scope() as session:
        return calendar.token_for(session.get(User, user_id))


def _operations(app):
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]  # an undescribable operation fails here
    # Revoking the caller's own token ends the session: fuzz that last.
    return sorted(operations, key=lambda op: op.path == REVOKE)


def _needs_token(operation) -> bool:
    return bool(operation.definition.raw.get("security", operation.schema.raw_schema.get("security")))


def _curl(case) -> str:
    """The request, to reproduce a failure (the token is left out)."""
    return case.as_curl_command(headers={"Authorization": "Bearer <token>"})[:600]


def _describe(failure: Failure) -> str:
    return f"{failure.title}: {' '.join(str(failure.message).split())[:400]}"


@pytest.mark.parametrize("who", ROLES)
def test_every_response_matches_the_openapi(app, world, case_world, who):
    token = None if who == "anonymous" else world.user(who).token
    review = "submitted" if who == "home_office" else "panel_review"
    calendar_owner = world.user("coordinator" if who == "anonymous" else who).id
    operations = _operations(app)
    assert len(operations) >= 70
    seen: Counter[tuple[GenerationMode, int]] = Counter()
    failures: dict[tuple[str, int, str], str] = {}
    let_in: list[str] = []  # anonymous requests to operations that need a token, answered other than 401
    token_refused: list[str] = []  # valid requests with a live token, answered 401
    nothing_to_break: list[str] = []

    for operation in operations:
        if token and operation.path == SIGN_IN:
            continue
        ids = dict(case_world["submitted" if any("{" + p + "}" in operation.path for p in SUBMISSION_PARAMS) else review])
        ids["token"] = _calendar_token(calendar_owner)  # reset by POST /auth/me/calendar/reset, so read afresh
        path_params = {name: value for name, value in ids.items() if "{" + name + "}" in operation.path}
        assert operation.path.count("{") == len(path_params), f"give the fixture a real id for each parameter of {operation.path}"
        strategies = [
            ("valid", GenerationMode.POSITIVE, operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=path_params)),
            ("malformed", GenerationMode.NEGATIVE, operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=path_params)),
        ]
        if path_params:  # also made-up ids, which must be a clean 404 or 422
            strategies.append(("made-up ids", GenerationMode.POSITIVE, operation.as_strategy(generation_mode=GenerationMode.POSITIVE)))
        needs_token = _needs_token(operation)

        for kind, mode, strategy in strategies:
            @_settings(EXAMPLES[kind])
            @given(case=strategy)
            def run(case):
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                if not token:
                    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
                try:
                    response = case.call(headers=headers)
                except Exception as exc:  # the app raised: in production, a 500
                    failures.setdefault((operation.label, 500, type(exc).__name__), f"{operation.label} ({kind}) raised {exc!r}\n    {_curl(case)}")
                    return
                seen[mode, response.status_code] += 1
                if who == "anonymous" and needs_token and response.status_code != 401:
                    # Only a body that cannot be read at all is refused before the token is looked at.
                    if not (mode is GenerationMode.NEGATIVE and response.status_code in (400, 422)):
                        let_in.append(f"{case.method} {case.formatted_path} ({kind}) -> {response.status_code} {response.text[:200]}")
                if token and needs_token and mode is GenerationMode.POSITIVE and response.status_code == 401 and operation.path != REVOKE:
                    token_refused.append(f"{case.method} {case.formatted_path} -> {response.text[:200]}")
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except FailureGroup as group:
                    for failure in group.exceptions:
                        key = (operation.label, response.status_code, failure.title)
                        failures.setdefault(key, f"{operation.label} ({kind}) -> {response.status_code} {_describe(failure)}\n    {_curl(case)}")

            try:
                run()
            except Unsatisfiable:
                # An operation without parameters or body (or only fixed ids) has nothing to make invalid.
                assert mode is GenerationMode.NEGATIVE, f"no valid request could be made for {operation.label}"
                nothing_to_break.append(operation.label)

    assert not failures, f"{len(failures)} responses do not match the OpenAPI:\n" + "\n".join(sorted(failures.values())[:60])
    assert len(nothing_to_break) < len(operations) / 2, nothing_to_break
    positive = Counter({status: n for (mode, status), n in seen.items() if mode is GenerationMode.POSITIVE})
    negative = Counter({status: n for (mode, status), n in seen.items() if mode is GenerationMode.NEGATIVE})
    if who == "anonymous":
        assert not let_in, "\n".join(let_in[:30])
        assert positive[401] > sum(positive.values()) * 0.9, seen
        return
    # The run reached the application, not just its validation: valid requests succeeded, the token was
    # sent and honoured (until it revoked itself, last), malformed ones were refused.
    assert any(200 <= status < 300 for status in positive), seen
    assert not token_refused, "\n".join(token_refused[:20])
    assert negative[422] > 0, seen


def test_a_value_the_database_cannot_store_is_refused_clearly(api, world, database_url):
    """Found by the run above: PostgreSQL refuses a NUL character in text, which was a 500."""
    body = {
        "csp_id": world.csps["CAMCITY"], "notified_on": "2026-01-05", "notified_by": "Exampleshire Constabulary",
        "date_of_death": "2026-01-02", "death_type": "homicide", "relationship": "intimate_partner",
        "victim_age": 34, "summary": "Invented case\x00 for tests.",
    }
    response = api.as_("coordinator").post("/reviews", json=body)
    if database_url.startswith("postgresql"):
        assert response.status_code == 422, response.text
        assert "NUL character" in response.json()["detail"]
        assert ok(api.as_("coordinator").get("/reviews"))["total"] == 0  # nothing was stored
    else:  # SQLite stores it as sent
        assert response.status_code == 201, response.text
