"""The Overview Report's sections (guidance 8.10-8.14, Appendix 4) and its recommendations."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id

OVERVIEW_SECTIONS = (
    "introduction",
    "facts",
    "analysis",
    "equality_and_diversity",
    "family_contribution",
    "key_issues",
    "conclusions",
    "lessons",
)


class Overview(Base):
    __tablename__ = "overviews"

    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    introduction: Mapped[str] = mapped_column(Text, default="")
    facts: Mapped[str] = mapped_column(Text, default="")
    analysis: Mapped[str] = mapped_column(Text, default="")
    equality_and_diversity: Mapped[str] = mapped_column(Text, default="")
    family_contribution: Mapped[str] = mapped_column(Text, default="")
    key_issues: Mapped[str] = mapped_column(Text, default="")
    conclusions: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")
    # Who receives copies of the report (Appendix 4, "Dissemination").
    dissemination: Mapped[list] = mapped_column(default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now, onupdate=now)

    __mapper_args__ = {"version_id_col": version}


class Recommendation(Base):
    __tablename__ = "recommendations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(20))
    imr_id: Mapped[str | None] = mapped_column(ForeignKey("imrs.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
