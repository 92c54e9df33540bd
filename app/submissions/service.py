"""Submissions to the Home Office: freezing them at sign-off, their packages, QA letters and changes."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.models import HistoryEntry
from app.auth.access import Principal
from app.core import clock
from app.core.config import get_settings
from app.core.errors import Conflict, Invalid, NotFound
from app.documents import pdf
from app.documents import service as documents
from app.documents.checks import Check
from app.documents.context import PACKAGE_REPORTS, ROLE_LABELS, load_facts, signatory_for
from app.documents.docx_safety import UnsafeDocument, inspect_docx
from app.documents.models import Document
from app.reviews.models import Review
from app.submissions import manifest as manifests
from app.submissions.models import QaChange, Submission
from app.workflow import engine

COVER_LETTER = "home_office_cover_letter"
PACKAGE_KINDS = (COVER_LETTER, *PACKAGE_REPORTS)
PDF = "application/pdf"
LETTER_TYPES = {".pdf": PDF, ".docx": documents.DOCX}
# The edits a resubmission lists as changed since the last package, by the part of the review they touch.
EDIT_PARTS = {
    "edit_overview": "Overview Report",
    "add_recommendation": "Recommendations",
    "add_action": "Action plan",
    "edit_action": "Action plan",
    "revise_terms_of_reference": "Terms of reference",
    "add_person": "People and pseudonyms",
    "add_panel_member": "Review panel",
    "add_chronology_entry": "Combined chronology",
    "edit_imr": "IMR content quoted in the report",
    "describe_review": "Library facts and themes",
}


def submissions_of(session: Session, review_id: str) -> list[Submission]:
    return list(session.scalars(select(Submission).where(Submission.review_id == review_id).order_by(Submission.number)))


def latest(session: Session, review_id: str) -> Submission | None:
    return session.scalars(select(Submission).where(Submission.review_id == review_id).order_by(Submission.number.desc()).limit(1)).first()


def get(session: Session, review: Review, number: int | None) -> Submission:
    """The submission asked for, or the latest; 409 saying why when there is none yet."""
    found = latest(session, review.id) if number is None else session.scalars(
        select(Submission).where(Submission.review_id == review.id, Submission.number == number)
    ).first()
    if found is None:
        if number is None:
            raise Conflict(
                f"The review is {review.state.replace('_', ' ')} and has not been signed off: the Home Office package is made when "
                "the CSP chair submits it (guidance 8.19). Run the readiness check, then fire submit."
            )
        raise NotFound(f"Package version {number}")
    return found


# Freezing a submission (the submit and resubmit events) ------------------------------------------

def edits_since(session: Session, review_id: str, after_seq: int) -> list[dict]:
    """What was edited after the last package, part by part, with the fields and the last date (11.2)."""
    parts: dict[str, dict] = {}
    entries = session.scalars(
        select(HistoryEntry).where(HistoryEntry.review_id == review_id, HistoryEntry.seq > after_seq, HistoryEntry.event.in_(EDIT_PARTS))
        .order_by(HistoryEntry.seq)
    )
    for entry in entries:
        part = parts.setdefault(EDIT_PARTS[entry.event], {"part": EDIT_PARTS[entry.event], "fields": set(), "edits": 0, "last_on": None})
        part["fields"].update(name.replace("_", " ") for name in entry.changes or {})
        part["edits"] += 1
        part["last_on"] = entry.on.isoformat()
    return [{**part, "fields": sorted(part["fields"])} for part in parts.values()]


def _last_seq(session: Session, review_id: str) -> int:
    return session.scalar(select(func.max(HistoryEntry.seq)).where(HistoryEntry.review_id == review_id)) or 0


def freeze(session: Session, *, review: Review, actor: Principal, roles: set[str], on: dt.date, readiness: list[Check],
           what_changed: str | None) -> Submission:
    """Keeps what the CSP signed off: the three reports as agreed for publication, the cover letter, the facts."""
    previous = latest(session, review.id)
    number = previous.number + 1 if previous else 1
    kind = "submission" if number == 1 else "resubmission"
    edits = edits_since(session, review.id, previous.history_seq) if previous else None
    name, role = signatory_for(actor.user, roles)
    submission = Submission(
        review_id=review.id, number=number, kind=kind, submitted_on=on, submitted_by=actor.id, submitted_by_name=actor.user.name,
        what_changed=(what_changed or None) if kind == "resubmission" else None,
        answers_feedback=review.qa_feedback if kind == "resubmission" else None, edits=edits,
    )
    session.add(submission)
    session.flush()
    facts = load_facts(session, review)
    purpose = f"{kind} {number} to the Home Office"
    frozen = []
    for doc_kind in PACKAGE_KINDS:
        variant = "restricted" if doc_kind == COVER_LETTER else "publication"
        document = documents.make(session, review=review, kind=doc_kind, variant=variant, actor=actor.user, signatory=(name, role),
                                  facts=facts, purpose=purpose)
        frozen.append({"kind": doc_kind, "document_id": document.id})
    submission.documents = frozen
    submission.manifest = manifests.facts_manifest(
        facts, number=number, kind=kind, on=on, submitted_by={"name": name, "role": role or ROLE_LABELS["csp_chair"]},
        readiness=readiness, what_changed=submission.what_changed, answers_feedback=submission.answers_feedback, edits=edits,
    )
    session.flush()
    submission.history_seq = _last_seq(session, review.id)  # the generate_document rows above included
    return submission


# The package ------------------------------------------------------------------------------------

def package_name(review: Review, submission: Submission) -> str:
    return f"{review.reference}-home-office-package-v{submission.number}.zip"


def frozen_documents(session: Session, submissions: list[Submission]) -> dict[str, Document]:
    """The documents the submissions froze, by id, in one query."""
    ids = [f["document_id"] for s in submissions for f in s.documents]
    return {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(ids)))}


def _frozen_documents(session: Session, submission: Submission) -> list[Document]:
    by_id = frozen_documents(session, [submission])
    return [by_id[f["document_id"]] for f in submission.documents]


def _ensure_pdfs(session: Session, submission: Submission) -> None:
    """LibreOffice takes seconds a file: convert with no transaction open, then store the PDFs."""
    missing = [(d.id, d.content) for d in _frozen_documents(session, submission) if d.pdf is None]
    if not missing:
        return
    session.commit()
    converted = {document_id: pdf.to_pdf(content) for document_id, content in missing}
    for document_id, body in converted.items():
        document = session.get(Document, document_id)
        if document.pdf is None:
            document.pdf = body


def _zip(review: Review, submission: Submission, documents_: list[Document], with_pdf: bool) -> tuple[bytes, dict]:
    entries: list[tuple[str, bytes]] = []
    files = []
    for document in documents_:
        formats = [("docx", document.content, documents.DOCX)] + ([("pdf", document.pdf, PDF)] if with_pdf else [])
        for fmt, body, media in formats:
            name = document.filename.removesuffix(".docx") + f".{fmt}"
            entries.append((name, body))
            files.append({"name": name, "kind": document.kind, "format": fmt, "media_type": media, "bytes": len(body),
                          "sha256": hashlib.sha256(body).hexdigest(), "version": document.version})
    manifest = json.loads(json.dumps(submission.manifest))
    manifest["package"]["made_at"] = clock.now().replace(microsecond=0).isoformat()
    manifest["package"]["file_name"] = package_name(review, submission)
    manifest["files"] = files
    manifests.validate(manifest)
    entries.append(("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"))
    stamp = submission.submitted_on.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, body)
    return out.getvalue(), manifest


def package(session: Session, *, review: Review, submission: Submission, principal: Principal) -> tuple[bytes, str]:
    """The zip of this submission: made at its first download, then the same bytes every time."""
    if submission.package is None and pdf.available():
        _ensure_pdfs(session, submission)
    engine.lock_review(session, review.id)
    session.refresh(submission)
    if submission.package is None:  # nobody made it while the PDFs were converted
        body, _manifest = _zip(review, submission, _frozen_documents(session, submission), pdf.available())
        submission.package = body
        submission.package_sha256 = hashlib.sha256(body).hexdigest()
        submission.package_size = len(body)
        submission.package_made_at = clock.now()
    audit.record(
        session, review=review, entity_type="submission", entity_id=submission.id, event="download_home_office_package",
        actor=principal.user, data={"version": submission.number, "sha256": submission.package_sha256, "bytes": submission.package_size},
    )
    return submission.package, package_name(review, submission)


# The QA panel's letter ----------------------------------------------------------------------------

def _letter_type(filename: str, content: bytes) -> str:
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in LETTER_TYPES:
        raise Invalid("file: attach the QA panel's letter as a PDF or a Word .docx file.")
    if suffix == ".pdf":
        if not content.startswith(b"%PDF-"):
            raise Invalid("file: this is not a PDF file (it does not begin with %PDF-); save the letter as PDF and attach it again.")
        if len(content) > get_settings().max_upload_bytes:
            raise Invalid(f"file: it is larger than the limit of {get_settings().max_upload_bytes // (1024 * 1024)} MB.")
    else:
        try:
            inspect_docx(content, max_bytes=get_settings().max_upload_bytes)
        except UnsafeDocument as problem:
            raise Invalid(f"file: {problem.message}") from None
    return LETTER_TYPES[suffix]


def attach_letter(session: Session, *, review: Review, submission: Submission, filename: str, content: bytes, principal: Principal) -> Submission:
    media = _letter_type(filename, content)
    engine.lock_review(session, review.id)
    previous = submission.letter_sha256
    submission.letter = content
    submission.letter_media_type = media
    submission.letter_sha256 = hashlib.sha256(content).hexdigest()
    submission.letter_size = len(content)
    # The stored name is ours: the uploaded one may carry a person's name into URLs and logs.
    submission.letter_filename = f"{review.reference}-qa-letter-v{submission.number}{'.pdf' if media == PDF else '.docx'}"
    submission.letter_uploaded_by_name = principal.user.name
    submission.letter_uploaded_at = clock.now()
    audit.record(
        session, review=review, entity_type="submission", entity_id=submission.id, event="attach_qa_letter", actor=principal.user,
        data={"version": submission.number, "sha256": submission.letter_sha256, "bytes": len(content), "replaces": previous},
    )
    return submission


def letter(session: Session, *, review: Review, submission: Submission, principal: Principal) -> tuple[bytes, str, str]:
    if submission.letter is None:
        raise NotFound(f"The QA letter of package version {submission.number}")
    engine.lock_review(session, review.id)
    audit.record(session, review=review, entity_type="submission", entity_id=submission.id, event="download_qa_letter",
                 actor=principal.user, data={"version": submission.number, "sha256": submission.letter_sha256})
    return submission.letter, submission.letter_media_type, submission.letter_filename


# QA outcomes and the changes the panel asks for -----------------------------------------------------

def record_outcome(session: Session, *, review: Review, outcome: str, received_on: dt.date, changes: list[str]) -> list[QaChange]:
    submission = latest(session, review.id)
    if submission is None:
        return []  # a review submitted before submissions were kept
    submission.qa_outcome = outcome
    submission.qa_received_on = received_on
    first = (session.scalar(select(func.max(QaChange.number)).where(QaChange.review_id == review.id)) or 0) + 1
    items = [QaChange(review_id=review.id, submission_id=submission.id, number=first + i, text=text) for i, text in enumerate(changes)]
    session.add_all(items)
    session.flush()
    return items


def changes_of(session: Session, review_id: str, *, open_only: bool = False) -> list[QaChange]:
    query = select(QaChange).where(QaChange.review_id == review_id)
    if open_only:
        query = query.where(QaChange.made_on.is_(None))
    return list(session.scalars(query.order_by(QaChange.number)))


def mark_change(session: Session, *, review: Review, change: QaChange, event: str, text: str, on: dt.date, principal: Principal) -> QaChange:
    """made (with how) or reopen (with why): only while the review is cleared subject to changes."""
    if review.state != "cleared_subject_to_changes":
        raise Conflict(f"The review is {review.state.replace('_', ' ')}: the QA panel's changes are marked made only while it is "
                       "cleared subject to changes (guidance 11.3).")
    if event == "made":
        if change.made_on is not None:
            raise Conflict(f"Change {change.number} was already marked made on {change.made_on.isoformat()}; reopen it first to change how.")
        if on > clock.today():
            raise Invalid("on: a change cannot have been made in the future.")
        values = {"made_on": on, "how": text, "made_by": principal.id, "made_by_name": principal.user.name}
    else:
        if change.made_on is None:
            raise Conflict(f"Change {change.number} is not marked made, so there is nothing to reopen.")
        values = {"made_on": None, "how": None, "made_by": None, "made_by_name": None}
    changes = audit.diff(change, values)
    session.flush()
    audit.record(
        session, review=review, entity_type="qa_change", entity_id=change.id, event=f"qa_change_{event}", actor=principal.user,
        data={"number": change.number}, changes={k: v for k, v in changes.items() if k != "made_by"}, note=text if event == "reopen" else None,
    )
    return change
