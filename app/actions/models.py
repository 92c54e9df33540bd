"""Actions of the action plan (guidance 8.16-8.20, Appendix 5), each with its own lifecycle."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_lead_state", "lead_agency_id", "state"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    recommendation_id: Mapped[str] = mapped_column(ForeignKey("recommendations.id", ondelete="CASCADE"), index=True)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    workflow_name: Mapped[str] = mapped_column(String(40))
    workflow_version: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    action: Mapped[str] = mapped_column(Text)
    lead_agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"))
    target_date: Mapped[dt.date | None]
    outcome_measure: Mapped[str] = mapped_column(Text, default="")
    milestones: Mapped[str] = mapped_column(Text, default="")
    completed_on: Mapped[dt.date | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    __mapper_args__ = {"version_id_col": version}
