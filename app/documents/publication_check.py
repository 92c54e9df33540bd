"""Reads the whole text of the publication documents for identifiers (guidance 9.2, 11.1).

Two looks: the latest stored publication version of each report (what would be sent or
published as it is), and a fresh rendering from the review as it stands (what would be made
now, including whatever a partnership's own template adds). Headers, footers, footnotes,
comments and document properties are read as well as the body. A scan whose file, or whose
template, context and people, are those of a scan made before is not made again (app/documents/scans.py).
"""
from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.documents import templates
from app.documents.checks import Check
from app.documents.context import TITLES, Facts, build_context
from app.documents.models import PUBLICATION_KINDS, Document
from app.documents.render import render_docx
from app.documents.scans import Scans, scan_key
from app.documents.service import scan
from app.people.models import Person
from app.reviews.models import Review

CHECK_ID = "publication_documents"


def _people_key(people: list[Person]) -> list:
    return sorted([p.name, p.pseudonym, list(p.aliases or []), str(p.date_of_birth), p.address] for p in people)


def _latest(session: Session, review_id: str) -> dict[str, Document]:
    """The latest stored publication version of each report, in one query (content left unread)."""
    latest: dict[str, Document] = {}
    for document in session.scalars(
        select(Document)
        .where(Document.review_id == review_id, Document.kind.in_(PUBLICATION_KINDS), Document.variant == "publication")
        .order_by(Document.version.desc())
    ):
        latest.setdefault(document.kind, document)
    return latest


def _describe(findings: list[dict]) -> str:
    return "; ".join(f"{f['where']}: " + ", ".join(f"'{w}'" for w in f["words"]) for f in findings)


def publication_document_checks(session: Session, review: Review, facts: Facts, scans: Scans | None = None) -> list[Check]:
    scans = scans or Scans()
    people = facts.people
    if not people:
        return []  # the anonymisation check already asks for the people to be recorded
    failures = []
    who = _people_key(people)
    latest = _latest(session, review.id)
    for kind in PUBLICATION_KINDS:
        title = TITLES[kind]
        stored = latest.get(kind)
        if stored is not None:
            findings = scans.get(scan_key("stored", stored.sha256, who), lambda: scan(stored.content, people))
            if findings:
                failures.append(Check(
                    CHECK_ID, False,
                    f"The {title}, publication version {stored.version} ({stored.filename}), holds identifying words at {_describe(findings)}. "
                    "Correct the text they come from and generate the publication version again.",
                    f"documents/{stored.id}",
                ))
        template = templates.in_force(session, review.csp_id, kind)
        context = build_context(facts, kind, "publication")
        rendering_title = f"{title} {review.reference}"
        findings = scans.get(
            scan_key("rendered", kind, template.sha256 or hashlib.sha256(template.content).hexdigest(), rendering_title, context, who),
            lambda: scan(render_docx(template.content, context, title=rendering_title, publication=True), people),
        )
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
