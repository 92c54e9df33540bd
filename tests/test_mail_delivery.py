"""Mail delivery through the outbox: what the partnership notices when the mail server is down, when
the dispatcher dies half-way, when an address is refused, when two sweepers run at once, and when
there is no mail server at all.

The deadlines the alerts are about are set by the statutory guidance (decision and terms of
reference within one month, 6.2; IMRs 8.4-8.8); this file checks that every email about them reaches
its recipient exactly once (at most one recognisable duplicate after a crash), through a real SMTP
server (tests/mail_server.py) and the real `dhr sweep` command.
"""
from __future__ import annotations

import datetime as dt
import email
import logging
import os
import re
import subprocess
import sys
import time
from collections import Counter
from email.policy import default as default_policy
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from app.audit.models import HistoryEntry
from app.cli import app as cli
from app.core.config import get_settings
from app.core.db import session_scope
from app.notifications.models import OutboxMessage
from tests.journey import Journey
from tests.support import ok

D = dt.date
NOTIFIED = D(2026, 1, 5)  # decision and terms of reference due 2026-02-05 (one month, guidance 6.2)
FIRST_ALERT = "2026-01-22"  # 14 days before: the first step of both schedules
PROJECT_ROOT = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"Mail via (?P<via>.+?): (?P<sent>\d+) sent, (?P<retry>\d+) to retry, (?P<failed>\d+) refused for good\.")
QUEUED = re.compile(r"(?P<alerts>\d+) alert\(s\) due, (?P<emails>\d+) email\(s\) queued")


# -- helpers --------------------------------------------------------------------------------------

def sweep(on: str) -> str:
    """`dhr sweep --on`, in this process."""
    result = CliRunner().invoke(cli, ["sweep", "--on", on])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def mail_summary(output: str) -> dict[str, int | str]:
    match = SUMMARY.search(output)
    assert match, f"no mail summary in: {output!r}"
    return {k: (v if k == "via" else int(v)) for k, v in match.groupdict().items()}


def queued_summary(output: str) -> tuple[int, int]:
    match = QUEUED.search(output)
    assert match, f"no sweep summary in: {output!r}"
    return int(match["alerts"]), int(match["emails"])


def dhr_command() -> list[str]:
    script = Path(sys.executable).with_name("dhr")  # the console script pyproject.toml installs
    return [str(script)] if script.exists() else [sys.executable, "-c", "from app.cli import main; main()"]


def subprocess_env(**extra: str) -> dict[str, str]:
    """The fixtures' DHR_* settings (database, SMTP server, mail folder) are in os.environ already."""
    env = {**os.environ, "DHR_ENV": "test"}
    env.pop("DHR_FAULT", None)
    env.pop("DHR_CLOCK_TODAY", None)
    env.update(extra)
    return env


def start_dhr(*args: str, **extra_env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*dhr_command(), *args], env=subprocess_env(**extra_env), cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def run_dhr(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
    process = start_dhr(*args, **extra_env)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def outbox(api, who: str = "coordinator", **params) -> dict:
    return ok(api.as_(who).get("/outbox", params={"limit": 500, **params}))


def received(smtp) -> list[tuple[str, str, str, str]]:
    """(Message-ID, envelope recipient, To, Subject) of every message the server accepted since the last call."""
    rows = [
        (message["Message-ID"], rcpt.lower(), message["To"], message["Subject"])
        for _sender, rcpts, message in smtp.envelopes()
        for rcpt in rcpts
    ]
    smtp.take()
    return rows


def rows_as_sent(items: list[dict]) -> Counter:
    return Counter((m["message_id"], m["to"].lower(), m["to"], m["subject"]) for m in items)


def outbox_rows() -> list[OutboxMessage]:
    """Read directly, in a short transaction (SQLite's BEGIN IMMEDIATE must not outlive the read)."""
    with session_scope() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id)).all()
        session.expunge_all()
        return list(rows)


# -- 1. the mail server is down -------------------------------------------------------------------

