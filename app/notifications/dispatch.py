"""The dispatcher: claims waiting messages, sends them, marks them sent; retries with back-off.

A claim is a time-limited lease written before sending. If the process dies after the server took a
message but before it was marked sent, the lease runs out and the message goes again: at most one
duplicate, with the same Message-ID, so mail clients show it once. Concurrent dispatchers claim
different rows (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's write lock serialises the claim).
"""
from __future__ import annotations

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import or_, select, update

from app.core import clock, faults
from app.core.config import get_settings
from app.core.db import is_postgres, session_scope
from app.notifications.models import OutboxMessage
from app.notifications.senders import Outgoing, PermanentFailure, sender_for

log = logging.getLogger("dhr.mail")
BATCH = 50


@dataclass
class DispatchResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    error: str | None = None

    def summary(self, via: str) -> str:
        text = f"Mail via {via}: {self.sent} sent, {self.retrying} to retry, {self.failed} refused for good."
        if self.error:
            text += f" Last error: {self.error}. Waiting mail will be retried; nothing is lost."
        return text


def backoff(attempts: int) -> dt.timedelta:
    settings = get_settings()
    seconds = min(settings.mail_retry_seconds * 2 ** max(attempts - 1, 0), settings.mail_retry_max_seconds)
    return dt.timedelta(seconds=seconds)


def claim(limit: int = BATCH) -> list[Outgoing]:
    now = clock.wall_now()
    lease = dt.timedelta(seconds=get_settings().mail_claim_seconds)
    with session_scope() as session:
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == "waiting",
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            )
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
            .limit(limit)
        )
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True)
        rows = session.scalars(query).all()
        for row in rows:
            row.claimed_until = now + lease
            row.attempts += 1
        return [
            Outgoing(
                id=r.id, to_address=r.to_address, subject=r.subject, body_text=r.body_text, body_html=r.body_html,
                message_id=r.message_id, created_at=r.created_at,
            )
            for r in rows
        ]


def _mark(message_id: str, **values) -> None:
    with session_scope() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(claimed_until=None, **values))


def _mark_sent(message: Outgoing) -> None:
    _mark(message.id, status="sent", sent_at=clock.wall_now(), last_error=None)


def _mark_retry(messages: list[Outgoing], error: str) -> None:
    """Release the claims and schedule the next attempts, all in one transaction."""
    now = clock.wall_now()
    with session_scope() as session:
        for row in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_([m.id for m in messages]))):
            row.next_attempt_at = now + backoff(row.attempts)
            row.claimed_until = None
            row.last_error = error[:1000]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def dispatch(*, echo: Callable[[str], None] | None = None) -> DispatchResult:
    """Send everything that is waiting and due; stop at the first sign the server is unavailable."""
    settings = get_settings()
    result = DispatchResult()
    while True:
        batch = claim()
        if not batch:
            return result
        faults.point("dispatch.after_claim")  # claimed, nothing sent: the lease must run out, then they go
        sender = sender_for(settings)
        try:
            sender.open()
        except (smtplib.SMTPException, OSError) as exc:
            result.error = _describe(exc)
            _mark_retry(batch, result.error)
            result.retrying += len(batch)
            # The class only: a server's reply can quote an address (the full reason is on the messages).
            log.warning("mail server unavailable (%s); %s message(s) will be retried", type(exc).__name__, len(batch))
            return result
        try:
            for position, message in enumerate(batch):
                try:
                    sender.send(message)
                except PermanentFailure as exc:
                    _mark(message.id, status="failed", last_error=str(exc)[:1000])
                    result.failed += 1
                    log.warning("message %s refused for good by the mail server (its reason is on the message in the outbox)", message.id)
                    continue
                except (smtplib.SMTPException, OSError) as exc:
                    result.error = _describe(exc)
                    _mark_retry(batch[position:], result.error)
                    result.retrying += len(batch) - position
                    log.warning("sending failed (%s); %s message(s) will be retried", type(exc).__name__, len(batch) - position)
                    return result
                faults.point("dispatch.after_send")  # the server has it; we have not recorded that yet
                _mark_sent(message)
                result.sent += 1
        finally:
            sender.close()
        if echo and result.sent and result.sent % 500 == 0:
            echo(f"  {result.sent:,} messages sent ...")
