"""Date arithmetic for statutory periods, and a deadline's status against today()."""
from __future__ import annotations

import calendar
import datetime as dt

from sqlalchemy import ColumnElement, and_

from app.deadlines.models import Deadline

STATUSES = ("pending", "met", "met_late", "overdue", "waived")


def add_months(start: dt.date, months: int) -> dt.date:
    """Calendar months, clamped to the month's end: 31 January + 1 month is 28 or 29 February."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


def add_period(start: dt.date, period: dict[str, int]) -> dt.date:
    due = add_months(start, period.get("months", 0))
    return due + dt.timedelta(weeks=period.get("weeks", 0), days=period.get("days", 0))


def status_of(deadline: Deadline, today: dt.date) -> str:
    return status_on(deadline.waived_on, deadline.met_on, deadline.due_on, today)


def status_on(waived_on: dt.date | None, met_on: dt.date | None, due_on: dt.date, today: dt.date) -> str:
    """A deadline's status from its dates (status_of, for a deadline read as plain columns)."""
    if waived_on is not None:
        return "waived"
    if met_on is not None:
        return "met" if met_on <= due_on else "met_late"
    if today > due_on:
        return "overdue"
    return "pending"


def status_clause(status: str, today: dt.date) -> ColumnElement[bool]:
    """status_of as a WHERE clause on the deadline's dates, so a list filters by status in SQL."""
    met = and_(Deadline.waived_on.is_(None), Deadline.met_on.is_not(None))
    clauses = {
        "waived": Deadline.waived_on.is_not(None),
        "met": and_(met, Deadline.met_on <= Deadline.due_on),
        "met_late": and_(met, Deadline.met_on > Deadline.due_on),
        "overdue": and_(Deadline.is_open, Deadline.due_on < today),
        "pending": and_(Deadline.is_open, Deadline.due_on >= today),
    }
    return clauses[status]
