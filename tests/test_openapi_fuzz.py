"""Property-based run over the published OpenAPI (schemathesis): valid and malformed requests, sent
with real bearer tokens against real ids, never get a 5xx.

Bounded: a few examples per operation and mode, so the whole run takes well under a minute on SQLite.
It runs on SQLite only (the database_url fixture is narrowed to that parameter below)."""
from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.journey import Journey
from tests.support import ok

# Only SQLite: the fuzzing exercises the API layer, which the database engine does not change.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

EXAMPLES = 8
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def case_world(api, world, app):
    """A review well under way, so that real ids exist for every kind of path parameter."""
    j = Journey(api, world).to("panel_review")
    j.advance(1)
    imr_id = j.imrs["police"]
    ids = {
        "review_id": j.id,
        "imr_id": imr_id,
        "recommendation_id": j.recommendations[0],
        "action_id": j.actions[0],
        "user_id": world.user("panel_chair").id,
        "csp_id": world.csps["CAMCITY"],
        "agency_id": world.agencies["police"],
    }
    # Sanity: the ids resolve for the people the fuzzing acts as.
    ok(api.as_("panel_chair").get(f"/reviews/{j.id}"))
    ok(api.as_("coordinator").get(f"/actions/{j.actions[0]}"))
    return j, ids


def _operations(app):
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = []
    for result in schema.get_all_operations():
        operations.append(result.ok())  # an operation the schema cannot describe is itself a failure
    # Revoking the caller's own token ends the session: fuzz that last.
    return sorted(operations, key=lambda op: op.path == "/api/v1/auth/revoke")


@pytest.mark.parametrize("who", ["coordinator", "panel_chair", "admin"])
def test_no_request_gets_a_server_error(app, world, case_world, who):
    _journey, ids = case_world
    token = world.user(who).token
    operations = _operations(app)
    assert len(operations) >= 40
    seen: Counter[int] = Counter()
    server_errors: list[str] = []
    nothing_to_break: list[str] = []

    for operation in operations:
        path_params = {name: ids[name] for name in ids if "{" + name + "}" in operation.path}
        strategies = [
            (GenerationMode.POSITIVE, operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=path_params)),
            (GenerationMode.NEGATIVE, operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=path_params)),
        ]
        if path_params:  # also random ids, which must be a clean 404 or 422
            strategies.append((GenerationMode.POSITIVE, operation.as_strategy(generation_mode=GenerationMode.POSITIVE)))

        for mode, strategy in strategies:
            @FUZZ_SETTINGS
            @given(case=strategy)
            def run(case):
                response = case.call(headers={"Authorization": f"Bearer {token}"})
                seen[response.status_code] += 1
                if response.status_code >= 500:
                    server_errors.append(
                        f"{case.method} {case.formatted_path} query={case.query} headers={case.headers} "
                        f"body={case.body!r} -> {response.status_code} {response.text[:300]}"
                    )

            try:
                run()
            except Unsatisfiable:
                # An operation without parameters or body (or only fixed ids) has nothing to make invalid.
                assert mode is GenerationMode.NEGATIVE, f"no valid request could be made for {operation.label}"
                nothing_to_break.append(operation.label)

    assert not server_errors, "\n".join(server_errors[:20])
    # The run reached the application, not just its validation: some requests succeeded.
    assert any(200 <= status < 300 for status in seen), seen
    assert seen[401] < sum(seen.values()) / 20, seen  # the token was sent and honoured
    assert seen[422] > 0, seen
    assert len(nothing_to_break) < len(operations) / 2, nothing_to_break
