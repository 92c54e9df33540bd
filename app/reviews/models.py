"""The review: one row per death notified to a partnership, carrying its workflow state."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import relationship as related

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_csp_state", "csp_id", "state"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    csp_id: Mapped[str] = mapped_column(ForeignKey("csps.id"))
    state: Mapped[str] = mapped_column(String(40), index=True)
    workflow_name: Mapped[str] = mapped_column(String(40))
    workflow_version: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)

    notified_on: Mapped[dt.date]
    notified_by: Mapped[str] = mapped_column(String(200))
    date_of_death: Mapped[dt.date]
    death_type: Mapped[str] = mapped_column(String(20))
    relationship: Mapped[str] = mapped_column(String(30))
    victim_age: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")

    decided_on: Mapped[dt.date | None]
    decision: Mapped[str | None] = mapped_column(String(20))
    decision_rationale: Mapped[str | None] = mapped_column(Text)
    child_review_considered: Mapped[bool | None] = mapped_column(Boolean)
    home_office_notified_on: Mapped[dt.date | None]
    terms_agreed_on: Mapped[dt.date | None]
    overview_approved_on: Mapped[dt.date | None]
    family_shared_on: Mapped[dt.date | None]
    family_response: Mapped[str | None] = mapped_column(String(30))
    family_disagreements: Mapped[str | None] = mapped_column(Text)
    signed_off_on: Mapped[dt.date | None]
    first_submitted_on: Mapped[dt.date | None] = mapped_column(index=True)  # the Home Office sees these (review_visibility)
    submitted_on: Mapped[dt.date | None]
    qa_outcome: Mapped[str | None] = mapped_column(String(40))
    qa_received_on: Mapped[dt.date | None]
    qa_changes: Mapped[str | None] = mapped_column(Text)
    qa_feedback: Mapped[str | None] = mapped_column(Text)
    cleared_on: Mapped[dt.date | None]
    publication_url: Mapped[str | None] = mapped_column(String(500))
    published_on: Mapped[dt.date | None]
    withheld_reason: Mapped[str | None] = mapped_column(Text)
    concluded_on: Mapped[dt.date | None]
    pended_from: Mapped[str | None] = mapped_column(String(40))
    pend_reason: Mapped[str | None] = mapped_column(Text)
    expected_resume_on: Mapped[dt.date | None]
    # What the national DHR library indexes, and the learning themes the partnership tags it with.
    death_cause: Mapped[str | None] = mapped_column(String(40))
    death_location: Mapped[str | None] = mapped_column(String(40))
    flags: Mapped[list] = mapped_column(default=list, server_default="[]")
    themes: Mapped[list] = mapped_column(default=list, server_default="[]")

    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now, onupdate=now)

    deadlines: Mapped[list["Deadline"]] = related(  # noqa: F821
        back_populates="review", lazy="selectin", order_by="Deadline.due_on"
    )

    proceedings: Mapped[list["Proceeding"]] = related(  # noqa: F821
        back_populates="review", lazy="selectin", order_by="Proceeding.created_at"
    )

    @property
    def criminal_proceedings_open(self) -> bool:
        """9.2: an open criminal trial holds publication back."""
        return any(p.holds_publication for p in self.proceedings)

    # A concurrent change to the same review fails instead of silently overwriting.
    __mapper_args__ = {"version_id_col": version}
from app.proceedings.models import Proceeding  # noqa: E402,F401  (mapped before Review.proceedings is used)


# The lists' order (reviews.service.LIST_ORDER): a page of the Home Office's thousands of reviews is
# read from here in order, fifty at a time, not sorted from all of them on every view.
Index("ix_reviews_list_order", Review.notified_on.desc(), Review.reference)
