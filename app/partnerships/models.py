"""Community Safety Partnerships and the agencies that take part in reviews."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id

# Six years from conclusion: see README, "Retention". A partnership's administrator may set another.
DEFAULT_RETENTION_YEARS = 6


class Csp(Base):
    __tablename__ = "csps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    region: Mapped[str] = mapped_column(String(100))
    # Years a concluded review is kept before `dhr purge` deletes it (app/retention/rules.py).
    retention_years: Mapped[int] = mapped_column(Integer, default=DEFAULT_RETENTION_YEARS, server_default=str(DEFAULT_RETENTION_YEARS))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    __mapper_args__ = {"version_id_col": version}


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)


class ReferenceCounter(Base):
    """Next review number per partnership and year, for references like DHR-2026-CAMCITY-001."""

    __tablename__ = "reference_counters"
    __table_args__ = (UniqueConstraint("csp_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    csp_id: Mapped[str] = mapped_column(ForeignKey("csps.id"))
    year: Mapped[int] = mapped_column(Integer)
    last: Mapped[int] = mapped_column(Integer, default=0)
