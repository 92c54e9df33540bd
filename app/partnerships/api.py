"""Partnerships (CSPs) and agencies: set up by an administrator, listed for everyone signed in."""
from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import func, select

from app.audit import service as audit
from app.auth.deps import AdminPrincipal, CurrentPrincipal
from app.core.api import IfMatch, Page, PagingDep, SessionDep, etag, require_if_match
from app.core.errors import Conflict, NotFound
from app.partnerships.models import Agency, Csp
from app.partnerships.schemas import AgencyIn, AgencyOut, CspIn, CspOut, CspPatch

router = APIRouter(tags=["set-up"])


@router.post("/csps", response_model=CspOut, status_code=status.HTTP_201_CREATED)
def create_csp(body: CspIn, session: SessionDep, admin: AdminPrincipal) -> Csp:
    if session.scalar(select(func.count()).select_from(Csp).where(Csp.code == body.code)):
        raise Conflict(f"A partnership with the code {body.code} already exists: choose another code.")
    csp = Csp(**body.model_dump())
    session.add(csp)
    session.flush()
    audit.record(session, review=None, entity_type="csp", entity_id=csp.id, event="create_csp", actor=admin.user, data=body.model_dump())
    return csp


@router.get("/csps", response_model=Page[CspOut])
def list_csps(session: SessionDep, principal: CurrentPrincipal, paging: PagingDep) -> dict:
    total = session.scalar(select(func.count()).select_from(Csp))
    items = session.scalars(select(Csp).order_by(Csp.name).limit(paging.limit).offset(paging.offset)).all()
    return {"items": items, "total": total}


@router.get("/csps/{csp_id}", response_model=CspOut)
def get_csp(csp_id: str, response: Response, session: SessionDep, principal: CurrentPrincipal) -> Csp:
    csp = session.get(Csp, csp_id)
    if csp is None:
        raise NotFound("The partnership")
    response.headers["ETag"] = etag(csp.version)
    return csp


@router.patch("/csps/{csp_id}", response_model=CspOut)
def update_csp(csp_id: str, body: CspPatch, response: Response, session: SessionDep, admin: AdminPrincipal, if_match: IfMatch = None) -> Csp:
    """Rename a partnership or set its retention period (years after a review ends). Needs If-Match."""
    csp = session.get(Csp, csp_id)
    if csp is None:
        raise NotFound("The partnership")
    require_if_match(if_match, csp.version, "partnership")
    changes = audit.diff(csp, body.model_dump(exclude_unset=True))
    if changes:
        session.flush()
        audit.record(session, review=None, entity_type="csp", entity_id=csp.id, event="update_csp", actor=admin.user, data={"code": csp.code}, changes=changes)
    response.headers["ETag"] = etag(csp.version)
    return csp


@router.post("/agencies", response_model=AgencyOut, status_code=status.HTTP_201_CREATED)
def create_agency(body: AgencyIn, session: SessionDep, admin: AdminPrincipal) -> Agency:
    if session.scalar(select(func.count()).select_from(Agency).where(Agency.name == body.name)):
        raise Conflict(f"An agency called {body.name!r} already exists: use it, or give this one a distinct name.")
    agency = Agency(**body.model_dump())
    session.add(agency)
    session.flush()
    audit.record(session, review=None, entity_type="agency", entity_id=agency.id, event="create_agency", actor=admin.user, data=body.model_dump())
    return agency


@router.get("/agencies", response_model=Page[AgencyOut])
def list_agencies(session: SessionDep, principal: CurrentPrincipal, paging: PagingDep) -> dict:
    total = session.scalar(select(func.count()).select_from(Agency))
    items = session.scalars(select(Agency).order_by(Agency.name).limit(paging.limit).offset(paging.offset)).all()
    return {"items": items, "total": total}


@router.get("/agencies/{agency_id}", response_model=AgencyOut)
def get_agency(agency_id: str, session: SessionDep, principal: CurrentPrincipal) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound("The agency")
    return agency