def test_mail_queued_while_the_server_is_down_is_sent_once_when_it_is_back(smtp, api, world):
    """Nothing is lost in an outage: notifications of key events and the 14-day alerts of the decision
    and terms-of-reference deadlines (guidance 6.2) wait, are shown to the coordinator as failing, and
    go out exactly once when the server is back."""
    smtp.stop()
    alerted = Journey(api, world, notified_on=NOTIFIED)  # review_notified to the CSP chair
    commissioned = Journey(api, world, notified_on=NOTIFIED).to("evidence")
    commissioned.commission(agencies=("police",))  # imr_commissioned to the agency (guidance 8.4)

    output = sweep(FIRST_ALERT)
    assert queued_summary(output) == (2, 3)  # decision: chair + coordinator; terms of reference: coordinator
    page = outbox(api)
    total = page["total"]
    assert total == 7 and len(page["items"]) == total
    summary = mail_summary(output)
    assert summary == {"via": f"SMTP 127.0.0.1:{smtp.port}", "sent": 0, "retry": total, "failed": 0}
    assert "nothing is lost" in output
    assert received(smtp) == []

    # The coordinator sees every message as failing, with the reason and the attempt made.
    assert page["counts"] == {"waiting": 0, "failing": total, "failed": 0, "sent": 0}
    for item in page["items"]:
        assert item["status"] == "failing"
        assert item["attempts"] == 1
        assert "refused" in item["last_error"].lower()  # ConnectionRefusedError: [Errno 111] Connection refused
        assert item["sent_at"] is None and item["next_attempt_at"] is not None
    assert outbox(api, status="failing")["total"] == total
    assert outbox(api, status="sent")["total"] == 0
    to = Counter(item["to"] for item in page["items"])
    assert to == Counter({
        "chair@dhr.example": 3,  # two review_notified, one decision alert
        "coordinator@dhr.example": 2,  # decision and terms-of-reference alerts (not told of its own notification)
        "police_manager@dhr.example": 1, "police_author@dhr.example": 1,
    })
    subjects = {(item["to"], item["subject"]) for item in page["items"]}
    reference = alerted.review["reference"]
    assert ("coordinator@dhr.example", f"{reference}: Decision whether to hold a review due in 14 days") in subjects
    assert ("coordinator@dhr.example", f"{reference}: Terms of reference agreed due in 14 days") in subjects

    # A second run while it is still down: still waiting, one more attempt recorded.
    assert mail_summary(sweep(FIRST_ALERT))["retry"] == total
    assert {item["attempts"] for item in outbox(api)["items"]} == {2}

    smtp.start()
    output = sweep(FIRST_ALERT)
    assert queued_summary(output) == (0, 0)  # the alerts were queued once, not again
    assert mail_summary(output)["sent"] == total and mail_summary(output)["retry"] == 0
    arrived = received(smtp)
    page = outbox(api)
    assert Counter(arrived) == rows_as_sent(page["items"])  # every row once, to its address, as itself
    assert len(arrived) == total == len({m for m, *_ in arrived})
    assert page["counts"] == {"waiting": 0, "failing": 0, "failed": 0, "sent": total}
    assert all(i["status"] == "sent" and i["last_error"] is None and i["sent_at"] for i in page["items"])

    # And nothing goes twice.
    assert mail_summary(sweep(FIRST_ALERT))["sent"] == 0
    assert received(smtp) == []


# -- 2. the dispatcher dies after the server took a message ---------------------------------------

