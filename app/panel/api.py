"""The review panel: an independent chair (guidance 5.8-5.10) and members (5.1-5.7)."""
from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import func, select

from app.audit import service as audit
from app.auth.deps import CurrentPrincipal
from app.auth.models import User
from app.core.api import Page, SessionDep
from app.core.errors import Conflict, Invalid
from app.panel.models import PanelMember
from app.panel.schemas import PanelMemberIn, PanelMemberOut
from app.partnerships.models import Agency
from app.reviews.service import require, visible_review
from app.workflow import engine

router = APIRouter(tags=["panel"])


def _out(member: PanelMember, user: User) -> PanelMemberOut:
    return PanelMemberOut(
        id=member.id, review_id=member.review_id, user_id=member.user_id, name=user.name, role=member.role,
        agency_id=member.agency_id, independence_statement=member.independence_statement,
    )


@router.post("/reviews/{review_id}/panel", response_model=PanelMemberOut, status_code=status.HTTP_201_CREATED)
def add_panel_member(review_id: str, body: PanelMemberIn, session: SessionDep, principal: CurrentPrincipal) -> PanelMemberOut:
    review, roles = visible_review(session, principal, review_id)
    require(roles, "panel.write", "Only the CSP coordinator or CSP chair may set up the review panel.")
    if not engine.review_definition(review).may_edit("panel", review.state):
        raise Conflict(f"The panel cannot change while the review is {review.state.replace('_', ' ')}: the decision to review comes first.")
    user = session.get(User, body.user_id)
    if user is None or not user.is_active:
        raise Invalid("user_id: there is no active user with that id. Ask an administrator to create the account first.")
    if body.agency_id and session.get(Agency, body.agency_id) is None:
        raise Invalid("agency_id: there is no agency with that id.")
    if body.role == "chair":
        if not (body.independence_statement or "").strip():
            raise Invalid("independence_statement: a panel chair needs a statement of independence from the agencies involved (guidance 5.8-5.10).")
        if session.scalar(select(func.count()).select_from(PanelMember).where(PanelMember.review_id == review.id, PanelMember.role == "chair")):
            raise Conflict("The review already has a panel chair.")
    if session.scalar(select(func.count()).select_from(PanelMember).where(PanelMember.review_id == review.id, PanelMember.user_id == user.id)):
        raise Conflict(f"{user.name} is already on this panel.")
    member = PanelMember(review_id=review.id, **body.model_dump())
    session.add(member)
    session.flush()
    review.updated_at = member.created_at
    audit.record(
        session, review=review, entity_type="panel_member", entity_id=member.id, event="add_panel_member",
        actor=principal.user, data={"user": user.name, "role": member.role, "agency_id": member.agency_id},
    )
    return _out(member, user)


@router.get("/reviews/{review_id}/panel", response_model=Page[PanelMemberOut])
def list_panel(review_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict:
    review, _roles = visible_review(session, principal, review_id, "panel.read")
    rows = session.execute(
        select(PanelMember, User).join(User, User.id == PanelMember.user_id).where(PanelMember.review_id == review.id).order_by(PanelMember.role, User.name)
    ).all()
    items = [_out(m, u) for m, u in rows]
    return {"items": items, "total": len(items)}
