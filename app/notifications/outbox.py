"""Writing emails into the outbox, in the caller's transaction. A key already there is left alone."""
from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.core import clock
from app.core.config import get_settings
from app.core.ids import new_id
from app.notifications.messages import Content, Mail, Rendered, render
from app.notifications.models import OutboxMessage
from app.notifications.recipients import Recipient

OUTBOX = OutboxMessage.__table__


def message_id_for(row_id: str, domain: str | None = None) -> str:
    """Fixed when the row is written, so a resend after a crash carries the same Message-ID."""
    return f"<{row_id}.dhr@{domain or _mail_domain()}>"


def _mail_domain() -> str:
    return parseaddr(get_settings().mail_from)[1].rpartition("@")[2] or "localhost"


def _insert_ignoring_duplicates(session: Session, into=OutboxMessage):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(into).on_conflict_do_nothing(index_elements=["key"])
    if dialect == "sqlite":
        return sqlite.insert(into).on_conflict_do_nothing(index_elements=["key"])
    return insert(into)


@dataclass(frozen=True)
class Outgoing:
    """One email to queue: its key, what it says and to whom."""

    key: str
    review_id: str
    kind: str
    content: Content
    recipient: Recipient
    deadline_id: str | None = None
    step: str | None = None


def enqueue(
    session: Session,
    *,
    key: str,
    review_id: str,
    kind: str,
    content: Content,
    recipient: Recipient,
    deadline_id: str | None = None,
    step: str | None = None,
) -> bool:
    """Queue one email; False when a message with this key was queued before (nothing is written)."""
    outgoing = Outgoing(key=key, review_id=review_id, kind=kind, content=content, recipient=recipient,
                        deadline_id=deadline_id, step=step)
    result = session.execute(
        _insert_ignoring_duplicates(session).values(**_row(outgoing, render(content, recipient), _mail_domain()))
        # RETURNING, not rowcount: on PostgreSQL (psycopg) this insert reports rowcount -1.
        .returning(OutboxMessage.id)
    )
    return result.first() is not None


def enqueue_all(session: Session, messages: list[Outgoing]) -> set[str]:
    """Queue the emails whose keys are not in the outbox yet, in their order, in one INSERT of many
    parameter sets; the keys written. The caller holds the lock of the review the keys belong to (the
    sweep does), so no one else queues them in between; the insert still leaves a duplicate alone.
    Each content is rendered once for all its recipients."""
    keys = [message.key for message in messages]
    queued_before = set(session.scalars(select(OUTBOX.c.key).where(OUTBOX.c.key.in_(keys)))) if keys else set()
    domain = _mail_domain()
    rendered: dict[int, Rendered] = {}
    rows = []
    for message in messages:
        if message.key in queued_before:
            continue
        if id(message.content) not in rendered:
            rendered[id(message.content)] = Rendered(message.content)
        rows.append(_row(message, rendered[id(message.content)].to(message.recipient), domain))
    if rows:
        # Into the table, not the mapped class: a plain executemany (pipelined by psycopg), without the
        # ORM's bulk machinery. (One multi-row INSERT was slower: these rows carry whole emails.)
        session.execute(_insert_ignoring_duplicates(session, OUTBOX), rows)
    return {row["key"] for row in rows}


def _row(message: Outgoing, mail: Mail, domain: str) -> dict:
    row_id = new_id()
    return dict(
        id=row_id,
        key=message.key,
        review_id=message.review_id,
        kind=message.kind,
        deadline_id=message.deadline_id,
        step=message.step,
        recipient_user_id=message.recipient.user_id,
        to_address=message.recipient.address,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        message_id=message_id_for(row_id, domain),
        status="waiting",
        attempts=0,
        next_attempt_at=clock.wall_now(),
        created_at=clock.now(),
    )
