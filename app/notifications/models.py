"""The outbox: every email is a row, written in the same transaction as the change that causes it.

A dispatcher sends the rows afterwards. The unique key makes a second sweep, a restart or a second
sweeper harmless; the stored Message-ID makes a resend after a crash recognisable as the same mail.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, ForeignKey, Index, Integer, String, Text, case
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now, wall_now
from app.core.db import Base
from app.core.ids import new_id

STATUSES = ("waiting", "sent", "failed")


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_dispatch", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # deadline:<deadline id>:<due date>:<step>:<recipient>, or event:<unique id>:<recipient>
    key: Mapped[str] = mapped_column(String(200), unique=True)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    deadline_id: Mapped[str | None] = mapped_column(ForeignKey("deadlines.id", ondelete="CASCADE"))
    step: Mapped[str | None] = mapped_column(String(30))
    recipient_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    # waiting (not sent yet, or being retried), sent, or failed (the server refused it for good).
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=wall_now)
    # A dispatcher's claim; another may take the row once it has passed (the first one died).
    claimed_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    sent_at: Mapped[dt.datetime | None]

    @hybrid_property
    def shown_status(self) -> str:
        """What the partnership sees: a waiting message that has failed before is "failing"."""
        if self.status != "waiting":
            return self.status
        return "failing" if self.last_error is not None else "waiting"

    @shown_status.inplace.expression
    @classmethod
    def _shown_status_expression(cls) -> ColumnElement[str]:
        return case(
            (cls.status != "waiting", cls.status),
            (cls.last_error.is_not(None), "failing"),
            else_="waiting",
        )
