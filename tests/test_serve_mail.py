"""The loop inside `dhr serve` does the sweep's work: a notification recorded over HTTP reaches the
CSP chair's mailbox without anyone running `dhr sweep` (guidance 4.4-4.6: the chair must decide)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.mail_server import free_port

ROOT = Path(__file__).resolve().parents[1]


def test_the_served_app_sends_mail_by_itself(api, world, smtp, database_url):
    port = free_port()
    env = {
        **os.environ,
        "DHR_SWEEP_INTERVAL_SECONDS": "1",
        "DHR_MAIL_DISPATCH_INTERVAL_SECONDS": "1",
        "DHR_CLOCK_TODAY": "2026-01-05",
    }
    server = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not start")
        response = httpx.post(f"{base}/api/v1/reviews", headers={"Authorization": f"Bearer {world.user('coordinator').token}"}, json={
            "csp_id": world.csps["CAMCITY"], "notified_on": "2026-01-05", "notified_by": "Exampleshire Constabulary",
            "date_of_death": "2026-01-02", "death_type": "homicide", "relationship": "intimate_partner", "victim_age": 34,
            "summary": "Invented case for tests."})
        assert response.status_code == 201, response.text
        reference = response.json()["reference"]
        deadline = time.monotonic() + 20
        received = []
        while time.monotonic() < deadline and not received:
            time.sleep(0.2)
            received = smtp.take()
        assert [(m["To"], m["Subject"]) for m in received] == [
            (world.user("chair").email, f"{reference}: new notification of a death: decision due by 5 February 2026")
        ]
        time.sleep(2.5)  # two more rounds: nothing is sent twice
        assert smtp.take() == []
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    assert "Traceback" not in output, output