def test_a_crash_after_the_server_accepted_a_message_resends_only_that_one_with_the_same_message_id(smtp, api, world):
    """The process dies between the server's 250 and marking the row sent (fault point
    dispatch.after_send): once the claim lapses, the next run sends everything; the one message in
    doubt arrives twice with one Message-ID (so mail clients show it once), every other exactly once."""
    for _ in range(2):
        Journey(api, world, notified_on=NOTIFIED)

    crashed = run_dhr("sweep", "--on", FIRST_ALERT, DHR_FAULT="dispatch.after_send", DHR_MAIL_CLAIM_SECONDS="1")
    assert crashed.returncode == 75, crashed.stdout + crashed.stderr
    first = received(smtp)
    assert len(first) == 1  # the server had taken exactly one message when the process died

    # Nothing was recorded as sent; every message still waits (none lost, none wrongly marked).
    page = outbox(api)
    total = page["total"]
    assert total == 2 * (1 + 3)  # per review: review_notified to the chair, three 14-day alerts (6.2)
    assert page["counts"] == {"waiting": total, "failing": 0, "failed": 0, "sent": 0}

    time.sleep(1.2)  # the dead process's 1-second claim runs out
    again = run_dhr("sweep", "--on", FIRST_ALERT, DHR_MAIL_CLAIM_SECONDS="1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert queued_summary(again.stdout) == (0, 0)
    assert mail_summary(again.stdout)["sent"] == total
    second = received(smtp)

    everything = Counter(first + second)
    page = outbox(api)
    assert page["counts"]["sent"] == total
    assert set(everything) == set(rows_as_sent(page["items"]))  # every message arrived, unchanged
    twice = [m for m, n in everything.items() if n == 2]
    assert twice == first  # only the message in doubt came twice, both copies with its Message-ID
    assert all(n == 1 for m, n in everything.items() if m not in first)
    assert sum(everything.values()) == total + 1
    # The dead process had claimed the whole batch: each message counts that attempt and the one that sent it.
    assert {i["attempts"] for i in page["items"]} == {2}
    assert all(i["status"] == "sent" and i["last_error"] is None for i in page["items"])


# -- 3. an address refused for good --------------------------------------------------------------

def test_a_refused_address_fails_only_its_message_and_the_coordinator_can_retry_it(smtp, api, world, caplog):
    """A 550 for the IMR author (guidance 8.4: the agency is told when an IMR is commissioned) fails
    that one message for good; the others go. The coordinator finds it, fixes the cause, retries it;
    the retry is in the review's history; a message already sent cannot be retried."""
    j = Journey(api, world, notified_on=NOTIFIED).to("evidence")
    j.commission(agencies=("police",))
    smtp.refuse("police_author@dhr.example")

    with caplog.at_level(logging.DEBUG):
        output = sweep("2026-01-21")
    # The log names the message, never the address the server's reply quotes.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("dhr"))  # not the test server's own log
    assert "refused for good" in ours and "police_author@dhr.example" not in ours
    page = outbox(api)
    assert page["total"] == 3
    assert mail_summary(output) == {"via": f"SMTP 127.0.0.1:{smtp.port}", "sent": 2, "retry": 0, "failed": 1}
    assert sorted(r for _m, r, _t, _s in received(smtp)) == ["chair@dhr.example", "police_manager@dhr.example"]
    assert page["counts"] == {"waiting": 0, "failing": 0, "failed": 1, "sent": 2}

    failed = outbox(api, status="failed")
    assert failed["total"] == 1
    [message] = failed["items"]
    assert message["to"] == "police_author@dhr.example"
    assert message["kind"] == "imr_commissioned"
    assert message["status"] == "failed" and message["sent_at"] is None and message["next_attempt_at"] is None
    assert "550" in message["last_error"]
    # A refusal is for good: the dispatcher does not try it again by itself.
    assert mail_summary(sweep("2026-01-21"))["sent"] == 0
    assert received(smtp) == []

    # Only the partnership's own coordinator or chair may retry it.
    assert api.as_("other_coordinator").post(f"/outbox/{message['id']}/retry").status_code == 404
    assert api.as_("police_manager").post(f"/outbox/{message['id']}/retry").status_code == 403

    smtp.refused.clear()  # the address was corrected at the server
    retried = ok(api.as_("coordinator").post(f"/outbox/{message['id']}/retry"))
    assert retried["id"] == message["id"]
    assert retried["status"] == "failing"  # waiting again, still showing why the last attempt failed
    assert outbox(api, status="failed")["total"] == 0

    assert mail_summary(sweep("2026-01-21")) == {"via": f"SMTP 127.0.0.1:{smtp.port}", "sent": 1, "retry": 0, "failed": 0}
    [(message_id, rcpt, _to, subject)] = received(smtp)
    assert (message_id, rcpt, subject) == (message["message_id"], "police_author@dhr.example", message["subject"])
    page = outbox(api)
    assert page["counts"] == {"waiting": 0, "failing": 0, "failed": 0, "sent": 3}
    after = next(i for i in page["items"] if i["id"] == message["id"])
    assert after["status"] == "sent" and after["last_error"] is None and after["attempts"] == 2

    history = ok(api.as_("chair").get(f"/reviews/{j.id}/events"))["items"]
    retries = [h for h in history if h["event"] == "mail_retry"]
    assert len(retries) == 1
    assert retries[0]["entity_type"] == "mail" and retries[0]["entity_id"] == message["id"]
    assert retries[0]["actor"] == world.user("coordinator").name
    assert retries[0]["data"]["kind"] == "imr_commissioned"
    assert "550" in retries[0]["data"]["last_error"]

    again = api.as_("coordinator").post(f"/outbox/{message['id']}/retry")
    assert again.status_code == 409, again.text
    assert "sent already" in again.json()["detail"]
    assert [h["event"] for h in ok(api.as_("chair").get(f"/reviews/{j.id}/events"))["items"]].count("mail_retry") == 1


# -- 4. two sweepers at once ----------------------------------------------------------------------

REVIEWS = 36


def test_two_sweepers_at_once_send_every_alert_exactly_once(smtp, api, world):
    """Two `dhr sweep` processes started together on the day every review's decision and terms of
    reference (guidance 6.2) are 14 days away: each alert is queued once, recorded once in the
    history, and arrives once. On PostgreSQL the reviews are row-locked and the outbox claimed with
    SKIP LOCKED; on SQLite the write lock serialises them."""
    journeys = [Journey(api, world, notified_on=NOTIFIED) for _ in range(REVIEWS)]
    references = [j.review["reference"] for j in journeys]
    assert len(set(references)) == REVIEWS

    sweepers = [start_dhr("sweep", "--on", FIRST_ALERT) for _ in range(2)]
    results = [s.communicate(timeout=120) for s in sweepers]
    for sweeper, (stdout, stderr) in zip(sweepers, results):
        assert sweeper.returncode == 0, stdout + stderr
        assert "Traceback" not in stderr

    outputs = [stdout for stdout, _ in results]
    assert sum(queued_summary(o)[0] for o in outputs) == 2 * REVIEWS
    assert sum(queued_summary(o)[1] for o in outputs) == 3 * REVIEWS
    assert sum(mail_summary(o)["sent"] for o in outputs) == 4 * REVIEWS
    assert all(mail_summary(o)["retry"] == 0 and mail_summary(o)["failed"] == 0 for o in outputs)

    expected = Counter()
    for ref in references:
        expected[("chair@dhr.example", f"{ref}: new notification of a death: decision due by 5 February 2026")] += 1
        for deadline, to in (("Decision whether to hold a review", ("chair", "coordinator")), ("Terms of reference agreed", ("coordinator",))):
            for key in to:
                expected[(f"{key}@dhr.example", f"{ref}: {deadline} due in 14 days")] += 1
    arrived = received(smtp)
    assert Counter((rcpt, subject) for _m, rcpt, _t, subject in arrived) == expected
    assert len({m for m, *_ in arrived}) == len(arrived)

    rows = outbox_rows()
    assert len(rows) == 4 * REVIEWS
    assert len({r.key for r in rows}) == len(rows)
    assert len({r.message_id for r in rows}) == len(rows)
    alerts = Counter((r.deadline_id, r.step, r.to_address) for r in rows if r.kind == "deadline_alert")
    assert len(alerts) == 3 * REVIEWS and set(alerts.values()) == {1}
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}

    for j in journeys[:3]:  # as the chair reads it
        history = ok(api.as_("chair").get(f"/reviews/{j.id}/events"))["items"]
        steps = Counter((h["entity_id"], h["data"]["step"]) for h in history if h["event"] == "deadline_alert")
        assert len(steps) == 2 and set(steps.values()) == {1}
    with session_scope() as session:
        entries = session.execute(
            select(HistoryEntry.review_id, HistoryEntry.entity_id, HistoryEntry.data).where(HistoryEntry.event == "deadline_alert")
        ).all()
    per_step = Counter((review_id, deadline_id, data["step"]) for review_id, deadline_id, data in entries)
    assert len(per_step) == 2 * REVIEWS and set(per_step.values()) == {1}
    assert {step for _review, _deadline, step in per_step} == {"before-14"}
    assert {r for r, _d, _s in per_step} == {j.id for j in journeys}


