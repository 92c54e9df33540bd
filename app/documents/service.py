"""Generating, uploading, listing and reading documents; each one a new version with its history row."""
from __future__ import annotations

import hashlib
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.access import Principal, may, roles_for_imr, roles_on_review
from app.core.config import get_settings
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.documents import pdf, templates
from app.documents.anonymisation import find_identifiers, matchers_for
from app.documents.context import TITLES, Facts, build_context, load_facts, signatory_for
from app.documents.docx_safety import UnsafeDocument, inspect_docx
from app.documents.docx_text import text_parts
from app.documents.models import PUBLICATION_KINDS, Document
from app.documents.render import render_docx
from app.imrs.models import Imr
from app.partnerships.models import Agency
from app.people.models import Person
from app.reviews.models import Review
from app.workflow import engine

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
IMR_KINDS = ("imr", "imr_commission_letter")


def capability(kind: str, action: str) -> str:
    group = "reports" if kind in PUBLICATION_KINDS else kind
    return f"documents.{group}.{action}"


def roles_for(session: Session, principal: Principal, review_roles: set[str], imr_id: str | None) -> set[str]:
    if not imr_id:
        return review_roles
    imr = session.get(Imr, imr_id)
    return roles_for_imr(review_roles, principal, imr) if imr else set()


def may_read(session: Session, principal: Principal, review_roles: set[str], document: Document) -> bool:
    return may(roles_for(session, principal, review_roles, document.imr_id), capability(document.kind, "read"))


def scan(content: bytes, people: list) -> list[dict]:
    """Where in a .docx an identifier of the review's people appears, and which words."""
    matchers = matchers_for(people)
    findings = []
    for part in text_parts(content):
        words = find_identifiers(part.text, matchers)
        if words:
            findings.append({"where": part.where, "words": words})
    return findings


def _next_version(session: Session, review_id: str, kind: str, variant: str, subject_id: str) -> int:
    current = session.scalar(
        select(func.max(Document.version)).where(
            Document.review_id == review_id, Document.kind == kind, Document.variant == variant, Document.subject_id == subject_id
        )
    )
    return (current or 0) + 1


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def filename_for(review: Review, kind: str, variant: str, version: int, agency: Agency | None = None) -> str:
    """Reference, kind, agency, variant and version: never a person's name (names reach URLs and logs)."""
    parts = [review.reference, kind.replace("_", "-")]
    if agency is not None:
        parts.append(_slug(agency.name))
    if variant == "publication":
        parts.append("publication")
    return "-".join(parts) + f"-v{version}.docx"


def _imr_for(session: Session, review: Review, kind: str, imr_id: str | None) -> tuple[Imr | None, Agency | None]:
    if kind not in IMR_KINDS:
        if imr_id:
            raise Invalid(f"imr_id: only an IMR or its commissioning letter belongs to an IMR; leave it out for the {TITLES[kind]}.")
        return None, None
    if not imr_id:
        raise Invalid(f"imr_id: say which agency's IMR the {TITLES[kind]} is for (GET /api/v1/reviews/{{id}}/imrs lists them).")
    imr = session.get(Imr, imr_id)
    if imr is None or imr.review_id != review.id:
        raise NotFound("The IMR")
    return imr, session.get(Agency, imr.agency_id)


def render(session: Session, review: Review, kind: str, variant: str, *, imr_id: str | None = None, version: int = 1,
           signatory: tuple[str, str] = ("", ""), facts: Facts | None = None) -> tuple[bytes, templates.Template, Facts]:
    """The document as it would be made now, with the template and facts it was made from."""
    facts = facts or load_facts(session, review)
    template = templates.in_force(session, review.csp_id, kind)
    context = build_context(facts, kind, variant, imr_id=imr_id, version=version, signatory=signatory)
    content = render_docx(template.content, context, title=f"{TITLES[kind]} {review.reference}", publication=variant == "publication")
    return content, template, facts


def generate(session: Session, *, review: Review, kind: str, variant: str, imr_id: str | None, principal: Principal | None, review_roles: set[str]) -> Document:
    """Renders the document from the review as it stands and stores it as the next version."""
    templates.require_kind(kind)
    if variant not in templates.variants_of(kind):
        raise Invalid(f"variant: the {TITLES[kind]} is never published (guidance 9.1), so it is made in the restricted variant only.")
    imr, agency = _imr_for(session, review, kind, imr_id)
    if principal is not None:
        roles = roles_for(session, principal, review_roles, imr.id if imr else None)
        if not may(roles, capability(kind, "read")):
            raise NotFound("The IMR" if imr else "That part of the review")
        if not may(roles, capability(kind, "generate")):
            raise Forbidden(f"You may read the {TITLES[kind]} but not make a new one: ask the panel chair or the CSP coordinator.")
    else:
        roles = set()
    engine.lock_review(session, review.id)  # versions are numbered one after another
    signatory = signatory_for(principal.user, roles) if principal else ("", "")
    return make(session, review=review, kind=kind, variant=variant, imr=imr, agency=agency,
                actor=principal.user if principal else None, signatory=signatory)


