"""Legal holds: a review under a hold is kept whatever its retention period says."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id


class LegalHold(Base):
    __tablename__ = "legal_holds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_on: Mapped[dt.date]
    placed_at: Mapped[dt.datetime] = mapped_column(default=now)
    placed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    placed_by_name: Mapped[str] = mapped_column(String(200))
    lifted_on: Mapped[dt.date | None]
    lifted_at: Mapped[dt.datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    lifted_by_name: Mapped[str | None] = mapped_column(String(200))
    lift_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def active(self) -> bool:
        return self.lifted_on is None
