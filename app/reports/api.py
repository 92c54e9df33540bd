"""The partnership board's quarterly report, and the Home Office's national view."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.audit import service as audit
from app.auth.deps import CurrentPrincipal
from app.core.api import PagingDep, SessionDep
from app.core.errors import Forbidden, NotFound
from app.documents.api import file_response
from app.documents.service import DOCX
from app.partnerships.models import Csp
from app.reports import document, national, quarterly
from app.reports.schemas import NationalOut, QuarterlyReportOut

router = APIRouter(tags=["reports"])
REPORT_ROLES = {"csp_chair", "csp_coordinator"}
DOCX_OR_JSON = {200: {"content": {DOCX: {}, "application/json": {"schema": {"$ref": "#/components/schemas/QuarterlyReportOut"}}},
                      "description": "The report: .docx for the board, or the same figures as JSON"}}


@router.get("/csps/{csp_id}/quarterly-report", response_class=Response, responses=DOCX_OR_JSON)
def quarterly_report(
    csp_id: str, session: SessionDep, principal: CurrentPrincipal,
    quarter: Annotated[str, Query(min_length=6, max_length=6, description="e.g. 2026Q3 (July to September 2026)")],
    format: Literal["docx", "json"] = "docx",
) -> Response:
    """Open reviews by stage (red, amber, green), timeliness, actions by lead agency and recurring themes, for the board."""
    csp = session.get(Csp, csp_id)
    if csp is None:
        raise NotFound("The partnership")
    if not principal.csp_roles.get(csp.id, set()) & REPORT_ROLES:
        raise Forbidden("Only the partnership's CSP chair or coordinator makes its quarterly report.")
    report = quarterly.build(session, csp, quarterly.Quarter.parse(quarter))
    audit.record(session, review=None, entity_type="csp", entity_id=csp.id, event="quarterly_report", actor=principal.user,
                 data={"quarter": report["quarter"], "format": format})
    if format == "json":
        return Response(QuarterlyReportOut.model_validate(report).model_dump_json(), media_type="application/json")
    return file_response(document.render(report), DOCX, f"{csp.code}-dhr-quarterly-report-{report['quarter']}.docx")


@router.get("/national/reviews", response_model=NationalOut)
def national_reviews(
    session: SessionDep, principal: CurrentPrincipal, paging: PagingDep,
    state: Annotated[str | None, Query(max_length=40)] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    csp_id: Annotated[str | None, Query(max_length=32)] = None,
) -> dict:
    """For the Home Office: every submitted review across partnerships, its QA stage, timeliness and library facts,
    a page at a time, earliest submitted first; `total`, `by_state` and `themes` count every review the filters keep."""
    if not principal.is_home_office:
        raise Forbidden("The national view is for the Home Office's DHR team.")
    return national.national_reviews(session, limit=paging.limit, offset=paging.offset, state=state, region=region, csp_id=csp_id)
