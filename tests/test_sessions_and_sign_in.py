"""Sessions and tokens end when idle or too old, and when their person is disabled; failed sign-ins slow
down and then lock the account (unknown emails answered alike); common passwords are refused.

Time moves with clock.set_offset, never by sleeping.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.audit.models import HistoryEntry
from app.auth.models import ApiToken, User
from app.core import clock
from app.core.config import get_settings
from app.core.db import session_scope
from tests.support import PASSWORD, ok

TOKEN_URL = "/api/v1/auth/token"
WRONG = "not the password at all"


@pytest.fixture
def later():
    """later(minutes=..., seconds=...) moves the service's clocks that far past the start of the test."""
    clock.set_offset(dt.timedelta(0))

    def move(**delta) -> None:
        clock.set_offset(dt.timedelta(**delta))

    try:
        yield move
    finally:
        clock.set_offset(dt.timedelta(0))


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post(TOKEN_URL, data={"username": email, "password": password})


def me(client, token: str):
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def page_sign_in(client, email: str, password: str = PASSWORD, next_path: str = "/"):
    form = client.get(f"/sign-in?next={next_path}")
    return client.post("/sign-in", data={"csrf_token": csrf(form.text), "email": email, "password": password, "next": next_path},
                       follow_redirects=False)


def last_used(token: str) -> dt.datetime | None:
    from app.auth.security import token_digest

    with session_scope() as s:
        return s.scalars(select(ApiToken.last_used_at).where(ApiToken.token_hash == token_digest(token))).one()


def history(event: str) -> list[HistoryEntry]:
    with session_scope() as s:
        return list(s.scalars(select(HistoryEntry).where(HistoryEntry.event == event).order_by(HistoryEntry.seq)))


