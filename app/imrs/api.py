"""IMRs (guidance 8.1-8.9, Appendix 2): commissioning, content, lifecycle and chronology.

Every read of an IMR or a chronology is in the review's history: who read which, never what it says.
"""
from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from app.audit import service as audit
from app.auth.access import may
from app.auth.deps import CurrentPrincipal
from app.core import clock
from app.core.api import IfMatch, Page, SessionDep, etag, require_if_match
from app.core.errors import Conflict, Forbidden, Invalid
from app.deadlines.models import Deadline
from app.imrs import service
from app.imrs.models import ChronologyEntry, Imr
from app.imrs.schemas import ChronologyIn, ChronologyOut, CombinedChronologyOut, ImrCommissionIn, ImrEventIn, ImrOut, ImrPatch
from app.partnerships.models import Agency
from app.reviews.service import require, visible_review
from app.workflow import engine

router = APIRouter(tags=["IMRs"])


@router.post("/reviews/{review_id}/imrs", response_model=ImrOut, status_code=status.HTTP_201_CREATED)
def commission_imr(review_id: str, body: ImrCommissionIn, response: Response, session: SessionDep, principal: CurrentPrincipal) -> ImrOut:
    """Commission an IMR from an agency (8.1, 8.6): creates the IMR and its deadline."""
    review, roles = visible_review(session, principal, review_id)
    require(roles, "imrs.commission", "Only the panel chair or the CSP coordinator may commission IMRs.")
    imr = service.commission(session, review=review, agency_id=body.agency_id, due_on=body.due_on, principal=principal)
    session.flush()
    response.headers["ETag"] = etag(imr.version)
    return service.imr_out(session, imr, review, principal, roles)