# -- 5. no mail server: a folder of .eml files ----------------------------------------------------

def test_without_a_mail_server_each_message_is_an_eml_file_written_once(api, world, monkeypatch):
    """With no DHR_SMTP_HOST (development, demonstrations), each email of the 14-day alerts
    (guidance 6.2) is a complete message file under DHR_MAIL_DIR, openable in a mail client."""
    monkeypatch.delenv("DHR_SMTP_HOST", raising=False)
    get_settings.cache_clear()
    mail_dir = get_settings().mail_dir
    assert not mail_dir.exists() or not any(mail_dir.iterdir())

    j = Journey(api, world, notified_on=NOTIFIED)
    output = sweep(FIRST_ALERT)
    page = outbox(api)
    total = page["total"]
    assert total == 4
    assert mail_summary(output) == {"via": f"the folder {mail_dir}", "sent": total, "retry": 0, "failed": 0}

    files = sorted(mail_dir.iterdir())
    assert len(files) == total
    assert all(f.suffix == ".eml" and not f.name.startswith(".") for f in files)  # no half-written .partial left
    by_id = {item["message_id"]: item for item in page["items"]}
    seen = set()
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        row = by_id[message["Message-ID"]]
        seen.add(row["message_id"])
        assert row["id"] in path.name
        assert message["To"] == row["to"] and message["Subject"] == row["subject"]
        assert message["From"] == get_settings().mail_from
        assert message["Auto-Submitted"] == "auto-generated"
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert text is not None and html is not None
        assert j.review["reference"] in text.get_content() and j.review["reference"] in html.get_content()
        assert "<html" in html.get_content().lower()
    assert seen == set(by_id)
    assert page["counts"]["sent"] == total

    again = sweep(FIRST_ALERT)
    assert mail_summary(again)["sent"] == 0
    assert sorted(mail_dir.iterdir()) == files
