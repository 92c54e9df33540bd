"""The deadline sweep's cost follows the reviews with something due, not the emails they send.

A national sweep must finish in a couple of seconds on a normal day (issue 8: at most 2 s over the
national dataset), so one transaction of the sweep runs the same few SQL statements whether it holds one
review or many, and whether one deadline is due for a handful of people or many are due for many more;
and the emails, written together, read exactly as one rendered per person would.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, func, select

from typer.testing import CliRunner

from app.audit.models import HistoryEntry
from app.cli import app as cli
from app.core.db import get_engine, session_scope
from app.deadlines import sweep as sweep_module
from app.deadlines.sweep import SweepResult, sweep_reviews
from app.notifications.messages import Content, Rendered, render
from app.notifications.models import OutboxMessage
from app.notifications.recipients import Recipient
from tests.journey import Journey

# Months after the notification: every IMR is overdue and escalated, the review's own deadlines too.
SWEEP_ON = dt.date(2026, 9, 1)


def _sweep_counting(*review_ids: str) -> tuple[int, SweepResult]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    result = SweepResult(on=SWEEP_ON)
    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        with session_scope() as session:
            sweep_reviews(session, list(review_ids), SWEEP_ON, result)
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
    return len(statements), result


def test_sweeping_a_review_runs_the_same_statements_however_many_alerts_and_emails_it_has(api, world):
    one = Journey(api, world).to("evidence")
    one.commission(("police",))
    many = Journey(api, world).to("evidence")
    many.commission(("police", "health", "housing", "probation"))

    one_statements, one_result = _sweep_counting(one.id)
    many_statements, many_result = _sweep_counting(many.id)

    assert one_result.alerts.steps >= 1 and one_result.alerts.emails >= 2
    assert many_result.alerts.steps >= one_result.alerts.steps + 3
    assert many_result.alerts.emails >= one_result.alerts.emails + 6
    assert many_statements == one_statements, (one_statements, many_statements)
    assert many_statements <= 16, f"{many_statements} statements to sweep one review"
    with session_scope() as session:
        queued = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.review_id == many.id,
                                                                                       OutboxMessage.kind == "deadline_alert"))
    assert queued == many_result.alerts.emails

    # Swept again the same day: nothing is due any more, nothing is queued twice.
    _statements, again = _sweep_counting(many.id)
    assert (again.alerts.steps, again.alerts.emails, again.became_overdue) == (0, 0, 0)


def test_an_email_rendered_once_for_all_its_recipients_reads_as_one_rendered_for_each():
    content = Content(
        subject="DHR-2026-CAMCITY-001: IMR (Example & Sons) overdue by 3 days",
        headline="IMR quality-assured and sent to the panel (Example & Sons): overdue by 3 days.",
        facts=[("Review", "DHR-2026-CAMCITY-001"), ("Partnership", "Cambridge <City> CSP"), ("Stage", "Evidence")],
        next_step="Please complete it or ask the CSP chair to agree an extension, with reasons.",
        link="https://dhr.example/reviews/abc",
    )
    rendered = Rendered(content)
    for roles in [("csp_coordinator",), ("csp_chair", "panel_chair"), ("agency",), ("fallback",), ("a_new_role",)]:
        recipient = Recipient(address="someone@example.org", user_id="u1", roles=roles)
        assert rendered.to(recipient) == render(content, recipient), roles
    assert "partnership&#39;s DHR coordinator" in rendered.to(Recipient("a@example.org", None, ("csp_coordinator",))).html

    # A content that happens to hold the stand-in for the reason is still rendered right.
    odd = Content(subject="x", headline="\x00why\x00", facts=[], next_step="n", link="l")
    recipient = Recipient(address="someone@example.org", user_id="u1", roles=("csp_chair",))
    assert Rendered(odd).to(recipient) == render(odd, recipient)


def test_sweeping_many_reviews_together_runs_the_statements_of_one_and_sends_what_each_alone_would(api, world):
    alone = Journey(api, world).to("evidence")
    alone.commission(("police", "health"))
    together = []
    for agencies in (("police", "health"), ("housing",), ("police", "probation")):
        journey = Journey(api, world).to("evidence")
        journey.commission(agencies)
        together.append(journey.id)
    paused = Journey(api, world).to("evidence")  # guidance 6.5-6.8: alerts wait while a review is pended
    paused.commission(("police",))
    paused.fire(paused.chair, "pend", reason="Criminal proceedings are under way.")

    one_statements, one_result = _sweep_counting(alone.id)
    many_statements, many_result = _sweep_counting(*together, paused.id)

    assert many_statements == one_statements, (one_statements, many_statements)
    assert many_result.reviews == 4 and many_result.alerts.steps >= 3 * one_result.alerts.steps // 2
    with session_scope() as session:
        queued = dict(session.execute(
            select(OutboxMessage.review_id, func.count()).where(OutboxMessage.kind == "deadline_alert").group_by(OutboxMessage.review_id)
        ).all())
        chains = {review_id: session.scalar(select(func.max(HistoryEntry.seq)).where(HistoryEntry.review_id == review_id))
                  for review_id in [*together, paused.id]}
    # Each review of the batch has its own alerts, none has another's, and the paused one has none.
    assert all(queued.get(review_id, 0) >= 1 for review_id in together), queued
    assert paused.id not in queued
    assert sum(queued.get(review_id, 0) for review_id in together) == many_result.alerts.emails
    # Each review's history is still one unbroken chain (`dhr verify-history` checks every link).
    result = CliRunner().invoke(cli, ["verify-history"])
    assert result.exit_code == 0, result.output
    assert all(seq and seq > 1 for seq in chains.values())


@pytest.mark.parametrize("processes", [1, 2])
def test_a_sweep_in_many_small_batches_queues_each_alert_once_and_keeps_every_chain(api, world, monkeypatch, processes):
    """Batches of two reviews (on PostgreSQL two batches at a time, each on its own connection: in two
    threads, or in two forked processes as `dhr sweep` runs it)."""
    journeys = []
    for agencies in (("police",), ("health",), ("police", "housing"), ("probation",), ("police", "health")):
        journey = Journey(api, world).to("evidence")
        journey.commission(agencies)
        journeys.append(journey)
    monkeypatch.setattr(sweep_module, "REVIEWS_PER_TRANSACTION", 2)
    lines: list[str] = []
    monkeypatch.setattr(sweep_module, "PROGRESS_EVERY", 2)

    result = sweep_module.sweep(SWEEP_ON, echo=lines.append, processes=processes)

    assert result.reviews >= len(journeys) and result.alerts.steps >= 2 * len(journeys)
    assert lines[0].startswith("Sweeping ") and lines[-1].endswith("reviews swept")
    with session_scope() as session:
        keys = session.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == "deadline_alert")).all()
        queued = {j.id: session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.review_id == j.id))
                  for j in journeys}
    assert len(keys) == len(set(keys)) == result.alerts.emails
    assert all(count >= 1 for count in queued.values()), queued
    verified = CliRunner().invoke(cli, ["verify-history"])
    assert verified.exit_code == 0, verified.output
    again = sweep_module.sweep(SWEEP_ON)
    assert (again.alerts.steps, again.alerts.emails, again.became_overdue) == (0, 0, 0)
