"""Deadlines are rows, not timers: the sweep reads them with one indexed query."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, ForeignKey, Index, String, Text, UniqueConstraint, and_, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id


class Deadline(Base):
    __tablename__ = "deadlines"
    __table_args__ = (
        UniqueConstraint("review_id", "kind", "subject_id"),
        Index("ix_deadlines_open_due", "met_on", "waived_on", "due_on"),
        Index("ix_deadlines_next_alert_on", "next_alert_on"),
        # "Overdue" asks of each listed review whether it has an open deadline past due: a probe of
        # this small index, not a read of every deadline the review ever had (most are met).
        Index("ix_deadlines_open_by_review", "review_id", "due_on",
              postgresql_where=text("met_on IS NULL AND waived_on IS NULL"),
              sqlite_where=text("met_on IS NULL AND waived_on IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    # The IMR or action the deadline belongs to; "" for the review's own deadlines (keeps the
    # unique constraint working on databases that treat NULLs as distinct).
    subject_id: Mapped[str] = mapped_column(String(32), default="")
    starts_on: Mapped[dt.date]
    due_on: Mapped[dt.date]
    original_due_on: Mapped[dt.date]
    met_on: Mapped[dt.date | None]
    waived_on: Mapped[dt.date | None]
    waived_reason: Mapped[str | None] = mapped_column(Text)
    # What the last sweep recorded; the API always reports the status computed against today().
    swept_status: Mapped[str] = mapped_column(String(20), default="pending")
    # The day of the next alert email of the workflow's schedule; None once the deadline is closed.
    next_alert_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    review: Mapped["Review"] = relationship(back_populates="deadlines")  # noqa: F821

    @hybrid_property
    def is_open(self) -> bool:
        """Neither met nor waived: in Python on a row, and as a WHERE clause in queries."""
        return self.met_on is None and self.waived_on is None

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls) -> ColumnElement[bool]:
        return and_(cls.met_on.is_(None), cls.waived_on.is_(None))
    extensions: Mapped[list["DeadlineExtension"]] = relationship(
        back_populates="deadline", lazy="selectin", order_by="DeadlineExtension.created_at"
    )


class DeadlineExtension(Base):
    __tablename__ = "deadline_extensions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    deadline_id: Mapped[str] = mapped_column(ForeignKey("deadlines.id", ondelete="CASCADE"), index=True)
    previous_due_on: Mapped[dt.date]
    new_due_on: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(Text)
    agreed_on: Mapped[dt.date]
    agreed_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    deadline: Mapped[Deadline] = relationship(back_populates="extensions")
