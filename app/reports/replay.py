"""Deadlines as they stood on a past day, replayed from the history.

The stored met_on and waived_on are today's: a deadline reopened later (a decision reconsidered,
an IMR returned, an action reopened) has lost its earlier met date. The history keeps every event
with its date, and the workflow YAML says which events meet, reopen or waive which deadline, so
replaying the events up to a day gives the deadlines as they stood that day, by the same rules the
effects apply (app/deadlines/service.py: meet and waive only an open deadline; reopen clears both).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import HistoryEntry
from app.deadlines.models import Deadline
from app.workflow.definition import Call
from app.workflow.registry import get_registry

DEADLINE_EFFECTS = ("meet_deadline", "reopen_deadline", "waive_deadline", "waive_open_deadlines")
SUBJECT_KINDS = ("imr", "action")  # deadlines that belong to an IMR or action, not to the review


@dataclass
class DeadlineAt:
    met_on: dt.date | None = None
    waived_on: dt.date | None = None

    @property
    def is_open(self) -> bool:
        return self.met_on is None and self.waived_on is None


@lru_cache(maxsize=1)
def deadline_effects() -> dict[tuple[str, str], tuple[Call, ...]]:
    """(subject, event) -> the deadline effects the workflows give that event."""
    table: dict[tuple[str, str], tuple[Call, ...]] = {}
    for definition in get_registry().all():
        for transition in definition.events:
            calls = tuple(c for c in transition.effects if c.name in DEADLINE_EFFECTS)
            if calls:
                table[(definition.subject, transition.name)] = table.get((definition.subject, transition.name), ()) + calls
    return table


def deadlines_as_at(session: Session, deadlines: list[Deadline], as_at: dt.date) -> dict[str, DeadlineAt]:
    """Each deadline's met and waived dates as they stood at the end of `as_at`."""
    effects = deadline_effects()
    states = {d.id: DeadlineAt() for d in deadlines}
    by_key = {(d.review_id, d.kind, d.subject_id): d for d in deadlines}
    by_review: dict[str, list[Deadline]] = {}
    for deadline in deadlines:
        by_review.setdefault(deadline.review_id, []).append(deadline)
    entries = session.execute(
        select(HistoryEntry.review_id, HistoryEntry.entity_type, HistoryEntry.entity_id, HistoryEntry.event, HistoryEntry.on, HistoryEntry.data)
        .where(HistoryEntry.review_id.in_(list(by_review)), HistoryEntry.event.in_({event for _subject, event in effects}),
               HistoryEntry.on <= as_at)
        .order_by(HistoryEntry.review_id, HistoryEntry.seq)
    ).all()
    for review_id, subject, subject_id, event, on, data in entries:
        for call in effects.get((subject, event), ()):
            if call.name == "waive_open_deadlines":
                targets = by_review[review_id]
            else:
                kind = call.params["kind"]
                key = (review_id, kind, subject_id if subject != "review" and kind in SUBJECT_KINDS else "")
                targets = [by_key[key]] if key in by_key else []
            for deadline in targets:
                _apply(states[deadline.id], call, on, data or {})
    return states


def _apply(state: DeadlineAt, call: Call, on: dt.date, data: dict) -> None:
    if call.name == "reopen_deadline":
        state.met_on = state.waived_on = None
    elif not state.is_open:
        return  # meeting or waiving a closed deadline changes nothing (deadlines.service)
    elif call.name == "meet_deadline":
        field = call.params.get("date_field")
        state.met_on = dt.date.fromisoformat(data[field]) if field and data.get(field) else on
    else:
        state.waived_on = on
