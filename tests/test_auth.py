"""Signing in and out, token expiry and revocation, and the administrator's user management."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from app.core import clock
from app.core.db import session_scope
from tests.support import PASSWORD, ok

TOKEN_URL = "/api/v1/auth/token"


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post(TOKEN_URL, data={"username": email, "password": password})


def me(client, token: str):
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def token_of(client, email: str, password: str = PASSWORD) -> str:
    body = ok(sign_in(client, email, password))
    assert body["token_type"] == "bearer"
    return body["access_token"]


def test_sign_in_returns_a_bearer_token_that_works(client, world):
    clock.set_today(dt.date(2026, 3, 2))
    body = ok(sign_in(client, "Coordinator@DHR.example"))  # the email is matched case-insensitively
    assert body["token_type"] == "bearer" and len(body["access_token"]) >= 32
    assert dt.datetime.fromisoformat(body["expires_at"]) > clock.now()
    who = ok(me(client, body["access_token"]))
    assert who["email"] == "coordinator@dhr.example"
    assert [r["role"] for r in who["roles"]] == ["csp_coordinator"]
    # The same token works on the rest of the API.
    assert client.get("/api/v1/reviews", headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200


def test_a_wrong_password_or_unknown_email_is_refused_with_a_helpful_detail(client, world):
    wrong = sign_in(client, "coordinator@dhr.example", "not the password at all")
    unknown = sign_in(client, "nobody@dhr.example")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        detail = response.json()["detail"]
        assert "password" in detail and "try again" in detail.lower()
    # The same answer either way: the response does not tell whether an account exists.
    assert wrong.json() == unknown.json()
    missing = client.post(TOKEN_URL, data={"username": "coordinator@dhr.example"})
    assert missing.status_code == 422 and "password" in missing.json()["message"]


def test_calls_without_a_usable_token_are_refused_with_401(client, world):
    for headers in ({}, {"Authorization": "Basic Y29vcmRpbmF0b3I6cGFzc3dvcmQ="}, {"Authorization": "Bearer "}, {"Authorization": "Bearer not-a-token"}):
        response = client.get("/api/v1/auth/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert "/api/v1/auth/token" in response.json()["detail"]


def test_an_expired_token_stops_working(client, world):
    clock.set_today(dt.date(2026, 3, 2))
    token = token_of(client, "chair@dhr.example")
    assert me(client, token).status_code == 200
    clock.set_today(dt.date(2026, 3, 3))  # the token lives for hours (token_ttl_minutes), not a day
    response = me(client, token)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    # Signing in again gives a token that works on the new day.
    assert me(client, token_of(client, "chair@dhr.example")).status_code == 200


def test_revoking_a_token_ends_that_token_only(client, world):
    first = token_of(client, "chair@dhr.example")
    second = token_of(client, "chair@dhr.example")
    response = client.post("/api/v1/auth/revoke", headers={"Authorization": f"Bearer {first}"})
    assert response.status_code == 204
    assert me(client, first).status_code == 401
    assert "revoked" in me(client, first).json()["detail"]
    assert client.post("/api/v1/auth/revoke", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert me(client, second).status_code == 200


def test_an_administrator_disabling_a_user_ends_their_tokens(client, api, world):
    admin = api.as_("admin")
    signed_in = token_of(client, "police_author@dhr.example")
    user_id = world.user("police_author").id
    assert me(client, signed_in).status_code == 200
    # Only an administrator may do it.
    assert api.as_("chair").patch(f"/users/{user_id}", json={"is_active": False}).status_code == 403
    assert me(client, signed_in).status_code == 200
    body = ok(admin.patch(f"/users/{user_id}", json={"is_active": False}))
    assert body["is_active"] is False
    for token in (signed_in, world.user("police_author").token):
        response = me(client, token)
        assert response.status_code == 401
    assert sign_in(client, "police_author@dhr.example").status_code == 401
    # Enabling the account again does not bring the old tokens back; signing in does.
    ok(admin.patch(f"/users/{user_id}", json={"is_active": True}))
    assert me(client, signed_in).status_code == 401
    assert me(client, token_of(client, "police_author@dhr.example")).status_code == 200


def test_passwords_are_stored_argon2_hashed(api, world):
    created = ok(api.as_("admin").post("/users", json={
        "email": "new.officer@dhr.example", "name": "Nell Newofficer", "password": "a fresh long passphrase",
        "roles": [{"role": "csp_coordinator", "csp_id": world.csps["CAMCITY"]}]}), 201)
    assert "password" not in created and "password_hash" not in created
    with session_scope() as session:
        stored = session.execute(text("SELECT email, password_hash FROM users")).all()
    assert stored
    for email, value in stored:
        assert value.startswith("$argon2"), email
        assert "passphrase" not in value and PASSWORD not in value
    assert token_of(api.client, "new.officer@dhr.example", "a fresh long passphrase")


def test_create_user_refuses_a_short_password(api, world):
    admin = api.as_("admin")
    body = {"email": "short@dhr.example", "name": "Sam Short", "roles": [{"role": "home_office"}]}
    response = admin.post("/users", json={**body, "password": "elevenchars"})
    assert response.status_code == 422
    assert "at least 12 characters" in response.json()["detail"]
    assert admin.get("/users", params={"email": "short@dhr.example"}).json()["total"] == 0
    ok(admin.post("/users", json={**body, "password": "twelve chars"}), 201)


def test_roles_without_their_scope_are_refused(api, world):
    admin = api.as_("admin")
    base = {"name": "Rita Roles", "password": "a long enough passphrase"}
    cases = [
        ({"role": "csp_chair"}, "csp_chair needs the csp_id"),
        ({"role": "csp_coordinator", "csp_id": "no-such-partnership"}, "csp_coordinator needs the csp_id"),
        ({"role": "imr_author"}, "imr_author needs the agency_id"),
        ({"role": "agency_manager", "csp_id": world.csps["CAMCITY"]}, "agency_manager needs the agency_id"),
        ({"role": "home_office", "csp_id": world.csps["CAMCITY"]}, "home_office is national"),
    ]
    for n, (role, message) in enumerate(cases):
        response = admin.post("/users", json={**base, "email": f"roles{n}@dhr.example", "roles": [role]})
        assert response.status_code == 422, role
        assert message in response.json()["detail"], response.json()
    assert ok(admin.get("/users"))["total"] == len(world.users)
    # The same check applies when an administrator changes someone's roles.
    response = admin.patch(f"/users/{world.user('chair').id}", json={"roles": [{"role": "csp_chair"}]})
    assert response.status_code == 422 and "needs the csp_id" in response.json()["detail"]
    assert ok(api.as_("chair").get("/auth/me"))["roles"][0]["csp_id"] == world.csps["CAMCITY"]


def test_only_an_administrator_creates_users(api, world):
    body = {"email": "sneaky@dhr.example", "name": "Sid Sneaky", "password": "a long enough passphrase", "roles": [{"role": "admin"}]}
    for role in ("coordinator", "chair", "home_office", "police_manager"):
        response = api.as_(role).post("/users", json=body)
        assert response.status_code == 403, role
        assert "administrator" in response.json()["detail"]
    assert api.as_(None).post("/users", json=body).status_code == 401
    assert ok(api.as_("admin").get("/users", params={"email": "sneaky@dhr.example"}))["total"] == 0