@router.get("/reviews/{review_id}/imrs", response_model=Page[ImrOut])
def list_imrs(review_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict:
    review, roles = visible_review(session, principal, review_id, "imr.read")
    query = select(Imr).where(Imr.review_id == review.id)
    if not may(roles, "imrs.read_all"):
        query = query.where(Imr.agency_id.in_(list(principal.agency_roles)))
    rows = session.execute(query.add_columns(Agency.name).join(Agency, Agency.id == Imr.agency_id).order_by(Imr.commissioned_on, Imr.id)).all()
    imrs = [imr for imr, _name in rows]
    # Every IMR's deadline in one query, not one per IMR.
    found = {d.subject_id: d for d in session.scalars(
        select(Deadline).where(Deadline.review_id == review.id, Deadline.kind == "imr")
    )}
    items = [service.imr_out(session, imr, review, principal, roles, with_events=False, agency_name=name, deadline=found.get(imr.id))
             for imr, name in rows]
    if imrs:  # the list carries each IMR's content
        audit.record(session, review=review, entity_type="review", entity_id=review.id, event="read_imrs", actor=principal.user,
                     data={"imr_ids": [imr.id for imr in imrs]})
    return {"items": items, "total": len(items)}


@router.get("/imrs/{imr_id}", response_model=ImrOut)
def get_imr(imr_id: str, response: Response, session: SessionDep, principal: CurrentPrincipal) -> ImrOut:
    imr, review, roles = service.visible_imr(session, principal, imr_id)
    audit.record(session, review=review, entity_type="imr", entity_id=imr.id, event="read_imr", actor=principal.user)
    response.headers["ETag"] = etag(imr.version)
    return service.imr_out(session, imr, review, principal, roles)


@router.patch("/imrs/{imr_id}", response_model=ImrOut)
def edit_imr(imr_id: str, body: ImrPatch, response: Response, session: SessionDep, principal: CurrentPrincipal, if_match: IfMatch = None) -> ImrOut:
    imr, review, roles = service.visible_imr(session, principal, imr_id)
    if not may(roles, "imr.write"):
        raise Forbidden("Only the agency's IMR author or senior manager may write its IMR.")
    if not engine.definition_of(imr).may_edit("content", imr.state):
        raise Conflict(f"The IMR is {imr.state.replace('_', ' ')} and can no longer be edited; the panel chair can return it to the agency.")
    require_if_match(if_match, imr.version, "IMR")
    changes = audit.diff(imr, body.model_dump(exclude_unset=True, exclude_none=True))
    if changes:
        review.updated_at = clock.now()
        audit.record(session, review=review, entity_type="imr", entity_id=imr.id, event="edit_imr", actor=principal.user, changes=changes)
    session.flush()
    response.headers["ETag"] = etag(imr.version)
    return service.imr_out(session, imr, review, principal, roles)


@router.post("/imrs/{imr_id}/events", response_model=ImrOut, responses={409: {"description": "Not allowed now"}})
def fire_imr_event(imr_id: str, body: ImrEventIn, response: Response, session: SessionDep, principal: CurrentPrincipal) -> ImrOut:
    imr, _review, _roles = service.visible_imr(session, principal, imr_id)
    review = engine.lock_review(session, imr.review_id)
    imr, review, roles = service.visible_imr(session, principal, imr_id)
    engine.fire(session, subject=imr, review=review, event=body.event, actor=principal, roles=roles, on=body.on, data=body.data, note=body.note)
    session.flush()
    response.headers["ETag"] = etag(imr.version)
    return service.imr_out(session, imr, review, principal, roles)


@router.post("/imrs/{imr_id}/chronology", response_model=ChronologyOut, status_code=status.HTTP_201_CREATED)
def add_chronology_entry(imr_id: str, body: ChronologyIn, session: SessionDep, principal: CurrentPrincipal) -> ChronologyEntry:
    imr, review, roles = service.visible_imr(session, principal, imr_id)
    if not may(roles, "imr.write"):
        raise Forbidden("Only the agency's IMR author or senior manager may add to its chronology.")
    if not engine.definition_of(imr).may_edit("chronology", imr.state):
        raise Conflict(f"The IMR is {imr.state.replace('_', ' ')}: its chronology can no longer change.")
    if body.occurred_on > clock.today():
        raise Invalid("occurred_on: is in the future; a chronology records what has happened.")
    entry = ChronologyEntry(imr_id=imr.id, review_id=review.id, **body.model_dump())
    session.add(entry)
    session.flush()
    review.updated_at = clock.now()
    audit.record(session, review=review, entity_type="chronology_entry", entity_id=entry.id, event="add_chronology_entry", actor=principal.user, data={"imr_id": imr.id, "occurred_on": body.occurred_on.isoformat()})
    return entry


@router.get("/imrs/{imr_id}/chronology", response_model=Page[ChronologyOut])
def imr_chronology(imr_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict:
    imr, review, _roles = service.visible_imr(session, principal, imr_id)
    items = session.scalars(select(ChronologyEntry).where(ChronologyEntry.imr_id == imr.id).order_by(ChronologyEntry.occurred_on, ChronologyEntry.created_at)).all()
    audit.record(session, review=review, entity_type="imr", entity_id=imr.id, event="read_imr_chronology", actor=principal.user,
                 data={"entries": len(items)})
    return {"items": items, "total": len(items)}


@router.get("/reviews/{review_id}/chronology", response_model=Page[CombinedChronologyOut])
def combined_chronology(review_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict:
    """Every IMR's entries merged in date order, with the agency (the Overview Report's chronology)."""
    review, _roles = visible_review(session, principal, review_id, "chronology.combined")
    rows = session.execute(
        select(ChronologyEntry, Agency)
        .join(Imr, Imr.id == ChronologyEntry.imr_id)
        .join(Agency, Agency.id == Imr.agency_id)
        .where(ChronologyEntry.review_id == review.id, Imr.state != "no_involvement")
        .order_by(ChronologyEntry.occurred_on, Agency.name, ChronologyEntry.created_at)
    ).all()
    items = [
        CombinedChronologyOut.model_validate({**ChronologyOut.model_validate(entry).model_dump(), "agency_id": agency.id, "agency_name": agency.name})
        for entry, agency in rows
    ]
    audit.record(session, review=review, entity_type="review", entity_id=review.id, event="read_chronology", actor=principal.user,
                 data={"entries": len(items)})
    return {"items": items, "total": len(items)}
