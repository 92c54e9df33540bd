"""The home page: what each role needs first (issue 6, item 1).

Each list shows its most urgent rows (home_lists.HOME_ROWS) and says how many there are in all, with a
link to the full, paged list, so the page stays quick for a person who sees thousands of reviews.
"""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import Response

from app.actions import api as actions_api
from app.core import clock
from app.core.api import Paging
from app.reviews import api as reviews_api
from app.reviews.service import DEFAULT_WORKFLOW
from app.web.pages import home_lists, parts
from app.web.pages.common import AnyVisitor, fetch, redirect, render
from app.web.pages.home_lists import Shown
from app.web.templating import rag
from app.workflow.registry import get_registry

router = APIRouter()
HOME_OFFICE_QUEUE = ("submitted", "revising", "cleared_subject_to_changes")


def _reviews_link(csp_ids: set[str], **filters: str) -> str:
    """The reviews page filtered as a home-page list is (to one partnership when the person has one)."""
    query = {**filters, **({"csp_id": next(iter(csp_ids))} if len(csp_ids) == 1 else {})}
    return "/reviews?" + urlencode(query)


def _open_actions(web) -> tuple[Shown, list[tuple[str, str, int]]]:
    """The actions not yet completed, soonest target first, and a link to each open state's full list
    with its count."""
    titles = {state: title for state, title in parts.action_states().items() if state != parts.COMPLETED_ACTION}
    items, counts = actions_api.open_actions(web.session, web.user, list(titles), home_lists.HOME_ROWS)
    links = [(f"/actions?state={state}", title, counts[state]) for state, title in titles.items() if counts.get(state)]
    shown = [(a, rag(a.deadline) if a.deadline else ("grey", "No target date")) for a in items]
    return Shown(rows=shown, total=sum(counts.values())), links


@router.get("/")
def home(web: AnyVisitor) -> Response:
    if web.principal is None:
        return redirect(web, "/sign-in")
    p = web.user
    today = clock.today()
    chair_csps = {csp for csp, roles in p.csp_roles.items() if "csp_chair" in roles}
    coordinator_csps = {csp for csp, roles in p.csp_roles.items() if "csp_coordinator" in roles}
    sections: dict[str, object] = {}
    links: dict[str, object] = {}

    if chair_csps:
        sections["awaiting_decision"] = home_lists.awaiting_decision(web.session, p, chair_csps, today)
        links["awaiting_decision"] = _reviews_link(chair_csps, state="notified")
    if chair_csps or coordinator_csps:
        overdue = fetch(web, reviews_api.list_deadlines, paging=Paging(limit=home_lists.HOME_ROWS, offset=0), due_before=None, status="overdue")
        sections["overdue"] = Shown(rows=[(d, rag(d)) for d in overdue["items"]], total=overdue["total"])
        links["overdue"] = "/reviews?overdue=true"
    if coordinator_csps:
        sections["by_stage"] = [(state, shown, _reviews_link(coordinator_csps, state=state))
                                for state, shown in home_lists.open_reviews_by_stage(web.session, p, coordinator_csps, today)]
    chaired = home_lists.chaired_reviews(web.session, p, today)
    if chaired.total:
        sections["chaired"] = chaired
        sections["imr_tracker"] = home_lists.imr_tracker(web.session, p, today)
    if p.agency_roles:
        sections["agency_imrs"] = home_lists.agency_imrs(web.session, p, today)
        sections["agency_actions"], links["agency_actions"] = _open_actions(web)
    if p.is_home_office:
        queue, by_state = home_lists.home_office_queue(web.session, p, HOME_OFFICE_QUEUE, today)
        sections["queue"] = queue
        stages = get_registry().latest(DEFAULT_WORKFLOW)
        links["queue"] = [(f"/reviews?state={state}", stages.state(state).title, count) for state, count in by_state.items() if count]
    return render(web, "home.html", title="Home", sections=sections, links=links, may_record=bool(chair_csps or coordinator_csps),
                  today=today)
