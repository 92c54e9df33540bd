"""The Home Office package, its versions, the QA panel's letters and requested changes (8.19-8.20, 11)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Response, UploadFile
from sqlalchemy.orm import Session

from app.auth.access import may, roles_on_review
from app.auth.deps import CurrentPrincipal
from app.core import clock
from app.core.api import Page, SessionDep
from app.core.errors import NotFound
from app.documents.api import file_response, read_upload
from app.documents.models import Document
from app.reviews.service import require, visible_review
from app.submissions import service
from app.submissions.manifest import schema as manifest_schema_document
from app.submissions.models import QaChange, Submission
from app.submissions.schemas import LetterOut, PackageOut, QaChangeEventIn, QaChangeOut, SubmissionOut
from app.workflow import engine

router = APIRouter(tags=["home office"])
# A review is submitted a handful of times; the bound also keeps a wild number out of the database driver.
PackageVersion = Annotated[int, Path(ge=1, le=999, description="The package version: 1 for the submission, then each resubmission")]
ZIP_RESPONSE = {
    200: {"content": {"application/zip": {}}, "description": "The package"},
    409: {"description": "Not submitted yet: the detail says what to do first"},
}
FILE_RESPONSE = {200: {"content": {"application/pdf": {}, "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {}}}}


def change_out(change: QaChange, numbers: dict[str, int]) -> QaChangeOut:
    return QaChangeOut(
        id=change.id, number=change.number, text=change.text, package_version=numbers[change.submission_id], made=change.made_on is not None,
        made_on=change.made_on, how=change.how, made_by_name=change.made_by_name,
    )


def submission_out(submission: Submission, documents: dict[str, Document], changes: list[QaChange]) -> SubmissionOut:
    numbers = {submission.id: submission.number}
    return SubmissionOut(
        number=submission.number, kind=submission.kind, submitted_on=submission.submitted_on, submitted_by_name=submission.submitted_by_name,
        what_changed=submission.what_changed, answers_feedback=submission.answers_feedback, edits_since_previous=submission.edits,
        qa_outcome=submission.qa_outcome,
        qa_received_on=submission.qa_received_on,
        documents=[
            {"kind": d.kind, "document_id": d.id, "filename": d.filename, "version": d.version, "sha256": d.sha256}
            for d in (documents[f["document_id"]] for f in submission.documents)
        ],
        package=PackageOut(sha256=submission.package_sha256, bytes=submission.package_size, made_at=submission.package_made_at)
        if submission.package_sha256 else None,
        letter=LetterOut(
            filename=submission.letter_filename, media_type=submission.letter_media_type, sha256=submission.letter_sha256,
            bytes=submission.letter_size, uploaded_by_name=submission.letter_uploaded_by_name, uploaded_at=submission.letter_uploaded_at,
        ) if submission.letter_sha256 else None,
        changes=[change_out(c, numbers) for c in changes if c.submission_id == submission.id],
    )


def submissions_out(session: Session, review_id: str, submissions: list[Submission]) -> list[SubmissionOut]:
    documents = service.frozen_documents(session, submissions)
    changes = service.changes_of(session, review_id)
    return [submission_out(s, documents, changes) for s in submissions]


@router.get("/reviews/{review_id}/submissions", response_model=Page[SubmissionOut])
def list_submissions(review_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict:
    """Each submission and resubmission to the Home Office: its package version, QA outcome, letter and changes."""
    review, _roles = visible_review(session, principal, review_id, "submissions.read")
    items = submissions_out(session, review.id, service.submissions_of(session, review.id))
    return {"items": items, "total": len(items)}


@router.get("/reviews/{review_id}/home-office-package", response_class=Response, responses=ZIP_RESPONSE)
def home_office_package(
    review_id: str, session: SessionDep, principal: CurrentPrincipal,
    version: Annotated[int | None, Query(ge=1, le=999, description="The package version (default: the latest submission)")] = None,
) -> Response:
    """The zip for the QA panel: cover letter, Overview Report, Executive Summary and Action Plan (.docx, and PDF where
    LibreOffice is installed) and manifest.json. Never an IMR. Each download is in the history."""
    review, _roles = visible_review(session, principal, review_id, "submissions.read")
    submission = service.get(session, review, version)
    body, filename = service.package(session, review=review, submission=submission, principal=principal)
    return file_response(body, "application/zip", filename)


@router.get("/home-office-package/schema", response_model=dict)
def manifest_schema(principal: CurrentPrincipal) -> dict:
    """The JSON Schema every package's manifest.json follows."""
    return manifest_schema_document()


@router.put("/reviews/{review_id}/submissions/{number}/letter", response_model=SubmissionOut)
async def attach_qa_letter(
    review_id: str, number: PackageVersion, session: SessionDep, principal: CurrentPrincipal,
    file: UploadFile = File(description="The QA panel's letter, PDF or .docx"),
) -> SubmissionOut:
    """Attach the QA panel's letter to the submission it answers; a new file replaces it, recorded in the history."""
    review, roles = visible_review(session, principal, review_id, "submissions.read")
    require(roles, "qa_letter.attach", "Only the Home Office, the CSP chair or the CSP coordinator attaches the QA panel's letter.")
    submission = service.get(session, review, number)
    content = await read_upload(file)
    service.attach_letter(session, review=review, submission=submission, filename=file.filename or "", content=content, principal=principal)
    session.flush()
    return submissions_out(session, review.id, [submission])[0]


@router.get("/reviews/{review_id}/submissions/{number}/letter", response_class=Response, responses=FILE_RESPONSE)
def qa_letter(review_id: str, number: PackageVersion, session: SessionDep, principal: CurrentPrincipal) -> Response:
    review, _roles = visible_review(session, principal, review_id, "submissions.read")
    submission = service.get(session, review, number)
    body, media, filename = service.letter(session, review=review, submission=submission, principal=principal)
    return file_response(body, media, filename)


@router.get("/reviews/{review_id}/qa-changes", response_model=Page[QaChangeOut])
def list_qa_changes(review_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict:
    """Every change the QA panel asked for, made or not (guidance 11.3)."""
    review, _roles = visible_review(session, principal, review_id, "qa_changes.read")
    numbers = {s.id: s.number for s in service.submissions_of(session, review.id)}
    items = [change_out(c, numbers) for c in service.changes_of(session, review.id)]
    return {"items": items, "total": len(items)}


@router.post("/qa-changes/{change_id}/events", response_model=QaChangeOut)
def qa_change_event(change_id: str, body: QaChangeEventIn, session: SessionDep, principal: CurrentPrincipal) -> QaChangeOut:
    """`made` with how it was made, or `reopen` with why; confirm_changes_made waits until every change is made."""
    change = session.get(QaChange, change_id)
    review = engine.load_review(session, change.review_id) if change else None
    roles = roles_on_review(session, principal, review) if review else set()
    if change is None or not may(roles, "qa_changes.read"):
        raise NotFound("The QA change")
    require(roles, "qa_changes.mark", "Only the CSP chair, the CSP coordinator or the panel chair marks the QA panel's changes made.")
    review = engine.lock_review(session, review.id)
    session.refresh(change)
    service.mark_change(session, review=review, change=change, event=body.event, text=body.text, on=body.on or clock.today(), principal=principal)
    numbers = {s.id: s.number for s in service.submissions_of(session, review.id)}
    return change_out(change, numbers)
