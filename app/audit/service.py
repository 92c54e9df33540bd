"""Writes the history in the same transaction as the change it records, each row chained to the one before."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.audit import chain
from app.audit.models import HistoryEntry, HistoryHead
from app.auth.models import User
from app.core import clock
from app.core.db import is_postgres
from app.core.ids import new_id
from app.reviews.models import Review

HEADS = HistoryHead.__table__
HISTORY = HistoryEntry.__table__


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
    entry = HistoryEntry(**_chained(
        review, head_seq + 1, prev_hash, entity_type=entity_type, entity_id=entity_id, event=event, actor=actor, on=on,
        from_state=from_state, to_state=to_state, data=data, changes=changes, note=note,
    ))
    _move_head(session, review, entry.seq, entry.hash)
    session.add(entry)
    return entry


class Batch:
    """Rows of several reviews' chains, written together, as the sweep records them: the chains' heads
    are locked and read in one query (at the first row), then moved in one statement and every row
    inserted in one more by `write()`, in the caller's transaction. Each chain's rows are numbered,
    chained and hashed exactly as one `record` call each would do it. The caller has locked the reviews
    already (workflow.engine.lock_reviews), so the heads' locks keep the usual order (review, then
    head); nothing else may write to these chains between the first row and `write()`."""

    def __init__(self, session: Session, reviews: list[Review]):
        self.session = session
        self.reviews = {review.id: review for review in reviews}
        self.rows: list[dict[str, Any]] = []
        self._heads: dict[str, tuple[int, str]] | None = None
        self._moved: set[str] = set()
        self._secret = chain.key()

    def record(self, review: Review, *, entity_type: str, entity_id: str, event: str, on: dt.date | None = None,
               data: dict[str, Any] | None = None) -> None:
        """A row by the system (no actor) in this review's chain."""
        if self._heads is None:
            self._heads = _lock_heads(self.session, sorted(self.reviews))
        seq, prev_hash = self._heads[review.id]
        row = _chained(review, seq + 1, prev_hash, entity_type=entity_type, entity_id=entity_id, event=event,
                       actor=None, on=on, data=data, secret=self._secret)
        self._heads[review.id] = (row["seq"], row["hash"])
        self._moved.add(review.id)
        self.rows.append(row)

    def write(self) -> None:
        if not self.rows:
            return
        # One UPDATE and one INSERT, each with many parameter sets: prepared once, not once per chain or row.
        self.session.execute(
            update(HEADS).where(HEADS.c.chain == bindparam("b_chain")).values(seq=bindparam("b_seq"), hash=bindparam("b_hash")),
            [{"b_chain": key, "b_seq": self._heads[key][0], "b_hash": self._heads[key][1]} for key in sorted(self._moved)],
        )
        self.session.execute(insert(HISTORY), [{**row, "id": new_id()} for row in self.rows])
        self.rows = []
        self._moved = set()


def _chained(
    review: Review | None,
    seq: int,
    prev_hash: str,
    *,
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
    secret: bytes | None = None,
) -> dict[str, Any]:
    """The columns of the row numbered `seq`, chained onto the row hashed `prev_hash`, its hash included."""
    row = dict(
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
        prev_hash=prev_hash,
    )
    row["hash"] = chain.row_hash(secret or chain.key(), row)
    return row


def _move_head(session: Session, review: Review | None, seq: int, hash_: str) -> None:
    session.execute(update(HEADS).where(HEADS.c.chain == _chain(review)).values(seq=seq, hash=hash_))


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
    return _lock_heads(session, [key])[key]


def _lock_heads(session: Session, keys: list[str]) -> dict[str, tuple[int, str]]:
    """Chains' heads, locked in one query in the chains' order (as any two sweepers take them). Their
    reviews are locked already. A chain without a head yet starts one; two first writers at once: one
    inserts, the other waits."""
    query = select(HEADS.c.chain, HEADS.c.seq, HEADS.c.hash).where(HEADS.c.chain.in_(keys)).order_by(HEADS.c.chain).with_for_update()
    heads = {row.chain: (row.seq, row.hash) for row in session.execute(query)}
    missing = [key for key in keys if key not in heads]
    if missing:
        insert_ = postgresql.insert if is_postgres(session) else sqlite.insert
        session.execute(insert_(HEADS).on_conflict_do_nothing(), [{"chain": key, "seq": 0, "hash": chain.GENESIS} for key in missing])
        heads = {row.chain: (row.seq, row.hash) for row in session.execute(query)}
    return heads


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
