"""The history: append-only, one row per event, edit and read, written with the change.

Each review's rows form a hash chain, and the rows not about a review another (app/audit/chain.py).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id


class HistoryEntry(Base):
    __tablename__ = "history"
    __table_args__ = (
        UniqueConstraint("review_id", "seq"),
        # The rows not about a review are numbered too; a unique constraint treats their NULL
        # review_ids as all different, so a partial unique index keeps their numbers unique.
        Index("uq_history_administration_seq", "seq", unique=True,
              sqlite_where=text("review_id IS NULL"), postgresql_where=text("review_id IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    seq: Mapped[int] = mapped_column(Integer, primary_key=False, autoincrement=False)
    review_id: Mapped[str | None] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    on: Mapped[dt.date]
    at: Mapped[dt.datetime] = mapped_column(default=now)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(default=dict)
    changes: Mapped[dict] = mapped_column(default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    # The chain (app/audit/chain.py): the hash of the row before (GENESIS for the first) and this row's.
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class HistoryHead(Base):
    """Each chain's last row: its number and hash. Deleting the newest rows of a chain then shows,
    and locking this row serialises the writers of a chain (the administration chain has no review
    row to lock)."""

    __tablename__ = "history_heads"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)  # a review's id, or "administration"
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
