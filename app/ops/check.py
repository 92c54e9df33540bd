"""The restore check: every stored file still matches its SHA-256, and the history chain verifies.

Run after every restore (`dhr restore`) and on its own (`dhr check-restore`). Problems name the
row's id, what it is and the review's reference, never a person or a detail of the case.
"""
from __future__ import annotations

import hashlib
from typing import Callable

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import app.models  # noqa: F401  (every mapper, so the joins below resolve)
from app.documents.models import Document, DocumentTemplate
from app.partnerships.models import Csp
from app.reviews.models import Review
from app.submissions.models import Submission

Echo = Callable[[str], None]
# Stream the bytes a few rows at a time: a database can hold gigabytes of documents.
BATCH = 20


def _stored_files(session: Session):
    """(what it is, its expected SHA-256, its bytes) for every file the database keeps a SHA-256 of."""
    documents = (
        select(Document.id, Document.kind, Document.version, Review.reference, Document.sha256, Document.content)
        .join(Review, Review.id == Document.review_id).order_by(Document.id).execution_options(yield_per=BATCH)
    )
    for id_, kind, version, reference, sha256, content in session.execute(documents):
        yield "document", f"document {id_} ({kind} v{version}, review {reference})", sha256, content

    templates = (
        select(DocumentTemplate.id, DocumentTemplate.kind, DocumentTemplate.version, Csp.code, DocumentTemplate.sha256, DocumentTemplate.content)
        .join(Csp, Csp.id == DocumentTemplate.csp_id).where(DocumentTemplate.content.is_not(None))  # a reset row holds no file
        .order_by(DocumentTemplate.id).execution_options(yield_per=BATCH)
    )
    for id_, kind, version, code, sha256, content in session.execute(templates):
        yield "partnership template", f"partnership template {id_} ({kind} v{version}, partnership {code})", sha256, content

    # A submission keeps two files, each with its own SHA-256: the QA panel's letter and the zip.
    for column, sha_column, label in ((Submission.letter, Submission.letter_sha256, "QA letter"),
                                      (Submission.package, Submission.package_sha256, "Home Office package")):
        rows = (
            select(Submission.id, Submission.number, Review.reference, sha_column, column)
            .join(Review, Review.id == Submission.review_id).where(column.is_not(None))
            .order_by(Submission.id).execution_options(yield_per=BATCH)
        )
        for id_, number, reference, sha256, content in session.execute(rows):
            yield label, f"{label} of submission {id_} (version {number}, review {reference})", sha256, content


def file_problems(session: Session, echo: Echo) -> list[str]:
    problems: list[str] = []
    checked: dict[str, int] = {}
    for group, what, expected, content in _stored_files(session):
        checked[group] = checked.get(group, 0) + 1
        actual = hashlib.sha256(content).hexdigest()
        if actual != expected:
            problems.append(f"{what}: its bytes do not match its SHA-256 (stored {expected}, bytes give {actual})")
    summary = ", ".join(f"{n:,} {group}{'' if n == 1 else 's'}" for group, n in checked.items()) or "no stored files"
    echo(f"Checked the SHA-256 of {summary}: {len(problems) or 'no'} mismatch{'es' if len(problems) != 1 else ''}.")
    return problems


def chain_problems(session: Session, echo: Echo) -> list[str]:
    try:
        from app.audit.chain import verify
    except ModuleNotFoundError as exc:
        # The tamper-evident history chain arrives with migration 0006; until then there is nothing to verify.
        if exc.name != "app.audit.chain":
            raise
        echo("History chain: not checked (this version of dhr has no history chain).")
        return []
    problems = [f"history: {problem}" for problem in verify(session)]
    echo(f"History chain: {'verifies' if not problems else f'{len(problems)} problem(s)'}.")
    return problems


def integrity_problems(session: Session, echo: Echo) -> list[str]:
    if session.get_bind().dialect.name != "sqlite":
        return []
    result = [row[0] for row in session.execute(text("PRAGMA integrity_check"))]
    echo(f"SQLite integrity_check: {', '.join(result)}.")
    return [] if result == ["ok"] else [f"SQLite integrity_check: {line}" for line in result]


def run(engine: Engine, echo: Echo) -> list[str]:
    """Every problem found, each on one line (an empty list: the check passes)."""
    problems: list[str] = []
    # A fresh session each: the chain's verify picks its own isolation level when it begins.
    for part in (integrity_problems, file_problems, chain_problems):
        with Session(engine) as session:
            problems += part(session, echo)
    return problems
