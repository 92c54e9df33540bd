"""When a review's retention period ends.

It is counted from the day the review ended: its conclusion (`concluded_on`), or, for a death the
partnership decided not to review, that decision (`decided_on`): the not_reviewed state is where such
a case ends in the workflow (workflows/dhr-2011.yaml), though it may be reconsidered, and then it is
no longer counted. A review in any other state is still running and is never due.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.reviews.models import Review

# The states a review ends in, and the date each is counted from.
ENDED = {"concluded": "concluded_on", "not_reviewed": "decided_on"}
MIN_YEARS, MAX_YEARS = 1, 100


@dataclass(frozen=True)
class Retention:
    ended_on: dt.date
    how: str  # "concluded" or "decided not to review"
    years: int
    due_on: dt.date  # the first day it may be deleted


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


def retention(review: Review, years: int) -> Retention | None:
    """The review's retention, or None while it is still running (or has no end date)."""
    column = ENDED.get(review.state)
    ended_on = getattr(review, column) if column else None
    if ended_on is None:
        return None
    how = "concluded" if review.state == "concluded" else "decided not to review"
    return Retention(ended_on=ended_on, how=how, years=years, due_on=add_years(ended_on, years))
