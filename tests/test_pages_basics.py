"""The pages' foundations: pinned GOV.UK Frontend served locally, cookies, CSRF, escaping, sign-in."""
from __future__ import annotations

import json
import re

from app.core.config import PROJECT_ROOT
from tests.support import PASSWORD

STATIC = PROJECT_ROOT / "app" / "web" / "static" / "govuk-frontend"


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _sign_in(client, email: str, next_path: str = "/"):
    page = client.get("/sign-in")
    return client.post("/sign-in", data={"csrf_token": _token(page.text), "email": email, "password": PASSWORD, "next": next_path}, follow_redirects=False)


def test_govuk_frontend_is_the_pinned_version_and_served_by_the_app(client):
    pinned = json.loads((PROJECT_ROOT / "package.json").read_text())["dependencies"]["govuk-frontend"]
    lock = json.loads((PROJECT_ROOT / "package-lock.json").read_text())["packages"]["node_modules/govuk-frontend"]
    vendored = json.loads((STATIC / "package.json").read_text())["version"]
    assert pinned == lock["version"] == vendored, "run scripts/vendor-frontend after changing package.json"
    css = client.get("/static/govuk-frontend/govuk-frontend.min.css")
    assert css.status_code == 200 and f'--govuk-frontend-version:"{vendored}"' in css.text
    assert client.get("/static/govuk-frontend/govuk-frontend.min.js").status_code == 200
    page = client.get("/sign-in").text
    # Every asset comes from this service: no CDN, nothing fetched from elsewhere at run time.
    for url in re.findall(r'(?:href|src)="([^"]+)"', page):
        assert url.startswith("/") or url.startswith("#"), url


def test_sign_in_sets_a_protected_session_cookie_and_sign_out_ends_it(client, world):
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"
    response = _sign_in(client, world.users["coordinator"].email)
    assert response.status_code == 303
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("dhr_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # plain http on 127.0.0.1
    home = client.get("/")
    assert home.status_code == 200 and world.users["coordinator"].name in home.text
    client.post("/sign-out", data={"csrf_token": _token(home.text)})
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"


def test_cookies_are_secure_over_https(app, world):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="https://127.0.0.1") as secure:
        response = _sign_in(secure, world.users["coordinator"].email)
        cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
        assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies)


def test_a_wrong_password_says_so_and_signs_nobody_in(client, world):
    page = client.get("/sign-in")
    response = client.post("/sign-in", data={"csrf_token": _token(page.text), "email": world.users["coordinator"].email, "password": "wrong-password-123"})
    assert response.status_code == 401
    assert "govuk-error-summary" in response.text and "email address or password is wrong" in response.text
    assert "dhr_session" not in response.cookies


def test_a_form_without_its_csrf_token_changes_nothing(client, world, api):
    assert _sign_in(client, world.users["coordinator"].email).status_code == 303
    before = api.as_("coordinator").get("/reviews").json()["total"]
    form = {"csp_id": world.csps["CAMCITY"], "notified_on-day": "1", "notified_on-month": "2", "notified_on-year": "2026", "notified_by": "Police",
            "date_of_death-day": "1", "date_of_death-month": "1", "date_of_death-year": "2026", "death_type": "homicide",
            "relationship": "intimate_partner", "victim_age": "40"}
    for token in (None, "forged"):
        response = client.post("/reviews/new", data=form | ({"csrf_token": token} if token else {}))
        assert response.status_code == 403 and "Nothing was changed" in response.text
    assert api.as_("coordinator").get("/reviews").json()["total"] == before
    page = client.get("/reviews/new")
    assert client.post("/reviews/new", data=form | {"csrf_token": _token(page.text)}, follow_redirects=False).status_code == 303
    assert api.as_("coordinator").get("/reviews").json()["total"] == before + 1


def test_typed_text_is_escaped_everywhere_it_is_shown(client, world, api):
    from tests.journey import Journey

    j = Journey(api, world)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    api.as_("chair").post(f"/reviews/{j.id}/events", json={"event": "decide_to_review", "data": {"rationale": hostile}, "note": hostile})
    assert _sign_in(client, world.users["chair"].email).status_code == 303
    page = client.get(f"/reviews/{j.id}").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_the_next_address_after_sign_in_stays_on_this_site(client, world):
    for target in ("https://elsewhere.example/", "//elsewhere.example/x", "/\\elsewhere.example"):
        response = _sign_in(client, world.users["coordinator"].email, target)
        assert response.headers["location"] == "/"
        client.cookies.clear()
    response = _sign_in(client, world.users["coordinator"].email, "/reviews")
    assert response.headers["location"] == "/reviews"


def test_pages_forbid_framing_and_foreign_scripts(client):
    headers = client.get("/sign-in").headers
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self' 'nonce-" in policy and "form-action 'self'" in policy


def test_every_page_response_carries_the_security_headers(client, world):
    signed_out = {
        "sign-in page": client.get("/sign-in"),
        "redirect to sign in": client.get("/reviews", follow_redirects=False),
        "page not found": client.get("/no-such-page"),
        "stylesheet": client.get("/static/govuk-frontend/govuk-frontend.min.css"),
        "font or image": client.get("/assets/images/favicon.ico"),
    }
    _sign_in(client, world.users["coordinator"].email)
    signed_in = {"home": client.get("/"), "a review that is not there": client.get("/reviews/not-a-review")}
    for what, response in (signed_out | signed_in).items():
        assert response.headers["x-content-type-options"] == "nosniff", what
        assert response.headers["referrer-policy"] == "same-origin", what
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], what
        assert "strict-transport-security" not in response.headers, what  # plain http
    assert signed_in["a review that is not there"].status_code == 404 and signed_out["page not found"].status_code == 404
    # Pages keep their own policy (scripts of this service, with a nonce), and are never stored.
    for what in ("sign-in page", "page not found", "home", "a review that is not there"):
        response = (signed_out | signed_in)[what]
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"], what
        assert response.headers["cache-control"] == "no-store", what
    # Public static files may be cached; redirects and everything else may not.
    assert signed_out["stylesheet"].status_code == 200 and "no-store" not in signed_out["stylesheet"].headers.get("cache-control", "")
    assert signed_out["redirect to sign in"].headers["cache-control"] == "no-store"
