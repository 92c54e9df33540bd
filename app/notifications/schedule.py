"""The steps of a deadline's alert schedule, as dates: pure arithmetic, no database.

Steps are the days before the due date, the due date itself, then the day after it and every N days
while the deadline stays open. A step is named so that its outbox key is stable: before-14, due,
overdue-1, overdue-8 ...
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.workflow.definition import AlertSchedule

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Step:
    name: str
    on: dt.date
    days_overdue: int  # negative: days before the due date; 0: the due date

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


def _step(due_on: dt.date, day: dt.date) -> Step:
    offset = (day - due_on).days
    name = "due" if offset == 0 else (f"before-{-offset}" if offset < 0 else f"overdue-{offset}")
    return Step(name=name, on=day, days_overdue=offset)


def _until_due(schedule: AlertSchedule, due_on: dt.date) -> list[dt.date]:
    days = [due_on - dt.timedelta(days=n) for n in schedule.before_days]
    if schedule.on_the_day:
        days.append(due_on)
    return sorted(days)


def latest_on_or_before(schedule: AlertSchedule, due_on: dt.date, day: dt.date) -> Step | None:
    """The last step due by `day`: a sweep that missed days sends this one, not every missed one."""
    first_overdue = due_on + DAY
    if day >= first_overdue:
        if schedule.overdue_every_days:
            periods = (day - first_overdue).days // schedule.overdue_every_days
            return _step(due_on, first_overdue + periods * schedule.overdue_every_days * DAY)
        return _step(due_on, first_overdue)
    passed = [d for d in _until_due(schedule, due_on) if d <= day]
    return _step(due_on, passed[-1]) if passed else None


def first_on_or_after(schedule: AlertSchedule, due_on: dt.date, day: dt.date) -> Step | None:
    """The next step from `day` on; None when the schedule has nothing more to send."""
    for d in _until_due(schedule, due_on):
        if d >= day:
            return _step(due_on, d)
    first_overdue = due_on + DAY
    if day <= first_overdue:
        return _step(due_on, first_overdue)
    if not schedule.overdue_every_days:
        return None
    every = schedule.overdue_every_days
    periods = -(-(day - first_overdue).days // every)  # ceiling
    return _step(due_on, first_overdue + periods * every * DAY)


def escalated_roles(schedule: AlertSchedule, step: Step) -> list[str]:
    roles: list[str] = []
    for level in schedule.escalate:
        if step.days_overdue >= level.after_days_overdue:
            roles += [r for r in level.to if r not in roles]
    return roles
