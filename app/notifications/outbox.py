"""Writing emails into the outbox, in the caller's transaction. A key already there is left alone."""
from __future__ import annotations

from email.utils import parseaddr

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.core import clock
from app.core.config import get_settings
from app.core.ids import new_id
from app.notifications.messages import Content, render
from app.notifications.models import OutboxMessage
from app.notifications.recipients import Recipient


def message_id_for(row_id: str) -> str:
    """Fixed when the row is written, so a resend after a crash carries the same Message-ID."""
    domain = parseaddr(get_settings().mail_from)[1].rpartition("@")[2] or "localhost"
    return f"<{row_id}.dhr@{domain}>"


def _insert_ignoring_duplicates(session: Session):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"])
    if dialect == "sqlite":
        return sqlite.insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"])
    return insert(OutboxMessage)


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
    mail = render(content, recipient)
    row_id = new_id()
    result = session.execute(
        _insert_ignoring_duplicates(session).values(
            id=row_id,
            key=key,
            review_id=review_id,
            kind=kind,
            deadline_id=deadline_id,
            step=step,
            recipient_user_id=recipient.user_id,
            to_address=recipient.address,
            subject=mail.subject,
            body_text=mail.text,
            body_html=mail.html,
            message_id=message_id_for(row_id),
            status="waiting",
            attempts=0,
            next_attempt_at=clock.wall_now(),
            created_at=clock.now(),
        )
        # RETURNING, not rowcount: on PostgreSQL (psycopg) this insert reports rowcount -1.
        .returning(OutboxMessage.id)
    )
    return result.first() is not None
