"""The deadline sweep's cost follows the reviews with something due, not the emails they send.

A national sweep must finish in a couple of seconds on a normal day, so sweeping one review runs the
same few SQL statements whether one of its deadlines is due for a handful of people or many are due
for many more; and the emails, written together, read exactly as one rendered per person would.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import event, func, select

from app.core.db import get_engine, session_scope
from app.deadlines.sweep import SweepResult, sweep_review
from app.notifications.messages import Content, Rendered, render
from app.notifications.models import OutboxMessage
from app.notifications.recipients import Recipient
from tests.journey import Journey

# Months after the notification: every IMR is overdue and escalated, the review's own deadlines too.
SWEEP_ON = dt.date(2026, 9, 1)


def _sweep_counting(review_id: str) -> tuple[int, SweepResult]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    result = SweepResult(on=SWEEP_ON)
    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        with session_scope() as session:
            sweep_review(session, review_id, SWEEP_ON, result)
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
