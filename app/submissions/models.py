"""What went to the Home Office Quality Assurance Panel, each time, and what it asked for.

A submission (or resubmission) freezes the documents and facts the CSP signed off (8.19), so
its package can be downloaded again, byte for byte, while the review moves on.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("review_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # the package version: 1 for the submission, then each resubmission
    kind: Mapped[str] = mapped_column(String(20))  # submission | resubmission
    submitted_on: Mapped[dt.date]
    submitted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    submitted_by_name: Mapped[str] = mapped_column(String(200))
    # A resubmission: what the CSP says changed, and the QA panel's feedback it answers (11.2).
    what_changed: Mapped[str | None] = mapped_column(Text)
    answers_feedback: Mapped[str | None] = mapped_column(Text)
    # A resubmission: the parts of the review edited since the previous package, from the history.
    edits: Mapped[list | None] = mapped_column(JSON)
    # The review's history up to this sign-off: the next resubmission lists the edits made after it.
    history_seq: Mapped[int] = mapped_column(Integer, default=0)
    # The manifest's facts as they stood at sign-off; the files part is added when the zip is made.
    manifest: Mapped[dict] = mapped_column(default=dict)
    # [{"kind": ..., "document_id": ...}]: the frozen documents, in package order.
    documents: Mapped[list] = mapped_column(default=list)
    # The QA panel's answer to this submission.
    qa_outcome: Mapped[str | None] = mapped_column(String(40))
    qa_received_on: Mapped[dt.date | None]
    letter_filename: Mapped[str | None] = mapped_column(String(200))
    letter_media_type: Mapped[str | None] = mapped_column(String(100))
    letter_sha256: Mapped[str | None] = mapped_column(String(64))
    letter_size: Mapped[int | None] = mapped_column(Integer)
    letter_uploaded_by_name: Mapped[str | None] = mapped_column(String(200))
    letter_uploaded_at: Mapped[dt.datetime | None]
    letter: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    # The zip, made once at the first download (PDFs take LibreOffice seconds) and then kept.
    package_sha256: Mapped[str | None] = mapped_column(String(64))
    package_size: Mapped[int | None] = mapped_column(Integer)
    package_made_at: Mapped[dt.datetime | None]
    package: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)


class QaChange(Base):
    """One change the QA panel asked for before publication (11.3), open until it is made."""

    __tablename__ = "qa_changes"
    __table_args__ = (UniqueConstraint("review_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    made_on: Mapped[dt.date | None]
    how: Mapped[str | None] = mapped_column(Text)
    made_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    made_by_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
