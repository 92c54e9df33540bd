"""Documents from the statutory templates (Appendices 2-5), agencies' uploaded IMRs, and templates."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Response, UploadFile, status
from sqlalchemy import select

from app.auth.access import may, roles_for_imr
from app.auth.deps import CurrentPrincipal
from app.core.api import Page, SessionDep
from app.core.config import get_settings
from app.core.errors import Forbidden, Invalid, NotFound
from app.documents import service, templates
from app.documents.models import DOCUMENT_KINDS, Document
from app.documents.schemas import DocumentIn, DocumentKind, DocumentOut, TemplateOut
from app.imrs.models import Imr
from app.imrs.service import visible_imr
from app.partnerships.models import Csp
from app.reviews.service import visible_review

router = APIRouter(tags=["documents"])
DOCX_RESPONSE = {200: {"content": {service.DOCX: {}, "application/pdf": {}}, "description": "The file"}}


def file_response(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


async def read_upload(file: UploadFile) -> bytes:
    limit = get_settings().max_upload_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise Invalid(f"file: it is larger than the limit of {limit // (1024 * 1024)} MB; save it without embedded media and upload it again.")
    return content


@router.post("/reviews/{review_id}/documents", response_model=DocumentOut, status_code=status.HTTP_201_CREATED)
def generate_document(review_id: str, body: DocumentIn, session: SessionDep, principal: CurrentPrincipal) -> Document:
    """Make a document from the review as it stands; each generation is a new version."""
    review, roles = visible_review(session, principal, review_id, "documents.list")
    return service.generate(session, review=review, kind=body.kind, variant=body.variant, imr_id=body.imr_id, principal=principal, review_roles=roles)


@router.get("/reviews/{review_id}/documents", response_model=Page[DocumentOut])
def list_documents(
    review_id: str, session: SessionDep, principal: CurrentPrincipal,
    kind: DocumentKind | None = None, imr_id: Annotated[str | None, Query(max_length=32)] = None,
    published: Annotated[bool | None, Query(description="true: only the files as published (9.5)")] = None,
) -> dict:
    """Every version you may read, newest first."""
    review, roles = visible_review(session, principal, review_id, "documents.list")
    imr_roles = {imr.id: roles_for_imr(roles, principal, imr) for imr in session.scalars(select(Imr).where(Imr.review_id == review.id))}
    query = select(Document).where(Document.review_id == review.id)
    if kind:
        query = query.where(Document.kind == kind)
    if imr_id:
        query = query.where(Document.imr_id == imr_id)
    if published is not None:
        query = query.where(Document.published_on.is_not(None) if published else Document.published_on.is_(None))
    items = [
        d for d in session.scalars(query.order_by(Document.kind, Document.variant, Document.subject_id, Document.version.desc()))
        if may(imr_roles.get(d.imr_id, set()) if d.imr_id else roles, service.capability(d.kind, "read"))
    ]
    return {"items": items, "total": len(items)}


@router.get("/documents/{document_id}", response_model=DocumentOut)
def get_document(document_id: str, session: SessionDep, principal: CurrentPrincipal) -> Document:
    document, _review = service.visible_document(session, principal, document_id)
    return document


@router.get("/documents/{document_id}/content", response_class=Response, responses=DOCX_RESPONSE)
def document_content(
    document_id: str, session: SessionDep, principal: CurrentPrincipal, format: Literal["docx", "pdf"] = "docx"
) -> Response:
    """The file: .docx, or PDF (made by LibreOffice where it is installed). Each read is recorded."""
    document, review = service.visible_document(session, principal, document_id)
    body, media_type, filename = service.content_of(session, document=document, review=review, fmt=format, principal=principal)
    return file_response(body, media_type, filename)


@router.post("/imrs/{imr_id}/documents", response_model=DocumentOut, status_code=status.HTTP_201_CREATED)
async def upload_imr(imr_id: str, session: SessionDep, principal: CurrentPrincipal, file: UploadFile = File(description="The agency's IMR as a Word .docx")) -> Document:
    """An agency's own completed IMR. Identifiers found in it come back as warnings in `findings`."""
    imr, review, roles = visible_imr(session, principal, imr_id)
    service.require_upload_allowed(imr, roles)  # who may upload, before reading what
    content = await read_upload(file)
    return service.upload_imr(session, imr=imr, review=review, roles=roles, content=content, principal=principal)


def _managed_csp(session, principal, csp_id: str) -> Csp:
    csp = session.get(Csp, csp_id)
    if csp is None:
        raise NotFound("The partnership")
    if not may(principal.csp_roles.get(csp.id, set()), "templates.manage"):
        raise Forbidden("Only the partnership's CSP chair or coordinator may see or change its templates.")
    return csp


def _template_out(session, csp_id: str, kind: str) -> TemplateOut:
    template = templates.in_force(session, csp_id, kind)
    row = templates.latest_row(session, csp_id, kind) if template.source == "partnership" else None
    return TemplateOut(
        kind=kind, source=template.source, version=template.version, sha256=template.sha256,
        uploaded_by_name=row.uploaded_by_name if row else None, uploaded_at=row.created_at if row else None,
    )


@router.get("/templates/{kind}/content", response_class=Response, responses=DOCX_RESPONSE)
def statutory_template(kind: DocumentKind, principal: CurrentPrincipal) -> Response:
    """The statutory template, to start a partnership's own copy from."""
    return file_response(templates.statutory(kind).content, service.DOCX, f"{kind}-statutory-template.docx")


@router.get("/csps/{csp_id}/templates", response_model=Page[TemplateOut])
def list_templates(csp_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict:
    _managed_csp(session, principal, csp_id)
    items = [_template_out(session, csp_id, kind) for kind in DOCUMENT_KINDS]
    return {"items": items, "total": len(items)}


@router.get("/csps/{csp_id}/templates/{kind}/content", response_class=Response, responses=DOCX_RESPONSE)
def template_content(csp_id: str, kind: DocumentKind, session: SessionDep, principal: CurrentPrincipal) -> Response:
    csp = _managed_csp(session, principal, csp_id)
    template = templates.in_force(session, csp.id, kind)
    return file_response(template.content, service.DOCX, f"{kind}-{csp.code.lower()}-template-v{template.version}.docx")


@router.put("/csps/{csp_id}/templates/{kind}", response_model=TemplateOut)
async def replace_template(csp_id: str, kind: DocumentKind, session: SessionDep, principal: CurrentPrincipal, file: UploadFile = File(description="The partnership's template (.docx with docxtpl tags)")) -> TemplateOut:
    """Use the partnership's own copy from now on; refused, naming the problem, if it cannot render."""
    csp = _managed_csp(session, principal, csp_id)
    content = await read_upload(file)
    templates.replace(session, csp_id=csp.id, kind=kind, content=content, user=principal.user)
    session.flush()
    return _template_out(session, csp.id, kind)


@router.delete("/csps/{csp_id}/templates/{kind}", response_model=TemplateOut)
def reset_template(csp_id: str, kind: DocumentKind, session: SessionDep, principal: CurrentPrincipal) -> TemplateOut:
    """Go back to the statutory template; earlier copies stay on record."""
    csp = _managed_csp(session, principal, csp_id)
    templates.reset(session, csp_id=csp.id, kind=kind, user=principal.user)
    session.flush()
    return _template_out(session, csp.id, kind)
