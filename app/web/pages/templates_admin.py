"""A partnership's own Word templates: download the statutory one, upload a re-branded copy, go back."""
from __future__ import annotations

import typing

from fastapi import APIRouter
from fastapi.responses import Response

from app.documents import api as documents_api
from app.documents.schemas import DocumentKind
from app.partnerships.models import Csp
from app.web.calls import Refused, perform
from app.web.forms import FieldSpec
from app.web.pages import forms_flow
from app.web.pages.common import Posted, SignedIn, Web, fetch, form_page, redirect, render
from app.web.templating import date_time, humanise

router = APIRouter()
KINDS = typing.get_args(DocumentKind)


def _csp(web: Web, csp_id: str) -> Csp:
    """The partnership, if this person is its chair or coordinator; otherwise a 404 page."""
    csp = web.session.get(Csp, csp_id)
    if csp is None or not web.user.csp_roles.get(csp.id, set()) & {"csp_chair", "csp_coordinator"}:
        raise Refused(404, "")
    return csp


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise Refused(404, "")
    return kind


@router.get("/templates")
def partnerships(web: SignedIn) -> Response:
    ids = [csp for csp, roles in web.user.csp_roles.items() if roles & {"csp_chair", "csp_coordinator"}]
    if not ids:
        raise Refused(404, "")
    if len(ids) == 1:
        return redirect(web, f"/csps/{ids[0]}/templates")
    csps = web.session.query(Csp).filter(Csp.id.in_(ids)).order_by(Csp.name).all()
    return render(web, "part.html", title="Word templates", blocks=[
        {"type": "table", "head": ["Partnership"], "rows": [[{"href": f"/csps/{c.id}/templates", "text": c.name}] for c in csps]}])


@router.get("/csps/{csp_id}/templates")
def templates(web: SignedIn, csp_id: str) -> Response:
    csp = _csp(web, csp_id)
    items = fetch(web, documents_api.list_templates, csp_id=csp_id)["items"]
    rows = []
    for t in items:
        own = t.source == "partnership"
        rows.append([
            humanise(t.kind),
            f"The partnership's own, version {t.version}, uploaded {date_time(t.uploaded_at)} by {t.uploaded_by_name}" if own else "The statutory template",
            {"href": f"/csps/{csp_id}/templates/{t.kind}/content", "text": f"Download the {humanise(t.kind).lower()} template in use"},
            {"href": f"/csps/{csp_id}/templates/{t.kind}/replace", "text": f"Replace the {humanise(t.kind).lower()} template"},
            {"href": f"/csps/{csp_id}/templates/{t.kind}/reset", "text": f"Go back to the statutory {humanise(t.kind).lower()} template"} if own else "",
        ])
    return render(web, "part.html", title="Word templates", caption=csp.name, blocks=[
        {"type": "text", "text": "Documents are made from these templates. Download one, re-brand it in Word keeping its {{ tags }}, and upload it: it is checked by rendering it before it is used."},
        {"type": "table", "head": ["Document", "In use", "Download", "Replace", "Statutory"], "rows": rows}])


@router.get("/csps/{csp_id}/templates/{kind}/content")
def template_content(web: SignedIn, csp_id: str, kind: str) -> Response:
    _csp(web, csp_id)
    return fetch(web, documents_api.template_content, csp_id=csp_id, kind=_kind(kind))


def upload_fields() -> list[FieldSpec]:
    return [FieldSpec(name="file", label="The partnership's template", widget="file", required=True, hint="A Word .docx file with the template's tags.")]


@router.get("/csps/{csp_id}/templates/{kind}/replace")
def replace_form(web: SignedIn, csp_id: str, kind: str) -> Response:
    csp = _csp(web, csp_id)
    return form_page(web, title=f"Replace the {humanise(_kind(kind)).lower()} template", caption=csp.name, specs=upload_fields(),
                     submit="Upload the template", back=f"/csps/{csp_id}/templates", multipart=True)


@router.post("/csps/{csp_id}/templates/{kind}/replace")
def replace(web: SignedIn, form: Posted, csp_id: str, kind: str) -> Response:
    csp = _csp(web, csp_id)
    return forms_flow.submit(web, form, fn=documents_api.replace_template, model=None, specs=upload_fields(), caption=csp.name,
                                   title=f"Replace the {humanise(_kind(kind)).lower()} template", submit_text="Upload the template",
                                   back=f"/csps/{csp_id}/templates", done=f"/csps/{csp_id}/templates", multipart=True,
                                   message="The template is checked and in use from now on.", csp_id=csp_id, kind=kind)


@router.get("/csps/{csp_id}/templates/{kind}/reset")
def reset_form(web: SignedIn, csp_id: str, kind: str) -> Response:
    csp = _csp(web, csp_id)
    return form_page(web, title=f"Go back to the statutory {humanise(_kind(kind)).lower()} template", caption=csp.name, specs=[],
                     submit="Use the statutory template", back=f"/csps/{csp_id}/templates",
                     intro="The partnership's copies stay on record; documents made from now on use the statutory template.")


@router.post("/csps/{csp_id}/templates/{kind}/reset")
def reset(web: SignedIn, form: Posted, csp_id: str, kind: str) -> Response:
    _csp(web, csp_id)
    perform(documents_api.reset_template, session=web.session, principal=web.user, csp_id=csp_id, kind=_kind(kind))
    return redirect(web, f"/csps/{csp_id}/templates", "The statutory template is in use again.")
