"""The Overview Report's sections (8.10-8.14, Appendix 4) and the recommendations (8.16)."""
from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import func, select

from app.actions.models import Action
from app.audit import service as audit
from app.auth.deps import CurrentPrincipal
from app.core import clock
from app.core.api import IfMatch, Page, SessionDep, etag, require_if_match
from app.core.errors import Conflict, Invalid
from app.imrs.models import Imr
from app.overview.models import OVERVIEW_SECTIONS, Overview, Recommendation
from app.overview.schemas import OverviewOut, OverviewPatch, RecommendationIn, RecommendationOut
from app.reviews.service import require, visible_review
from app.workflow import engine

router = APIRouter(tags=["overview report"])


def _overview(session, review_id: str) -> Overview:
    overview = session.get(Overview, review_id)
    if overview is None:
        overview = Overview(review_id=review_id)
        session.add(overview)
        session.flush()
    return overview


@router.get("/reviews/{review_id}/overview", response_model=OverviewOut)
def get_overview(review_id: str, response: Response, session: SessionDep, principal: CurrentPrincipal) -> Overview:
    review, _roles = visible_review(session, principal, review_id, "overview.read")
    overview = session.get(Overview, review.id) or Overview(
        review_id=review.id, version=0, updated_at=review.created_at,
        **{s: "" for s in OVERVIEW_SECTIONS}, dissemination=[],
    )
    response.headers["ETag"] = etag(overview.version)
    return overview


@router.patch("/reviews/{review_id}/overview", response_model=OverviewOut)
def edit_overview(review_id: str, body: OverviewPatch, response: Response, session: SessionDep, principal: CurrentPrincipal, if_match: IfMatch = None) -> Overview:
    review, roles = visible_review(session, principal, review_id)
    require(roles, "overview.write", "Only the panel chair writes the Overview Report (guidance 5.8).")
    if not engine.review_definition(review).may_edit("overview", review.state):
        raise Conflict(f"The Overview Report cannot be edited while the review is {review.state.replace('_', ' ')}.")
    existing = session.get(Overview, review.id)
    require_if_match(if_match, existing.version if existing else 0, "Overview Report")
    overview = existing or _overview(session, review.id)
    changes = audit.diff(overview, body.model_dump(exclude_unset=True, exclude_none=True))
    if changes:
        review.updated_at = clock.now()
        # Record which sections changed, not their text: the text is in the overview itself.
        audit.record(session, review=review, entity_type="overview", entity_id=review.id, event="edit_overview", actor=principal.user, changes={k: "changed" for k in changes})
    session.flush()
    response.headers["ETag"] = etag(overview.version)
    return overview


def _recommendation_out(rec: Recommendation, actions: list[Action]) -> RecommendationOut:
    return RecommendationOut(id=rec.id, review_id=rec.review_id, number=rec.number, text=rec.text, scope=rec.scope, imr_id=rec.imr_id, actions=actions)


@router.post("/reviews/{review_id}/recommendations", response_model=RecommendationOut, status_code=status.HTTP_201_CREATED)
def add_recommendation(review_id: str, body: RecommendationIn, session: SessionDep, principal: CurrentPrincipal) -> RecommendationOut:
    review, roles = visible_review(session, principal, review_id)
    require(roles, "recommendations.write", "Only the panel chair records the recommendations.")
    if not engine.review_definition(review).may_edit("recommendations", review.state):
        raise Conflict(f"Recommendations cannot be added while the review is {review.state.replace('_', ' ')}.")
    if body.imr_id and not session.scalars(select(Imr.id).where(Imr.id == body.imr_id, Imr.review_id == review.id)).first():
        raise Invalid("imr_id: no IMR of this review has that id.")
    number = (session.scalar(select(func.max(Recommendation.number)).where(Recommendation.review_id == review.id)) or 0) + 1
    rec = Recommendation(review_id=review.id, number=number, **body.model_dump())
    session.add(rec)
    session.flush()
    review.updated_at = clock.now()
    audit.record(session, review=review, entity_type="recommendation", entity_id=rec.id, event="add_recommendation", actor=principal.user, data={"number": number, "scope": rec.scope, "imr_id": rec.imr_id})
    return _recommendation_out(rec, [])


@router.get("/reviews/{review_id}/recommendations", response_model=Page[RecommendationOut])
def list_recommendations(review_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict:
    review, _roles = visible_review(session, principal, review_id, "recommendations.read")
    recs = session.scalars(select(Recommendation).where(Recommendation.review_id == review.id).order_by(Recommendation.number)).all()
    actions = session.scalars(select(Action).where(Action.review_id == review.id).order_by(Action.created_at)).all()
    by_rec: dict[str, list[Action]] = {}
    for action in actions:
        by_rec.setdefault(action.recommendation_id, []).append(action)
    items = [_recommendation_out(r, by_rec.get(r.id, [])) for r in recs]
    return {"items": items, "total": len(items)}
