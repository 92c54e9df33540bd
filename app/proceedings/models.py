"""Parallel proceedings (guidance 6.5-6.8, 9.2, 10): the criminal trial, the inquest, other reviews.

Publication is timed after them; an open criminal trial holds it back.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import relationship as related

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id

PROCEEDING_KINDS = ("criminal_trial", "inquest", "other_review")
PROCEEDING_STATUSES = ("open", "concluded")


class Proceeding(Base):
    __tablename__ = "proceedings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    expected_end_on: Mapped[dt.date | None]
    concluded_on: Mapped[dt.date | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now, onupdate=now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    review: Mapped["Review"] = related(back_populates="proceedings")  # noqa: F821

    @property
    def holds_publication(self) -> bool:
        """9.2: publication waits while a criminal trial is open."""
        return self.kind == "criminal_trial" and self.status == "open"

    __mapper_args__ = {"version_id_col": version}
