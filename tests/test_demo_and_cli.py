"""The `dhr` command line: `demo`, `create-user` and `migrate`, run in process against the test database."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

import app.models  # noqa: F401  (every mapper, for the queries below)
from app.audit import service as audit
from app.audit.models import HistoryEntry
from app.auth.models import User
from app.cli import app as cli_app
from app.core import clock
from app.core.db import session_scope
from app.deadlines.models import Deadline
from app.deadlines.rules import status_of
from app.demo import DEMO_PASSWORD, USERS
from app.documents.readiness import run_checks
from app.imrs.models import Imr
from app.reviews.models import Review
from tests.support import ok

runner = CliRunner()
STAGES = {
    "notified", "not_reviewed", "scoping", "evidence", "drafting", "panel_review", "csp_signoff",
    "submitted", "cleared", "published", "concluded", "pended",
}


def dhr(*args: str):
    return runner.invoke(cli_app, list(args))


def counts() -> dict[str, int]:
    with session_scope() as session:
        return {
            "users": session.scalar(select(func.count()).select_from(User)),
            "reviews": session.scalar(select(func.count()).select_from(Review)),
            "history": session.scalar(select(func.count()).select_from(HistoryEntry)),
        }


def sign_in(client, email: str, password: str) -> dict[str, str]:
    token = ok(client.post("/api/v1/auth/token", data={"username": email, "password": password}))["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_demo_loads_a_county_and_a_second_run_changes_nothing(database_url, client):
    result = dhr("demo")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Creating partnerships... 6 done" in out
    assert re.search(r"^Review 1/\d+: DHR-20\d\d-[A-Z]+-\d{3} → [a-z_]+$", out, re.MULTILINE), out
    # The sign-ins: one password, and every account with its role.
    assert DEMO_PASSWORD in out
    for _key, email, name, description, _roles in USERS:
        assert re.search(rf"^\s+{re.escape(email)}\s+{re.escape(name)}, {re.escape(description)}$", out, re.MULTILINE), email
    # The clock is real again once the demo has played its timelines.
    assert clock.today() == dt.datetime.now(dt.timezone.utc).date()

    with session_scope() as session:
        reviews = session.scalars(select(Review)).all()
        assert len(reviews) >= 12
        states = {r.state for r in reviews}
        assert len(states) >= 5
        assert STAGES <= states, STAGES - states
        assert len({r.csp_id for r in reviews}) >= 3
        for review in reviews:
            history = audit.for_review(session, review.id)
            assert history[0].event == "record_notification", review.reference
            assert [e.on for e in history] == sorted(e.on for e in history), f"{review.reference}: history out of date order"
            assert history[0].on == review.notified_on
            assert clock.today() - dt.timedelta(days=2 * 365) <= review.notified_on <= clock.today()
            # Whatever has gone to the Home Office passed the readiness check, and still does.
            if review.state in ("csp_signoff", "submitted", "cleared", "published", "concluded"):
                failed = [c.detail for c in run_checks(session, review) if not c.passed]
                assert not failed, f"{review.reference}: {failed}"

        # Decisions pending: one overdue, one due within a fortnight.
        today = clock.today()
        decisions = session.scalars(
            select(Deadline).join(Review, Review.id == Deadline.review_id).where(Review.state == "notified", Deadline.kind == "decision")
        ).all()
        statuses = sorted((status_of(d, today), (d.due_on - today).days) for d in decisions)
        assert statuses[0][0] == "overdue" and statuses[-1][0] == "pending" and statuses[-1][1] <= 14, statuses

        # The review gathering evidence has IMRs in different states, one returned by the panel chair.
        evidence = next(r for r in reviews if r.state == "evidence")
        imrs = session.scalars(select(Imr).where(Imr.review_id == evidence.id)).all()
        assert {"accepted", "in_progress", "agency_review", "commissioned"} <= {i.state for i in imrs}
        assert any(i.times_returned and i.state == "in_progress" for i in imrs)

        pended = next(r for r in reviews if r.state == "pended")
        assert pended.pended_from == "evidence" and pended.criminal_proceedings_open

    # The printed sign-ins work, and each person sees what their role allows.
    chair = sign_in(client, "chair.camcity@example.org", DEMO_PASSWORD)
    mine = ok(client.get("/api/v1/reviews", headers=chair))["items"]
    assert mine and all(r["reference"].split("-")[2] == "CAMCITY" for r in mine)
    home_office = sign_in(client, "homeoffice.qa@example.org", DEMO_PASSWORD)
    seen = ok(client.get("/api/v1/reviews", headers=home_office))["items"]
    assert seen and all(r["first_submitted_on"] for r in seen)

    before = counts()
    again = dhr("demo", "--if-new")
    assert again.exit_code == 0, again.output
    assert again.output.startswith("Demo data already loaded:"), again.output
    assert counts() == before

    # Without --if-new it refuses too, rather than failing half-way on duplicates.
    forced = dhr("demo")
    assert forced.exit_code == 0, forced.output
    assert forced.output.startswith("Demo data already loaded:"), forced.output
    assert counts() == before


def test_create_user_makes_an_account_that_can_sign_in(world, client):
    result = dhr(
        "create-user", "--email", "Nell.Newcoordinator@Example.org", "--name", "Nell Newcoordinator",
        "--password", "a long enough passphrase", "--role", "csp_coordinator", "--csp", "CAMCITY",
    )
    assert result.exit_code == 0, result.output
    assert "Created user nell.newcoordinator@example.org with role csp_coordinator." in result.output
    headers = sign_in(client, "nell.newcoordinator@example.org", "a long enough passphrase")
    me = ok(client.get("/api/v1/auth/me", headers=headers))
    assert me["roles"] == [{"role": "csp_coordinator", "csp_id": world.csps["CAMCITY"], "agency_id": None}]

    result = dhr(
        "create-user", "--email", "ivan.imrauthor@example.org", "--name", "Ivan Imrauthor",
        "--password", "another long passphrase", "--role", "imr_author", "--agency", "Exampleshire Constabulary",
    )
    assert result.exit_code == 0, result.output
    me = ok(client.get("/api/v1/auth/me", headers=sign_in(client, "ivan.imrauthor@example.org", "another long passphrase")))
    assert me["roles"] == [{"role": "imr_author", "csp_id": None, "agency_id": world.agencies["police"]}]


def test_create_user_refuses_an_unknown_partnership(world):
    before = counts()
    result = dhr(
        "create-user", "--email", "nobody@example.org", "--name", "Nobody Anywhere",
        "--password", "a long enough passphrase", "--role", "csp_chair", "--csp", "NOWHERE",
    )
    assert result.exit_code == 1
    assert "Not created: There is no partnership with the code NOWHERE." in result.output
    assert counts() == before


def test_create_user_refuses_a_short_password(database_url):
    result = dhr("create-user", "--email", "admin2@example.org", "--name", "Ada Again", "--password", "short", "--role", "admin")
    assert result.exit_code == 1
    assert "Not created: The password is too weak: the password must be at least 12 characters long." in result.output
    assert counts()["users"] == 0


def test_migrate_says_the_schema_is_up_to_date(database_url):
    result = dhr("migrate")
    assert result.exit_code == 0, result.output
    assert "Database schema is up to date." in result.output
    password = make_url(database_url).password
    if password:
        assert password not in result.output
