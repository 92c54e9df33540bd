"""Generated and uploaded documents, and the partnerships' own templates.

Files live in the database, not on a disk: a generation is all or nothing with its history row,
every replica serves the same files, and a backup of the database is a backup of the documents.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id

DOCUMENT_KINDS = (
    "imr", "overview_report", "executive_summary", "action_plan", "decision_letter", "imr_commission_letter", "home_office_cover_letter",
)
# Only these are ever published (guidance 9.1); IMRs and letters stay restricted.
PUBLICATION_KINDS = ("overview_report", "executive_summary", "action_plan")


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("review_id", "kind", "variant", "subject_id", "version"),
        Index("ix_documents_review_kind", "review_id", "kind", "variant"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    variant: Mapped[str] = mapped_column(String(20))
    # The IMR a document belongs to ("" for the review's own documents), so versions count per IMR.
    subject_id: Mapped[str] = mapped_column(String(32), default="")
    imr_id: Mapped[str | None] = mapped_column(ForeignKey("imrs.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))  # generated | uploaded
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    template_sha256: Mapped[str | None] = mapped_column(String(64))
    findings: Mapped[list] = mapped_column(default=list)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    # Set on the exact files the CSP published (guidance 9.5): they are kept as they went out.
    published_on: Mapped[dt.date | None]
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    # The PDF, made by LibreOffice the first time someone asks for it.
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))


class DocumentTemplate(Base):
    """A partnership's own copy of a template; the newest row for (csp, kind) is in force.

    A row without content records a return to the statutory template, so the history stays whole.
    """

    __tablename__ = "document_templates"
    __table_args__ = (UniqueConstraint("csp_id", "kind", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    csp_id: Mapped[str] = mapped_column(ForeignKey("csps.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    uploaded_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))


class ReadinessResult(Base):
    """The readiness check's last result for a review, shared by every worker (app/documents/
    readiness_cache.py). A remembered answer for views only, never a record: `inputs` is a digest of
    everything the result depends on, and a result whose inputs moved is worked out again."""

    __tablename__ = "readiness_results"

    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), primary_key=True)
    inputs: Mapped[str] = mapped_column(String(64))
    checks: Mapped[list]
    # The reports' scans that result used, by key (app/documents/scans.py): the next check of the
    # review, after a change that leaves the reports' text as it was, reuses them in any worker.
    scans: Mapped[dict | None]
    computed_at: Mapped[dt.datetime] = mapped_column(default=now)
