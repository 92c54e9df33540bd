"""/api/docs: the API reference draws in a real browser from files this service serves itself (no CDN,
which these machines could not reach), under a policy that allows no inline script."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from app.core.config import PROJECT_ROOT

VENDORED = PROJECT_ROOT / "app" / "web" / "static" / "swagger-ui"


def test_swagger_ui_is_the_pinned_version(client):
    pinned = json.loads((PROJECT_ROOT / "package.json").read_text())["dependencies"]["swagger-ui-dist"]
    lock = json.loads((PROJECT_ROOT / "package-lock.json").read_text())["packages"]["node_modules/swagger-ui-dist"]
    vendored = json.loads((VENDORED / "package.json").read_text())["version"]
    assert pinned == lock["version"] == vendored, "run scripts/vendor-frontend after changing package.json"
    response = client.get("/api/docs")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "<script>" not in response.text  # every script is a file


def test_the_reference_lists_the_operations_in_a_browser_without_leaving_this_site(page, live_server):
    requested: list[str] = []
    failed: list[str] = []
    console_errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))

    page.goto("/api/docs")
    # Swagger UI has drawn the operations from our OpenAPI document.
    page.locator(".opblock-summary-path", has_text="/api/v1/reviews/{review_id}/events").first.wait_for()
    assert page.locator(".opblock").count() > 40
    assert page.locator(".info .title").inner_text().startswith("Domestic Homicide Review case management")

    ours = urlsplit(live_server).netloc
    elsewhere = [url for url in requested if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != ours]
    assert elsewhere == [], f"the reference fetched from other sites: {elsewhere}"
    assert failed == [] and console_errors == [], (failed, console_errors)
