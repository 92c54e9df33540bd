"""Terms of reference: every PUT is a new version; the newest is the one in force (guidance 5.11-5.13)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id


class TermsOfReference(Base):
    __tablename__ = "terms_of_reference"
    __table_args__ = (UniqueConstraint("review_id", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    period_from: Mapped[dt.date | None]
    period_to: Mapped[dt.date | None]
    key_lines_of_enquiry: Mapped[list] = mapped_column(default=list)
    coercive_control: Mapped[bool] = mapped_column(Boolean, default=False)
    equality_and_diversity: Mapped[bool] = mapped_column(Boolean, default=False)
    suicide: Mapped[bool] = mapped_column(Boolean, default=False)
    parallel_processes: Mapped[str] = mapped_column(Text, default="")
    family_involvement: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
