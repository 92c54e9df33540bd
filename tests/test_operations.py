"""Operations: what a load balancer, Prometheus and whoever reads the logs see.

/readyz refuses traffic while the database is unreachable or its schema is not the code's; /metrics
counts requests by route template (never an id), overdue deadlines by kind and failed emails; the log
is one JSON object per line carrying the request id the client saw, and nothing personal.
"""
from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from alembic import command
from typer.testing import CliRunner

from app.cli import app as cli
from app.core.config import get_settings
from app.core.logs import JsonFormatter, RequestIdFilter
from app.core.migrate import alembic_config
from app.core.readiness import migrations_head
from tests.conftest import _reset_caches
from tests.journey import Journey
from tests.mail_server import free_port
from tests.support import ok

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "metrics-token-for-tests-0123456789"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the Prometheus text format (0 when the series is absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        metric, _, rest = series.partition("{")
        if metric == name and ",".join(sorted(rest.rstrip("}").split(","))) == wanted:
            return float(value)
    return 0.0


def scrape(client) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@pytest.fixture
def metrics_token(monkeypatch):
    monkeypatch.setenv("DHR_METRICS_TOKEN", TOKEN)
    get_settings.cache_clear()


# -- /healthz and /readyz -------------------------------------------------------------------------

def test_readyz_is_ready_at_the_migrations_head_and_refuses_a_schema_behind_it(client, database_url):
    head = migrations_head()
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "schema": head}

    # The database one migration behind the code (a deployment that forgot `dhr migrate`).
    config = alembic_config(database_url)
    command.downgrade(config, "-1")
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        reason = response.json()["reason"]
        assert response.json()["status"] == "unavailable"
        assert f"needs {head}" in reason and "run `dhr migrate`" in reason
        previous = re.search(r"at revision (\S+);", reason)[1]
        assert previous != head
        assert client.get("/healthz").status_code == 200  # alive all the same: do not restart it, migrate it
    finally:
        command.upgrade(config, "head")
    assert client.get("/readyz").status_code == 200


