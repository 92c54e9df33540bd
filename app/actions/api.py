"""Actions of the action plan (8.16-8.20, Appendix 5) and their lifecycle."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, lazyload

from app.actions.models import Action
from app.actions.schemas import ActionEventIn, ActionIn, ActionOut, ActionPatch
from app.audit import service as audit
from app.auth.access import Principal, action_visibility, may, roles_for_action, roles_on_review, roles_on_reviews
from app.auth.deps import CurrentPrincipal
from app.core import clock
from app.core.api import IfMatch, Page, Paging, PagingDep, SessionDep, count_rows, etag, require_if_match
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.deadlines import service as deadlines
from app.deadlines.models import Deadline
from app.deadlines.rules import status_clause
from app.overview.models import Recommendation
from app.partnerships.models import Agency
from app.reviews.models import Review
from app.reviews.schemas import DeadlineStatus
from app.reviews.service import deadline_out, deadline_titles, require, visible_review
from app.workflow import engine
from app.workflow.registry import get_registry

router = APIRouter(tags=["actions"])


def visible_action(session: Session, principal: Principal, action_id: str) -> tuple[Action, Review, set[str]]:
    action = session.get(Action, action_id)
    if action is None:
        raise NotFound("The action")
    review = engine.load_review(session, action.review_id)
    roles = roles_for_action(roles_on_review(session, principal, review), principal, action)
    if not may(roles, "action.read"):
        raise NotFound("The action")
    return action, review, roles


_UNSET = object()


def _out(session: Session, action: Action, review: Review, principal: Principal, roles: set[str], *,
         recommendation_number: int | None = None, deadline=_UNSET) -> ActionOut:
    """One action; a list passes its recommendation's number and deadline, read for every row at once."""
    if recommendation_number is None:
        recommendation_number = session.get(Recommendation, action.recommendation_id).number
    if deadline is _UNSET:
        deadline = deadlines.find(session, review_id=review.id, kind="action", subject_id=action.id)
    fields = {name: getattr(action, name) for name in ActionOut.model_fields if hasattr(action, name) and name != "deadline"}
    fields.update(
        recommendation_number=recommendation_number,
        reference=review.reference,
        deadline=deadline_out(deadline, clock.today(), deadline_titles(review), review.reference) if deadline else None,
        allowed_events=engine.allowed_events(session, subject=action, review=review, actor=principal, roles=roles),
    )
    return ActionOut(**fields)


def _check_agency(session: Session, agency_id: str | None) -> None:
    if agency_id and session.get(Agency, agency_id) is None:
        raise Invalid("lead_agency_id: there is no agency with that id. List them at GET /api/v1/agencies.")


def _sync_deadline(session: Session, action: Action, review: Review, principal: Principal) -> None:
    """A target date set or moved before any extension moves the action's deadline with it."""
    if action.target_date is None:
        return
    deadline = deadlines.find(session, review_id=review.id, kind="action", subject_id=action.id)
    rule = engine.review_definition(review).deadlines["action"]
    if deadline is None:
        deadlines.open_deadline(session, review_id=review.id, kind="action", rule=rule, starts_on=clock.today(), subject_id=action.id, due_on=action.target_date)
    elif not deadline.extensions and deadline.met_on is None:
        deadline.due_on = action.target_date
        deadline.original_due_on = action.target_date
        deadlines.schedule_alerts(deadline, rule)


@router.get("/actions", response_model=Page[ActionOut])
def list_actions(
    session: SessionDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
    lead_agency_id: Annotated[str | None, Query(max_length=32)] = None,
    state: Annotated[str | None, Query(max_length=20, description="open, in_progress or completed")] = None,
    deadline_status: Annotated[
        DeadlineStatus | None, Query(alias="status", description="the action's deadline: pending, met, met_late, overdue, waived")
    ] = None,
) -> dict:
    """Actions across every review you can see, soonest due first: an agency's manager sees every
    action their agency leads, in every review (guidance 8.17-8.20)."""
    query = _listed(principal, lead_agency_id=lead_agency_id, states=[state] if state else None, deadline_status=deadline_status)
    return {"items": _page_of(session, principal, query, paging), "total": count_rows(session, query)}


def open_actions(session: Session, principal: Principal, states: list[str], limit: int) -> tuple[list[ActionOut], dict[str, int]]:
    """The first actions in these states, in the list's order, and how many there are in each state:
    one list over the states and one count grouped by state (the home page's), not a list per state."""
    query = _listed(principal, lead_agency_id=None, states=states, deadline_status=None)
    counts = dict(session.execute(query.with_only_columns(Action.state, func.count()).group_by(Action.state)).all())
    return _page_of(session, principal, query, Paging(limit=limit, offset=0)), counts


