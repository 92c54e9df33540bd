"""Writes the review's history in the same transaction as the change it records."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import HistoryEntry
from app.auth.models import User
from app.core import clock
from app.reviews.models import Review


def record(
    session: Session,
    *,
    review: Review | None,
    entity_type: str,
    entity_id: str,
    event: str,
    actor: User | None,
    on: dt.date | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    data: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
    note: str | None = None,
) -> HistoryEntry:
    seq = 0
    if review is not None:
        # Safe under concurrency: every change to a review also bumps its version (or holds its lock).
        seq = (session.scalar(select(func.max(HistoryEntry.seq)).where(HistoryEntry.review_id == review.id)) or 0) + 1
    entry = HistoryEntry(
        seq=seq,
        review_id=review.id if review is not None else None,
        entity_type=entity_type,
        entity_id=entity_id,
        event=event,
        from_state=from_state,
        to_state=to_state,
        on=on or clock.today(),
        at=clock.now(),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.name if actor is not None else "system",
        data=data or {},
        changes=changes or {},
        note=note,
    )
    session.add(entry)
    return entry


def diff(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Apply values to obj and return {field: [old, new]} for what really changed."""
    changes: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            setattr(obj, name, new)
            changes[name] = [plain(old), plain(new)]
    return changes


def plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def for_review(session: Session, review_id: str) -> list[HistoryEntry]:
    return list(
        session.scalars(select(HistoryEntry).where(HistoryEntry.review_id == review_id).order_by(HistoryEntry.seq))
    )