def test_readyz_refuses_an_empty_database_and_an_unreachable_one(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from app.main import create_app

    monkeypatch.setenv("DHR_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    _reset_caches()
    with TestClient(create_app(), base_url="http://127.0.0.1") as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "none (an empty database)" in response.json()["reason"]

    # Nothing listens on this port: the connection is refused.
    monkeypatch.setenv("DHR_DATABASE_URL", f"postgresql+psycopg://dhr@127.0.0.1:{free_port()}/dhr?connect_timeout=3")
    _reset_caches()
    try:
        with TestClient(create_app(), base_url="http://127.0.0.1") as client:
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.json() == {"status": "unavailable", "reason": "The database cannot be reached (OperationalError)."}
            assert client.get("/healthz").status_code == 200
    finally:
        _reset_caches()


# -- /metrics -------------------------------------------------------------------------------------

def test_metrics_count_requests_by_route_template_never_by_id(api, world, metrics_token):
    review = Journey(api, world)
    labels = {"route": "/api/v1/reviews/{review_id}", "method": "GET", "status": "2xx"}
    unmatched = {"route": "(unmatched)", "method": "GET", "status": "4xx"}
    text = scrape(api.client)
    before = {status: sample(text, "dhr_http_request_duration_seconds_count", **{**labels, "status": status}) for status in ("2xx", "4xx")}
    before_unmatched = sample(text, "dhr_http_request_duration_seconds_count", **unmatched)
    for _ in range(3):
        ok(api.as_("coordinator").get(f"/reviews/{review.id}"))
    api.as_("coordinator").get("/reviews/no-such-review")  # 404: counted as 4xx under the same template
    api.client.get(f"/no/such/page/{review.id}")
    text = scrape(api.client)
    assert sample(text, "dhr_http_request_duration_seconds_count", **labels) == before["2xx"] + 3
    assert sample(text, "dhr_http_request_duration_seconds_count", **{**labels, "status": "4xx"}) == before["4xx"] + 1
    assert sample(text, "dhr_http_request_duration_seconds_count", **unmatched) == before_unmatched + 1
    assert sample(text, "dhr_http_request_duration_seconds_bucket", **{**labels, "le": "+Inf"}) == before["2xx"] + 3
    assert review.id not in text and "no-such-review" not in text


def test_metrics_count_overdue_deadlines_by_kind_and_failed_emails(api, world, smtp, metrics_token):
    smtp.refuse(world.user("chair").email)  # the new notification's email to the CSP chair is refused for good
    Journey(api, world)  # notified 2026-01-05: decision and terms of reference due 2026-02-05
    result = CliRunner().invoke(cli, ["sweep", "--on", "2026-01-06"])
    assert result.exit_code == 0, result.output
    text = scrape(api.client)
    assert sample(text, "dhr_outbox_messages", status="failed") == 1
    assert sample(text, "dhr_outbox_failed_attempts") == 1
    assert sample(text, "dhr_deadlines_overdue", kind="decision") == 0

    smtp.stop()  # the server is down: the next alerts fail and wait to be retried
    result = CliRunner().invoke(cli, ["sweep", "--on", "2026-02-06"])  # the day after both fell due
    assert result.exit_code == 0, result.output
    text = scrape(api.client)
    assert sample(text, "dhr_deadlines_overdue", kind="decision") == 1
    assert sample(text, "dhr_deadlines_overdue", kind="terms_of_reference") == 1
    failing = sample(text, "dhr_outbox_messages", status="failing")
    assert failing >= 1
    assert sample(text, "dhr_outbox_failed_attempts") == 1 + failing


def test_metrics_are_for_this_machine_or_the_token_holder_only(app, world, monkeypatch):
    from fastapi.testclient import TestClient

    from tests.browser import LiveServer

    with TestClient(app, base_url="http://127.0.0.1") as client:  # not a local connection: its client is "testclient"
        assert client.get("/metrics").status_code == 404
        monkeypatch.setenv("DHR_METRICS_TOKEN", TOKEN)
        get_settings.cache_clear()
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
        assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    monkeypatch.delenv("DHR_METRICS_TOKEN")
    get_settings.cache_clear()
    server = LiveServer(app)
    base = server.start()
    try:
        assert httpx.get(f"{base}/metrics").status_code == 200  # from 127.0.0.1, no token needed
        # Through a proxy on this machine the connection is local but the reader is not.
        assert httpx.get(f"{base}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    finally:
        server.stop()


# -- request ids and the log ---------------------------------------------------------------------

def test_a_log_line_written_while_handling_a_request_carries_its_id(app, monkeypatch):
    """A request that finds the database down logs a warning (app/core/api.py): that line has the id."""
    from fastapi.testclient import TestClient

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    monkeypatch.setenv("DHR_DATABASE_URL", f"postgresql+psycopg://dhr@127.0.0.1:{free_port()}/dhr?connect_timeout=3")
    _reset_caches()
    try:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            response = client.get("/api/v1/reviews", headers={"Authorization": "Bearer x", "X-Request-ID": "trace-42"})
            made_up = client.get("/api/v1/reviews", headers={"Authorization": "Bearer x", "X-Request-ID": "not sane!"})
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        _reset_caches()
    assert response.status_code == 503 and response.headers["x-request-id"] == "trace-42"
    assert re.fullmatch(r"[0-9a-f]{32}", made_up.headers["x-request-id"])  # a bad one is replaced, not echoed
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    warnings = [line for line in lines if line["logger"] == "dhr.db"]
    assert [line["request_id"] for line in warnings] == ["trace-42", made_up.headers["x-request-id"]]
    access = [line for line in lines if line["logger"] == "dhr.access"]
    assert [(a["request_id"], a["route"], a["status"]) for a in access] == [
        ("trace-42", "/api/v1/reviews", 503), (made_up.headers["x-request-id"], "/api/v1/reviews", 503)]


def test_dhr_serve_logs_json_lines_with_request_ids_and_no_personal_data(api, world, database_url):
    """The real server, two workers: every stdout line is JSON; the ids match the responses; the query
    string, the calendar secret and the email typed at sign-in are nowhere; /metrics sums both workers."""
    port = free_port()
    env = {**os.environ, "DHR_LOG_FORMAT": "json", "DHR_SWEEP_INTERVAL_SECONDS": "3600", "DHR_MAIL_DISPATCH_INTERVAL_SECONDS": "3600"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("DHR_METRICS_TOKEN", None)
    server = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    coordinator = {"Authorization": f"Bearer {world.user('coordinator').token}"}
    try:
        health_checks = 0
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    health_checks += 1
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not start")
        chosen = httpx.get(f"{base}/api/v1/reviews", params={"q": "needle-search-term"}, headers={**coordinator, "X-Request-ID": "chosen-by-client-1"})
        assert chosen.status_code == 200 and chosen.headers["x-request-id"] == "chosen-by-client-1"
        made = httpx.get(f"{base}/api/v1/reviews/unknown-review-id", headers=coordinator)
        assert made.status_code == 404
        calendar_secret = "calendar-secret-token-xyz"
        httpx.get(f"{base}/api/v1/calendar/{calendar_secret}.ics")
        email = world.user("chair").email
        httpx.post(f"{base}/api/v1/auth/token", data={"username": email, "password": "wrong password here"})
        for _ in range(20):
            assert httpx.get(f"{base}/healthz").status_code == 200
        health_checks += 20
        metrics = httpx.get(f"{base}/metrics")
        assert metrics.status_code == 200
        # Requests went to either worker; the count is the sum of both.
        assert sample(metrics.text, "dhr_http_request_duration_seconds_count", route="/healthz", method="GET", status="2xx") == health_checks
    finally:
        server.terminate()
        stdout, stderr = (stream.decode() for stream in server.communicate(timeout=30))
    assert "Traceback" not in stdout + stderr, stdout + stderr
    lines = [json.loads(line) for line in stdout.splitlines()]  # every line is JSON, or this fails
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # uvicorn's own lines too
    access = {line["request_id"]: line for line in lines if line["logger"] == "dhr.access"}
    assert access["chosen-by-client-1"]["route"] == "/api/v1/reviews" and access["chosen-by-client-1"]["status"] == 200
    assert access[made.headers["x-request-id"]]["route"] == "/api/v1/reviews/{review_id}"
    assert access[made.headers["x-request-id"]]["status"] == 404
    for secret in ("needle-search-term", calendar_secret, email):
        assert secret not in stdout, secret
    assert "127.0.0.1:" not in stdout.replace(f"http://127.0.0.1:{port}", "")  # no client addresses
