"""Writes the history in the same transaction as the change it records, each row chained to the one before."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.audit import chain
from app.audit.models import HistoryEntry, HistoryHead
from app.auth.models import User
from app.core import clock
from app.core.db import is_postgres
from app.reviews.models import Review

HEADS = HistoryHead.__table__


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
    head_seq, prev_hash = _lock_head(session, review)
    entry = HistoryEntry(
        seq=head_seq + 1,
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
        prev_hash=prev_hash,
    )
    entry.hash = chain.row_hash(chain.key(), chain.content_of(entry))
    session.execute(update(HEADS).where(HEADS.c.chain == _chain(review)).values(seq=entry.seq, hash=entry.hash))
    session.add(entry)
    return entry


def _chain(review: Review | None) -> str:
    return review.id if review is not None else chain.ADMINISTRATION


def _lock_head(session: Session, review: Review | None) -> tuple[int, str]:
    """The chain's last number and hash, locked until commit so that no one else chains onto them.

    On PostgreSQL a review's row is locked first, as every event on it does (workflow.engine.lock_review):
    always review then head, so two writers never hold one each and wait for the other. SQLite
    transactions begin IMMEDIATE (app.core.db): one writer at a time, FOR UPDATE is not needed there.
    """
    key = _chain(review)
    if review is not None and is_postgres(session):
        session.execute(select(Review.id).where(Review.id == review.id).with_for_update())
    query = select(HEADS.c.seq, HEADS.c.hash).where(HEADS.c.chain == key).with_for_update()
    head = session.execute(query).one_or_none()
    if head is None:  # the chain's first row; two first writers at once: one inserts, the other waits
        insert = postgresql.insert if is_postgres(session) else sqlite.insert
        session.execute(insert(HEADS).values(chain=key, seq=0, hash=chain.GENESIS).on_conflict_do_nothing())
        head = session.execute(query).one()
    return head.seq, head.hash


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
