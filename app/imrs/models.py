"""Individual Management Reviews (guidance 8.1-8.9, Appendix 2) and their chronologies."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id


class Imr(Base):
    __tablename__ = "imrs"
    __table_args__ = (
        UniqueConstraint("review_id", "agency_id"),
        Index("ix_imrs_agency_state", "agency_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    state: Mapped[str] = mapped_column(String(30))
    workflow_name: Mapped[str] = mapped_column(String(40))
    workflow_version: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    commissioned_on: Mapped[dt.date]
    due_on: Mapped[dt.date]
    submitted_on: Mapped[dt.date | None]
    accepted_on: Mapped[dt.date | None]
    returned_reason: Mapped[str | None] = mapped_column(Text)
    times_returned: Mapped[int] = mapped_column(Integer, default=0)
    author_name: Mapped[str] = mapped_column(String(200), default="")
    author_role: Mapped[str] = mapped_column(String(200), default="")
    independence_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    methodology: Mapped[str] = mapped_column(Text, default="")
    parallel_processes: Mapped[str] = mapped_column(Text, default="")
    analysis: Mapped[str] = mapped_column(Text, default="")
    effective_practice: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now, onupdate=now)

    chronology: Mapped[list["ChronologyEntry"]] = relationship(
        back_populates="imr", order_by="ChronologyEntry.occurred_on", lazy="raise"
    )

    __mapper_args__ = {"version_id_col": version}


class ChronologyEntry(Base):
    __tablename__ = "chronology_entries"
    __table_args__ = (Index("ix_chronology_imr_date", "imr_id", "occurred_on"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    imr_id: Mapped[str] = mapped_column(ForeignKey("imrs.id", ondelete="CASCADE"))
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    occurred_on: Mapped[dt.date]
    description: Mapped[str] = mapped_column(Text)
    seen: Mapped[list] = mapped_column(default=list)
    views_expressed: Mapped[str] = mapped_column(Text, default="")
    staff: Mapped[str] = mapped_column(Text, default="")
    interviewed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    imr: Mapped[Imr] = relationship(back_populates="chronology")
