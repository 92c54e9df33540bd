"""API shapes for the calendar link and the outbox."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel

MailStatus = Literal["waiting", "failing", "failed", "sent"]


class CalendarLinkOut(BaseModel):
    url: str
    deadlines: int
    about: str = (
        "Subscribe to this address in Outlook or any calendar to see the deadlines you are responsible for. "
        "Keep it to yourself: anyone with it can read the calendar. Reset it with POST /api/v1/auth/me/calendar/reset."
    )


class MailOut(BaseModel):
    id: str
    review_id: str
    reference: str
    kind: str
    step: str | None
    to: str
    subject: str
    status: MailStatus
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    message_id: str


class MailCounts(BaseModel):
    waiting: int = 0
    failing: int = 0
    failed: int = 0
    sent: int = 0


class OutboxPage(BaseModel):
    counts: MailCounts
    items: list[MailOut]
    total: int
