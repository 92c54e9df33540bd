"""The home page: what each role needs first (issue 6, item 1)."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from app.actions import api as actions_api
from app.core import clock
from app.core.api import Paging
from app.imrs.models import Imr
from app.partnerships.models import Agency
from app.reviews import api as reviews_api
from app.reviews.models import Review
from app.web.pages.common import AnyVisitor, fetch, redirect, render
from app.web.templating import rag
from app.workflow import engine

router = APIRouter()
HOME_OFFICE_QUEUE = ("submitted", "revising", "cleared_subject_to_changes")


def _days_late(due_on, done_on, today) -> int:
    return max(0, ((done_on or today) - due_on).days)


@router.get("/")
def home(web: AnyVisitor) -> Response:
    if web.principal is None:
        return redirect(web, "/sign-in")
    p = web.user
    today = clock.today()
    reviews = fetch(web, reviews_api.list_reviews, paging=Paging(limit=500, offset=0), state=None, csp_id=None, overdue=None)["items"]
    chair_csps = {csp for csp, roles in p.csp_roles.items() if "csp_chair" in roles}
    coordinator_csps = {csp for csp, roles in p.csp_roles.items() if "csp_coordinator" in roles}
    sections: dict[str, object] = {}

    if chair_csps:
        awaiting = []
        for r in reviews:
            if r.csp_id in chair_csps and r.state == "notified":
                decision = next((d for d in r.deadlines if d.kind == "decision"), None)
                awaiting.append((r, decision, rag(decision) if decision else ("grey", "")))
        sections["awaiting_decision"] = sorted(awaiting, key=lambda t: t[1].due_on if t[1] else today)
    if chair_csps or coordinator_csps:
        overdue = fetch(web, reviews_api.list_deadlines, paging=Paging(limit=500, offset=0), due_before=None, status="overdue")["items"]
        sections["overdue"] = [(d, rag(d)) for d in overdue]
    if coordinator_csps:
        by_stage: dict[str, list] = {}
        order: list[str] = []
        for r in reviews:
            if r.csp_id in coordinator_csps and r.state not in ("concluded", "not_reviewed"):
                by_stage.setdefault(r.state, []).append(r)
                order = order or [s.name for s in engine.get_registry().get(r.workflow, r.workflow_version).states]
        sections["by_stage"] = sorted(by_stage.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    chaired = [r for r in reviews if "panel_chair" in r.your_roles]
    if chaired:
        ids = [r.id for r in chaired]
        rows = web.session.execute(
            select(Imr, Agency.name, Review.reference).join(Agency, Agency.id == Imr.agency_id).join(Review, Review.id == Imr.review_id)
            .where(Imr.review_id.in_(ids)).order_by(Imr.due_on, Review.reference)
        ).all()
        sections["chaired"] = chaired
        sections["imr_tracker"] = [(imr, agency, reference, _days_late(imr.due_on, imr.submitted_on, today)) for imr, agency, reference in rows]
    if p.agency_roles:
        rows = web.session.execute(
            select(Imr, Agency.name, Review.reference).join(Agency, Agency.id == Imr.agency_id).join(Review, Review.id == Imr.review_id)
            .where(Imr.agency_id.in_(list(p.agency_roles))).order_by(Imr.due_on)
        ).all()
        sections["agency_imrs"] = [(imr, agency, reference, _days_late(imr.due_on, imr.submitted_on, today)) for imr, agency, reference in rows]
        actions = fetch(web, actions_api.list_actions, paging=Paging(limit=500, offset=0), lead_agency_id=None, state=None, deadline_status=None)["items"]
        sections["agency_actions"] = [(a, rag(a.deadline) if a.deadline else ("grey", "No target date")) for a in actions if a.state != "completed"]
    if p.is_home_office:
        queue = [r for r in reviews if r.state in HOME_OFFICE_QUEUE]
        sections["queue"] = sorted(((r, (today - r.submitted_on).days if r.submitted_on else 0) for r in queue), key=lambda t: -t[1])
    return render(web, "home.html", title="Home", sections=sections, may_record=bool(chair_csps or coordinator_csps), today=today)
