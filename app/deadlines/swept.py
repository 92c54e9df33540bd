"""Reviews' open deadlines as the sweep works on them: plain values read in one query, changed in
memory, and the changed ones written back in one statement (not one ORM flush per row and column set)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app.deadlines.models import Deadline

DEADLINES = Deadline.__table__


@dataclass
class OpenDeadline:
    id: str
    kind: str
    subject_id: str
    due_on: dt.date
    original_due_on: dt.date
    swept_status: str
    next_alert_on: dt.date | None
    _read: tuple[str, dt.date | None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._read = (self.swept_status, self.next_alert_on)

    @property
    def changed(self) -> bool:
        return (self.swept_status, self.next_alert_on) != self._read


def open_deadlines(session: Session, review_ids: list[str]) -> dict[str, list[OpenDeadline]]:
    """Each review's open deadlines, in the order the sweep records them (by kind, then subject), in one query."""
    rows = session.execute(
        select(Deadline.review_id, Deadline.id, Deadline.kind, Deadline.subject_id, Deadline.due_on, Deadline.original_due_on,
               Deadline.swept_status, Deadline.next_alert_on)
        .where(Deadline.review_id.in_(review_ids), Deadline.is_open)
        .order_by(Deadline.review_id, Deadline.kind, Deadline.subject_id)
    )
    found: dict[str, list[OpenDeadline]] = {review_id: [] for review_id in review_ids}
    for review_id, *values in rows:
        found[review_id].append(OpenDeadline(*values))
    return found


def save(session: Session, deadlines: list[OpenDeadline]) -> None:
    changed = [d for d in deadlines if d.changed]
    if changed:
        session.execute(
            update(DEADLINES).where(DEADLINES.c.id == bindparam("b_id"))
            .values(swept_status=bindparam("b_status"), next_alert_on=bindparam("b_next")),
            [{"b_id": d.id, "b_status": d.swept_status, "b_next": d.next_alert_on} for d in changed],
        )
