"""The terms of reference in force: the newest version."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.terms.models import TermsOfReference


def latest_terms(session: Session, review_id: str) -> TermsOfReference | None:
    return session.scalars(
        select(TermsOfReference).where(TermsOfReference.review_id == review_id).order_by(TermsOfReference.version.desc()).limit(1)
    ).first()