def _listed(principal: Principal, *, lead_agency_id: str | None, states: list[str] | None, deadline_status: str | None):
    # Each action with its deadline (at most one: unique per review, kind and subject), through that unique index.
    query = (
        select(Action, Review, Recommendation.number, Deadline)
        .join(Review, Review.id == Action.review_id)
        .join(Recommendation, Recommendation.id == Action.recommendation_id)
        .outerjoin(Deadline, and_(Deadline.review_id == Action.review_id, Deadline.kind == "action", Deadline.subject_id == Action.id))
        .where(action_visibility(principal))
    )
    if lead_agency_id:
        query = query.where(Action.lead_agency_id == lead_agency_id)
    if states:
        query = query.where(Action.state.in_(states))
    if deadline_status:
        query = query.where(status_clause(deadline_status, clock.today()))
    return query


def _page_of(session: Session, principal: Principal, query, paging: Paging) -> list[ActionOut]:
    # Ties broken down to the row, so that consecutive pages neither repeat nor skip an action.
    order = (Action.target_date.is_(None), Action.target_date, Review.reference, Recommendation.number, Action.created_at, Action.id)
    # A row needs its review's reference, state and workflow, not every deadline and proceeding the review eager-loads.
    page = query.order_by(*order).limit(paging.limit).offset(paging.offset).options(lazyload(Review.deadlines), lazyload(Review.proceedings))
    rows = session.execute(page).all()
    review_roles = roles_on_reviews(session, principal, list({r.id: r for _a, r, _n, _d in rows}.values()))
    return [
        _out(session, action, review, principal, roles_for_action(review_roles[review.id], principal, action),
             recommendation_number=number, deadline=deadline)
        for action, review, number, deadline in rows
    ]


@router.post("/recommendations/{recommendation_id}/actions", response_model=ActionOut, status_code=status.HTTP_201_CREATED)
def add_action(recommendation_id: str, body: ActionIn, response: Response, session: SessionDep, principal: CurrentPrincipal) -> ActionOut:
    rec = session.get(Recommendation, recommendation_id)
    if rec is None:
        raise NotFound("The recommendation")
    review, roles = visible_review(session, principal, rec.review_id, "recommendations.read")
    require(roles, "recommendations.write", "Only the panel chair records the action plan.")
    definition = engine.review_definition(review)
    if not definition.may_edit("recommendations", review.state):
        raise Conflict(f"Actions cannot be added while the review is {review.state.replace('_', ' ')}.")
    _check_agency(session, body.lead_agency_id)
    action_definition = get_registry().latest(definition.action_workflow)
    action = Action(recommendation_id=rec.id, review_id=review.id, state=action_definition.initial.state, **body.model_dump())
    engine.start(session, subject=action, review=review, actor=principal, definition=action_definition, on=clock.today(), event="add_action", data={"recommendation": rec.number, "lead_agency_id": action.lead_agency_id, "target_date": body.target_date.isoformat() if body.target_date else None})
    session.flush()
    response.headers["ETag"] = etag(action.version)
    return _out(session, action, review, principal, roles_for_action(roles, principal, action))


@router.get("/actions/{action_id}", response_model=ActionOut)
def get_action(action_id: str, response: Response, session: SessionDep, principal: CurrentPrincipal) -> ActionOut:
    action, review, roles = visible_action(session, principal, action_id)
    response.headers["ETag"] = etag(action.version)
    return _out(session, action, review, principal, roles)


@router.patch("/actions/{action_id}", response_model=ActionOut)
def edit_action(action_id: str, body: ActionPatch, response: Response, session: SessionDep, principal: CurrentPrincipal, if_match: IfMatch = None) -> ActionOut:
    action, review, roles = visible_action(session, principal, action_id)
    if "panel_chair" not in roles:
        raise Forbidden("Only the panel chair changes the action plan.")
    if not engine.review_definition(review).may_edit("recommendations", review.state):
        raise Conflict(f"The action plan cannot change while the review is {review.state.replace('_', ' ')}.")
    require_if_match(if_match, action.version, "action")
    values = body.model_dump(exclude_unset=True)
    if "action" in values and values["action"] is None:
        raise Invalid("action: cannot be empty.")
    _check_agency(session, values.get("lead_agency_id"))
    changes = audit.diff(action, values)
    if changes:
        _sync_deadline(session, action, review, principal)
        review.updated_at = clock.now()
        audit.record(session, review=review, entity_type="action", entity_id=action.id, event="edit_action", actor=principal.user, changes=changes)
    session.flush()
    response.headers["ETag"] = etag(action.version)
    return _out(session, action, review, principal, roles)


@router.post("/actions/{action_id}/events", response_model=ActionOut, responses={409: {"description": "Not allowed now"}})
def fire_action_event(action_id: str, body: ActionEventIn, response: Response, session: SessionDep, principal: CurrentPrincipal) -> ActionOut:
    action, review, _roles = visible_action(session, principal, action_id)
    engine.lock_review(session, review.id)
    action, review, roles = visible_action(session, principal, action_id)
    engine.fire(session, subject=action, review=review, event=body.event, actor=principal, roles=roles, on=body.on, data=body.data, note=body.note)
    session.flush()
    response.headers["ETag"] = etag(action.version)
    return _out(session, action, review, principal, roles)