def make(session: Session, *, review: Review, kind: str, variant: str, actor, signatory: tuple[str, str] = ("", ""),
         imr: Imr | None = None, agency: Agency | None = None, facts: Facts | None = None, published_on=None,
         purpose: str | None = None) -> Document:
    """Renders and stores the next version, with its history row. The caller holds the review's lock."""
    subject_id = imr.id if imr else ""
    version = _next_version(session, review.id, kind, variant, subject_id)
    content, template, facts = render(session, review, kind, variant, imr_id=subject_id or None, version=version, signatory=signatory, facts=facts)
    document = Document(
        review_id=review.id, kind=kind, variant=variant, subject_id=subject_id, imr_id=imr.id if imr else None, version=version,
        source="generated", filename=filename_for(review, kind, variant, version, agency), sha256=hashlib.sha256(content).hexdigest(),
        size=len(content), template_sha256=template.sha256, content=content,
        findings=scan(content, facts.people) if variant == "publication" else [], published_on=published_on,
        created_by=actor.id if actor else None, created_by_name=actor.name if actor else "system",
    )
    session.add(document)
    session.flush()
    data = {"kind": kind, "variant": variant, "version": version, "imr_id": document.imr_id, "sha256": document.sha256,
            "template": template.source, "template_version": template.version}
    if purpose:
        data["for"] = purpose
    audit.record(session, review=review, entity_type="document", entity_id=document.id, event="generate_document", actor=actor, data=data)
    return document


def require_upload_allowed(imr: Imr, roles: set[str]) -> None:
    if not may(roles, "documents.imr.upload"):
        raise Forbidden("Only the agency's IMR author or senior manager may upload its IMR.")
    if not engine.definition_of(imr).may_edit("content", imr.state):
        raise Conflict(f"The IMR is {imr.state.replace('_', ' ')} and can no longer change; the panel chair can return it to the agency.")


def upload_imr(session: Session, *, imr: Imr, review: Review, roles: set[str], content: bytes, principal: Principal) -> Document:
    """An agency's own completed IMR (.docx): checked, scanned for identifiers, stored as a version."""
    require_upload_allowed(imr, roles)
    try:
        inspect_docx(content, max_bytes=get_settings().max_upload_bytes)
    except UnsafeDocument as problem:
        raise Invalid(f"file: {problem.message}") from None
    engine.lock_review(session, review.id)
    people = session.scalars(select(Person).where(Person.review_id == review.id)).all()
    version = _next_version(session, review.id, "imr", "restricted", imr.id)
    document = Document(
        review_id=review.id, kind="imr", variant="restricted", subject_id=imr.id, imr_id=imr.id, version=version, source="uploaded",
        filename=filename_for(review, "imr", "restricted", version, session.get(Agency, imr.agency_id)),
        sha256=hashlib.sha256(content).hexdigest(), size=len(content), template_sha256=None, content=content,
        findings=scan(content, people), created_by=principal.id, created_by_name=principal.user.name,
    )
    session.add(document)
    session.flush()
    audit.record(
        session, review=review, entity_type="document", entity_id=document.id, event="upload_imr", actor=principal.user,
        data={"imr_id": imr.id, "version": version, "sha256": document.sha256, "identifier_warnings": len(document.findings)},
    )
    return document


def visible_document(session: Session, principal: Principal, document_id: str) -> tuple[Document, Review]:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound("The document")
    review = engine.load_review(session, document.review_id)
    if not may_read(session, principal, roles_on_review(session, principal, review), document):
        raise NotFound("The document")
    return document, review


def content_of(session: Session, *, document: Document, review: Review, fmt: str, principal: Principal) -> tuple[bytes, str, str]:
    """The file in the asked format, with its media type and name; each read is in the history."""
    if fmt == "pdf":
        if document.pdf is None:
            docx = document.content
            # LibreOffice takes seconds: end the transaction first, so no lock (on SQLite, the
            # database's write lock) is held while it works. Nothing has been changed yet.
            session.commit()
            converted = pdf.to_pdf(docx)
            document.pdf = converted
        body, media, filename = document.pdf, "application/pdf", document.filename.removesuffix(".docx") + ".pdf"
    else:
        body, media, filename = document.content, DOCX, document.filename
    engine.lock_review(session, review.id)
    audit.record(
        session, review=review, entity_type="document", entity_id=document.id, event="download_document", actor=principal.user,
        data={"kind": document.kind, "variant": document.variant, "version": document.version, "format": fmt},
    )
    return body, media, filename
