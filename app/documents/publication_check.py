"""Reads the whole text of the publication documents for identifiers (guidance 9.2, 11.1).

Two looks: the latest stored publication version of each report (what would be sent or
published as it is), and a fresh rendering from the review as it stands (what would be made
now, including whatever a partnership's own template adds). Headers, footers, footnotes,
comments and document properties are read as well as the body.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.documents.context import TITLES
from app.documents.models import PUBLICATION_KINDS, Document
from app.documents.checks import Check
from app.documents.service import render, scan
from app.people.models import Person
from app.reviews.models import Review

CHECK_ID = "publication_documents"


def _latest(session: Session, review_id: str, kind: str) -> Document | None:
    return session.scalars(
        select(Document)
        .where(Document.review_id == review_id, Document.kind == kind, Document.variant == "publication")
        .order_by(Document.version.desc())
        .limit(1)
    ).first()


def _describe(findings: list[dict]) -> str:
    return "; ".join(f"{f['where']}: " + ", ".join(f"'{w}'" for w in f["words"]) for f in findings)


def publication_document_checks(session: Session, review: Review) -> list[Check]:
    people = session.scalars(select(Person).where(Person.review_id == review.id)).all()
    if not people:
        return []  # the anonymisation check already asks for the people to be recorded
    failures = []
    facts = None  # read once for the three reports
    for kind in PUBLICATION_KINDS:
        title = TITLES[kind]
        stored = _latest(session, review.id, kind)
        if stored is not None:
            findings = scan(stored.content, people)
            if findings:
                failures.append(Check(
                    CHECK_ID, False,
                    f"The {title}, publication version {stored.version} ({stored.filename}), holds identifying words at {_describe(findings)}. "
                    "Correct the text they come from and generate the publication version again.",
                    f"documents/{stored.id}",
                ))
        content, _template, facts = render(session, review, kind, "publication", facts=facts)
        findings = scan(content, people)
        if findings:
            failures.append(Check(
                CHECK_ID, False,
                f"The {title} made now for publication would hold identifying words at {_describe(findings)}. "
                "They come from the partnership's template or from text the pseudonyms cannot replace: correct it.",
                f"documents.{kind}.publication",
            ))
    if failures:
        return failures
    return [Check(CHECK_ID, True, "The publication versions of the Overview Report, Executive Summary and Action Plan hold no identifier of the review's people, in any part of the file.")]