# -- idle and absolute time-outs ----------------------------------------------------------------------
def test_an_api_token_ends_after_an_hour_unused_but_not_while_used(client, world, later):
    token = ok(sign_in(client, world.user("chair").email))["access_token"]
    for minutes in (50, 100, 150):  # used every 50 minutes: never idle for the limit
        later(minutes=minutes)
        assert me(client, token).status_code == 200, minutes
    later(minutes=150 + 61)
    response = me(client, token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == (
        "Your sign-in ended because it was not used for 60 minutes: sign in again at POST /api/v1/auth/token.")
    # Once idle it stays ended; a new sign-in works.
    assert me(client, token).status_code == 401
    assert me(client, ok(sign_in(client, world.user("chair").email))["access_token"]).status_code == 200


def test_a_token_keeps_its_expiry_however_busy(client, world, later):
    token = ok(sign_in(client, world.user("chair").email))["access_token"]
    ttl = get_settings().token_ttl_minutes
    minutes = 0
    while minutes + 45 < ttl:
        minutes += 45
        later(minutes=minutes)
        assert me(client, token).status_code == 200, minutes
    later(minutes=ttl + 1)
    response = me(client, token)
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_last_use_is_written_at_most_once_a_minute(client, world, later):
    token = ok(sign_in(client, world.user("chair").email))["access_token"]
    signed_in_at = last_used(token)
    assert signed_in_at is not None
    later(seconds=30)
    for _ in range(3):
        assert me(client, token).status_code == 200
    assert last_used(token) == signed_in_at  # reads within the minute write nothing
    later(seconds=61)
    assert me(client, token).status_code == 200
    assert last_used(token) - signed_in_at >= dt.timedelta(seconds=61)


def test_an_idle_web_session_goes_to_sign_in_saying_why_and_keeps_the_address(client, world, later):
    assert page_sign_in(client, world.user("coordinator").email).status_code == 303
    assert client.get("/reviews").status_code == 200
    later(minutes=29)
    assert client.get("/reviews").status_code == 200  # 29 minutes is within the limit, and counts as use
    later(minutes=29 + 31)
    response = client.get("/reviews", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/reviews&ended=idle"
    # The dead session's cookie is removed.
    assert any(k == "set-cookie" and v.startswith('dhr_session=""') for k, v in response.headers.multi_items())
    page = client.get(response.headers["location"])
    assert "Your session ended because the service was not used for 30 minutes." in page.text
    assert 'name="next" value="/reviews"' in page.text
    again = page_sign_in(client, world.user("coordinator").email, next_path="/reviews")
    assert again.headers["location"] == "/reviews"
    assert client.get("/reviews").status_code == 200


def test_a_web_session_ends_after_twelve_hours_however_busy(client, world, later):
    response = page_sign_in(client, world.user("coordinator").email)
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("dhr_session="))
    assert "Max-Age=43200" in cookie
    minutes = 0
    while minutes + 25 < 12 * 60:
        minutes += 25
        later(minutes=minutes)
        assert client.get("/account").status_code == 200, minutes
    later(minutes=12 * 60 + 1)
    response = client.get("/account", follow_redirects=False)
    assert response.headers["location"] == "/sign-in?next=/account&ended=expired"
    assert "sessions last at most 12 hours" in client.get(response.headers["location"]).text


def test_a_forged_ended_reason_shows_nothing(client):
    for forged in ("<b>bold</b>", "whatever"):
        page = client.get("/sign-in", params={"ended": forged})
        assert page.status_code == 200 and forged not in page.text and "session ended" not in page.text


# -- disabling a user -------------------------------------------------------------------------------
def test_disabling_a_user_ends_their_api_tokens_and_web_sessions_at_their_next_request(client, api, world):
    app_client = client
    token = ok(sign_in(app_client, world.user("chair").email))["access_token"]
    assert page_sign_in(app_client, world.user("chair").email).status_code == 303
    assert app_client.get("/reviews").status_code == 200
    ok(api.as_("admin").patch(f"/users/{world.user('chair').id}", json={"is_active": False}))
    response = me(app_client, token)
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert me(app_client, world.user("chair").token).status_code == 401
    assert app_client.get("/reviews", follow_redirects=False).headers["location"] == "/sign-in?next=/reviews"
    # Disabling revoked every token of theirs, and the history says who did it.
    with session_scope() as s:
        assert s.scalars(select(ApiToken).where(ApiToken.user_id == world.user("chair").id, ApiToken.revoked_at.is_(None))).all() == []
    # A disabled account cannot sign in again, and is told only what a wrong password is told.
    refused = sign_in(app_client, world.user("chair").email)
    assert refused.status_code == 401 and refused.json()["detail"].startswith("The email or password is wrong")


def test_a_disabled_users_unrevoked_token_and_session_still_stop_working(client, world):
    """Even a token disabling did not revoke (say, the flag set directly) stops at the next request."""
    token = ok(sign_in(client, world.user("police_author").email))["access_token"]
    assert page_sign_in(client, world.user("police_author").email).status_code == 303
    with session_scope() as s:
        s.get(User, world.user("police_author").id).is_active = False
    response = me(client, token)
    assert response.status_code == 401 and response.json()["detail"] == "Your account is disabled: ask your administrator."
    assert client.get("/actions", follow_redirects=False).headers["location"] == "/sign-in?next=/actions"


# -- failed sign-ins: slow down, then lock ----------------------------------------------------------
def _same_answer(a, b) -> None:
    """The same status, headers that matter and words, whatever the counts of seconds."""
    assert a.status_code == b.status_code
    assert ("retry-after" in a.headers) == ("retry-after" in b.headers)
    digits = lambda text: re.sub(r"\d+", "N", text)  # noqa: E731
    assert digits(a.json()["detail"]) == digits(b.json()["detail"])
    assert sorted(a.json()) == sorted(b.json())


def test_failed_sign_ins_slow_down_then_lock_and_unknown_emails_are_answered_alike(client, world, later):
    known, unknown = world.user("coordinator").email, "nobody.here@dhr.example"
    waited = 0
    for attempt in range(1, 4):  # three failures: answered at once
        for email in (known, unknown):
            assert sign_in(client, email, WRONG).status_code == 401, attempt
    _same_answer(sign_in(client, known, WRONG), sign_in(client, unknown, WRONG))  # answered without a check
    # A fourth attempt straight away waits, even with the right password, and is not counted.
    early = sign_in(client, known)
    assert early.status_code == 429 and early.headers["retry-after"] == "5"
    assert early.json()["detail"].startswith("Too many failed sign-ins in a row: wait 5 seconds before trying again")
    assert "locked for 30 minutes" in early.json()["detail"]
    _same_answer(early, sign_in(client, unknown, WRONG))
    # Each further failure doubles the wait: 5, 10, 20 ... seconds.
    for failures, wait in zip(range(4, 10), (5, 10, 20, 40, 80, 160)):
        waited += wait
        later(seconds=waited)
        answers = [sign_in(client, email, WRONG) for email in (known, unknown)]
        assert [a.status_code for a in answers] == [401, 401], failures
        held = [sign_in(client, email, WRONG) for email in (known, unknown)]
        assert held[0].status_code == 429 and int(held[0].headers["retry-after"]) in (wait * 2, wait * 2 - 1), failures
        _same_answer(*held)
    # The tenth failure in a row locks the account for 30 minutes, saying until when and what to do.
    waited += 320
    later(seconds=waited)
    locked = [sign_in(client, email, WRONG) for email in (known, unknown)]
    for answer in locked:
        assert answer.status_code == 423 and int(answer.headers["retry-after"]) in (1800, 1799)
        body = answer.json()
        assert body["detail"].startswith("This account is locked after 10 failed sign-ins in a row. Try again in 30 minutes (at ")
        assert body["detail"].endswith("or ask your administrator to unlock it now.")
        until = dt.datetime.fromisoformat(body["locked_until"])
        assert dt.timedelta(minutes=29) < until - clock.wall_now() <= dt.timedelta(minutes=30)
    _same_answer(*locked)
    # Locked: the right password does not get in either.
    assert sign_in(client, known).status_code == 423
    # Each lock is in the administration history, naming ids only.
    rows = history("sign_in_locked")
    assert [(r.entity_type, r.review_id, r.actor_id) for r in rows] == [("user", None, None), ("unknown_account", None, None)]
    assert rows[0].entity_id == world.user("coordinator").id
    assert rows[0].data == {"failed_sign_ins": 10, "locked_minutes": 30}
    assert all(known not in str(r.__dict__) and unknown not in str(r.__dict__) and "nobody" not in str(r.__dict__) for r in rows)
    # When the lock ends the right password works, and the count starts again from nothing.
    later(seconds=waited + 30 * 60 + 1)
    assert sign_in(client, known).status_code == 200
    for _ in range(3):
        assert sign_in(client, known, WRONG).status_code == 401


def test_a_failure_after_a_lock_ends_locks_again(client, world, later):
    email = world.user("chair").email
    with session_scope() as s:
        user = s.get(User, world.user("chair").id)
        user.failed_sign_ins, user.locked_until = 10, clock.wall_now() + dt.timedelta(minutes=30)
    later(minutes=31)
    assert sign_in(client, email, WRONG).status_code == 423  # locked again at once: only success or an unlock resets
    assert sign_in(client, email).status_code == 423
    assert len(history("sign_in_locked")) == 1


def test_a_success_resets_the_count(client, world, later):
    email = world.user("chair").email
    for _ in range(3):
        assert sign_in(client, email, WRONG).status_code == 401
    later(seconds=6)
    assert sign_in(client, email).status_code == 200
    for _ in range(3):
        assert sign_in(client, email, WRONG).status_code == 401  # three more before any wait
    assert sign_in(client, email, WRONG).status_code == 429


def _lock(client, email: str, later) -> None:
    with session_scope() as s:
        user = s.scalars(select(User).where(User.email == email)).one()
        user.failed_sign_ins, user.locked_until = 9, None
    assert sign_in(client, email, WRONG).status_code == 423  # the failure that locks says so
    assert sign_in(client, email).status_code == 423


def test_an_administrator_sees_a_lock_and_ends_it_with_a_history_row(client, api, world, later):
    person = world.user("police_manager")
    _lock(client, person.email, later)
    shown = ok(api.as_("admin").get(f"/users/{person.id}"))
    assert shown["sign_in_locked_until"] is not None
    assert ok(api.as_("admin").get("/auth/me"))["sign_in_locked_until"] is None
    unlocked = ok(api.as_("admin").patch(f"/users/{person.id}", json={"unlock_sign_in": True}))
    assert unlocked["sign_in_locked_until"] is None
    assert sign_in(client, person.email).status_code == 200
    rows = history("unlock_sign_in")
    assert [(r.entity_id, r.actor_id, r.data) for r in rows] == [
        (person.id, world.user("admin").id, {"failed_sign_ins": 10, "because": "unlock"})]
    # Only an administrator may unlock.
    _lock(client, person.email, later)
    assert api.as_("coordinator").patch(f"/users/{person.id}", json={"unlock_sign_in": True}).status_code == 403
    assert sign_in(client, person.email).status_code == 423


def test_re_enabling_an_account_ends_its_lock(client, api, world, later):
    person = world.user("health_author")
    _lock(client, person.email, later)
    ok(api.as_("admin").patch(f"/users/{person.id}", json={"is_active": False}))
    ok(api.as_("admin").patch(f"/users/{person.id}", json={"is_active": True}))
    assert sign_in(client, person.email).status_code == 200
    assert [r.data["because"] for r in history("unlock_sign_in")] == ["re-enabled"]


def test_the_administration_page_shows_a_lock_and_unlocks_it(client, world, later):
    person = world.user("housing_author")
    _lock(client, person.email, later)
    assert page_sign_in(client, world.user("admin").email).status_code == 303
    listing = client.get("/admin")
    assert re.search(r"Locked until \d\d:\d\d UTC \(failed sign-ins\)", listing.text)
    form = client.get(f"/admin/users/{person.id}/edit")
    assert "Unlock the account now" in form.text and "after 10 failed sign-ins in a row" in form.text
    values = {"csrf_token": csrf(form.text), "name": person.name, "is_active": "true", "unlock_sign_in": "true",
              "role": "imr_author", "agency_id": world.agencies["housing"], "csp_id": ""}
    saved = client.post(f"/admin/users/{person.id}/edit", data=values, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert "Locked until" not in client.get("/admin").text
    assert sign_in(client, person.email).status_code == 200
    assert len(history("unlock_sign_in")) == 1


def test_the_sign_in_page_slows_down_and_locks_saying_so(client, world, later):
    email = world.user("chair").email
    for _ in range(3):
        assert page_sign_in(client, email, WRONG).status_code == 401
    early = page_sign_in(client, "nobody.here@dhr.example", WRONG)  # unknown: counted on its own, answered alike
    assert early.status_code == 401
    held = page_sign_in(client, email)
    assert held.status_code == 429 and held.headers["retry-after"] == "5"
    assert "Too many failed sign-ins in a row: wait 5 seconds before trying again." in held.text
    assert "dhr_session" not in held.cookies
    with session_scope() as s:
        s.scalars(select(User).where(User.email == email)).one().failed_sign_ins = 9
    later(seconds=6)
    assert page_sign_in(client, email, WRONG).status_code == 423  # the failure that locks says so
    locked = page_sign_in(client, email)
    assert locked.status_code == 423 and "govuk-error-summary" in locked.text
    assert "This account is locked after 10 failed sign-ins in a row. Try again in 30 minutes" in locked.text
    assert "ask your administrator to unlock it now" in locked.text
    assert "dhr_session" not in locked.cookies


# -- passwords ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("password, why", [
    ("short pass", "at least 12 characters"),
    ("password1234", "common"),
    ("Password123!", "common"),
    ("qwertyuiop12", "common"),
    ("123456789012", "common"),
    ("passwordpassword", "common"),
    ("Nina Newperson", "common"),  # their own name
])
def test_weak_and_common_passwords_are_refused_and_nothing_is_created(api, world, password, why):
    body = {"email": "nina@dhr.example", "name": "Nina Newperson", "password": password, "roles": [{"role": "home_office"}]}
    response = api.as_("admin").post("/users", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("The password is too weak: ") and why in detail
    if why == "common":
        assert "Choose a passphrase of three or four unrelated words" in detail
    assert ok(api.as_("admin").get("/users", params={"email": "nina@dhr.example"}))["total"] == 0


def test_a_long_uncommon_passphrase_is_accepted(api, world):
    body = {"email": "nina@dhr.example", "name": "Nina Newperson", "password": "lantern orchard velvet", "roles": [{"role": "home_office"}]}
    ok(api.as_("admin").post("/users", json=body), 201)


def test_the_administration_page_refuses_a_common_password(client, world):
    assert page_sign_in(client, world.user("admin").email).status_code == 303
    form = client.get("/admin/users/new")
    values = {"csrf_token": csrf(form.text), "email": "nina@dhr.example", "name": "Nina Newperson", "password": "password1234",
              "role": "home_office", "csp_id": "", "agency_id": ""}
    response = client.post("/admin/users/new", data=values, follow_redirects=False)
    assert response.status_code == 422 and "govuk-error-summary" in response.text
    assert "a common one, or too like one" in response.text
    with session_scope() as s:
        assert s.scalars(select(User).where(User.email == "nina@dhr.example")).one_or_none() is None


def test_the_command_line_refuses_a_common_password(database_url, world):
    from typer.testing import CliRunner

    from app.cli import app as cli

    result = CliRunner().invoke(cli, ["create-user", "--email", "nina@dhr.example", "--name", "Nina Newperson", "--role", "home_office"],
                                input="password1234\npassword1234\n")
    assert result.exit_code != 0
    assert "a common one, or too like one" in result.output
    with session_scope() as s:
        assert s.scalars(select(User).where(User.email == "nina@dhr.example")).one_or_none() is None


# -- security headers --------------------------------------------------------------------------------
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def _common_headers(response, what: str) -> None:
    assert response.headers["x-content-type-options"] == "nosniff", what
    assert response.headers["referrer-policy"] == "same-origin", what
    assert response.headers["x-frame-options"] == "DENY", what
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"], what
    assert "strict-transport-security" not in response.headers, what  # plain http on 127.0.0.1


def test_every_api_response_has_the_strict_headers_and_is_never_stored(app, api, world):
    from fastapi.testclient import TestClient

    def boom() -> None:
        raise RuntimeError("an unexpected fault")

    app.add_api_route("/api/v1/test-boom", boom)
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        token = {"Authorization": f"Bearer {world.user('coordinator').token}"}
        calendar = ok(client.get("/api/v1/auth/me/calendar", headers=token))["url"]
        responses = {
            "a review list": client.get("/api/v1/reviews", headers=token),
            "not signed in": client.get("/api/v1/reviews"),
            "unknown address": client.get("/api/v1/no-such-thing", headers=token),
            "not valid": client.get("/api/v1/reviews", params={"limit": "many"}, headers=token),
            "sign-in refused": sign_in(client, world.user("chair").email, WRONG),
            "calendar feed": client.get(calendar.removeprefix(get_settings().base_url)),
            "the schema": client.get("/api/v1/openapi.json"),
            "an unexpected fault": client.get("/api/v1/test-boom"),
            "health": client.get("/healthz"),
        }
    assert responses["an unexpected fault"].status_code == 500
    assert responses["calendar feed"].status_code == 200
    for what, response in responses.items():
        _common_headers(response, what)
        assert response.headers["content-security-policy"] == STRICT_CSP, what
        assert response.headers["cache-control"] == "no-store", what


def test_hsts_is_sent_over_https_and_behind_an_https_proxy_only(app, world, monkeypatch):
    from fastapi.testclient import TestClient

    from tests.conftest import _reset_caches

    with TestClient(app, base_url="https://127.0.0.1") as secure:
        for path in ("/api/v1/reviews", "/sign-in", "/static/govuk-frontend/govuk-frontend.min.css"):
            assert secure.get(path).headers["strict-transport-security"] == "max-age=31536000; includeSubDomains", path
    with TestClient(app, base_url="http://127.0.0.1") as plain:
        assert "strict-transport-security" not in plain.get("/sign-in").headers
        monkeypatch.setenv("DHR_BASE_URL", "https://dhr.example.org")  # a proxy ends HTTPS and forwards plain http
        get_settings.cache_clear()
        assert plain.get("/sign-in").headers["strict-transport-security"].startswith("max-age=31536000")
    _reset_caches()
