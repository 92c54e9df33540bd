"""The review's people: the identifiers the anonymisation check looks for, and their pseudonyms."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id


class Person(Base):
    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    pseudonym: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list] = mapped_column(default=list)
    date_of_birth: Mapped[dt.date | None]
    address: Mapped[str | None] = mapped_column(Text)
    relationship: Mapped[str | None] = mapped_column(String(200))
    ethnicity: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
