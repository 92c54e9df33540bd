"""Reviews: the list, recording a notification, the review page, its events and its library description."""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import select

from app.auth.access import may
from app.core import clock
from app.core.api import Paging
from app.partnerships.models import Csp
from app.retention import service as retention_service
from app.reviews import api as reviews_api
from app.reviews import service as reviews_service
from app.reviews.schemas import EventIn, ReviewIn, ReviewPatch
from app.web.calls import Refused
from app.web.forms import from_model
from app.web.pages import events, forms_flow, review_rows
from app.web.templating import long_date, rag
from app.web.pages.common import Posted, SignedIn, fetch, form_page, render
from app.web.pagination import MAX_PAGE, offset_of, pagination
from app.workflow import diagram, engine

router = APIRouter()
REVIEWS_PER_PAGE = 50  # the API's default page


@router.get("/reviews")
def review_list(web: SignedIn, state: str | None = Query(None, max_length=40), overdue: bool | None = None,
                csp_id: str | None = Query(None, max_length=32), page: int = Query(1, ge=1, le=MAX_PAGE)) -> Response:
    paging = Paging(limit=REVIEWS_PER_PAGE, offset=offset_of(page, REVIEWS_PER_PAGE))
    rows, total = review_rows.listed(web.session, web.user, paging, clock.today(), state=state or None, csp_id=csp_id or None, overdue=overdue)
    may_record = any(roles & {"csp_coordinator", "csp_chair"} for roles in web.user.csp_roles.values())
    # The filters ride along on every page link, so page 2 is page 2 of the same list.
    filters = {name: value for name, value in (("state", state), ("overdue", None if overdue is None else str(overdue).lower()), ("csp_id", csp_id)) if value}
    return render(web, "reviews.html", title="Reviews", reviews=rows, total=total, may_record=may_record, state=state, overdue=overdue,
                  csp_id=csp_id, every_csp="/reviews?" + urlencode({k: v for k, v in filters.items() if k != "csp_id"}),
                  shown=(paging.offset + 1, paging.offset + len(rows)) if rows else None,
                  pagination=pagination("/reviews", page, total, REVIEWS_PER_PAGE, filters))


def _csp_choices(web) -> list[tuple[str, str]]:
    ids = [csp for csp, roles in web.user.csp_roles.items() if roles & {"csp_coordinator", "csp_chair"}]
    csps = web.session.query(Csp).filter(Csp.id.in_(ids)).order_by(Csp.name).all() if ids else []
    return [(c.id, f"{c.name} ({c.code})") for c in csps]


def _notification_fields(web):
    choices = _csp_choices(web)
    return from_model(
        ReviewIn,
        choices={"csp_id": choices},
        labels={"csp_id": "Community Safety Partnership", "notified_on": "Date the CSP was notified", "notified_by": "Who notified the CSP",
                "victim_age": "Age of the person who died", "summary": "What happened"},
        hints={"notified_by": "For example, the police force. Do not write anyone's name here."},
        values={"csp_id": choices[0][0]} if len(choices) == 1 else {},
    )


@router.get("/reviews/new")
def new_review(web: SignedIn) -> Response:
    if not _csp_choices(web):
        raise Refused(404, "")
    return form_page(web, title="Record a notification of a death", specs=_notification_fields(web), submit="Record the notification", back="/",
                     intro="The CSP must decide within one month of this date whether to hold a review.", guidance="4.1-4.3")


@router.post("/reviews/new")
def create_review(web: SignedIn, form: Posted) -> Response:
    if not _csp_choices(web):
        raise Refused(404, "")
    return forms_flow.submit(web, form, fn=reviews_api.create_review, model=ReviewIn, specs=_notification_fields(web), title="Record a notification of a death",
                                   submit_text="Record the notification", back="/", done=lambda review: f"/reviews/{review.id}",
                                   message=lambda review: f"Notification recorded as {review.reference}. The decision is due within a month.")


def parts_menu(review, roles: set[str]) -> list[tuple[str, str]]:
    """The review's parts this person may open, as (path, title)."""
    base = f"/reviews/{review.id}"
    parts = [
        ("people.read", "people", "People and pseudonyms"),
        ("panel.read", "panel", "Review panel"),
        ("terms.read", "terms-of-reference", "Terms of reference"),
        ("imr.read", "imrs", "Individual Management Reviews"),
        ("chronology.combined", "chronology", "Combined chronology"),
        ("overview.read", "overview", "Overview Report"),
        ("recommendations.read", "recommendations", "Recommendations and action plan"),
        ("documents.list", "documents", "Documents"),
        ("readiness.read", "readiness", "Readiness for the Home Office"),
        ("submissions.read", "submissions", "Home Office submissions"),
        ("proceedings.read", "proceedings", "Parallel proceedings"),
        ("legal_holds.read", "legal-holds", "Legal holds and retention"),
        ("review.describe", "describe", "Library description and themes"),
    ]
    return [(f"{base}/{path}", title) for capability, path, title in parts if may(roles, capability)]


@router.get("/reviews/{review_id}")
def review_page(web: SignedIn, review_id: str) -> Response:
    row, roles = fetch(web, reviews_service.visible_review, review_id=review_id)
    # What may be done is judged once, for the buttons; the review's own answer needs no second judging.
    review = reviews_service.review_out(web.session, row, web.user, roles, with_events=False)
    definition = engine.review_definition(row)
    standing = engine.event_standing(web.session, subject=row, review=row, actor=web.user, roles=roles)
    history = reviews_service.history_lines(web.session, row.id, roles) if may(roles, "review.history") else []
    # Reads (of IMRs, downloads) are recorded as evidence but would bury the changes: the page counts them.
    is_read = [h.event.startswith(("read_", "download_")) for h in history]
    reads = sum(is_read)
    history = [h for h, read in zip(history, is_read) if not read]
    timeline = sorted(review.deadlines, key=lambda d: (d.due_on, d.title))
    return render(
        web, "review.html", title=review.reference, review=review, roles=roles, standing=standing,
        stages=definition.states, mermaid=diagram.mermaid(definition, row.state), history=list(reversed(history)), reads=reads,
        timeline=[(d, *rag(d)) for d in timeline], parts=parts_menu(row, roles),
        holds=retention_service.active_holds(web.session, row.id) if may(roles, "legal_holds.read") else 0,
    )


@router.get("/reviews/{review_id}/events/{event}")
def review_event_form(web: SignedIn, review_id: str, event: str) -> Response:
    return events.show(web, _visible_subject(web, review_id), event)


@router.post("/reviews/{review_id}/events/{event}")
def review_event(web: SignedIn, form: Posted, review_id: str, event: str) -> Response:
    subject = _visible_subject(web, review_id)
    return events.submit(web, subject, event, form, web.user)


def _visible_subject(web, review_id: str) -> events.Subject:
    try:
        row, roles = reviews_service.visible_review(web.session, web.user, review_id)
    except Exception as exc:  # NotFound and the like: the page says not found
        raise Refused(404, "") from exc
    return events.Subject(row=row, review=row, roles=roles, fire=reviews_api.fire_event, model=EventIn,
                          path_args={"review_id": review_id}, page=f"/reviews/{review_id}", caption=row.reference,
                          choices={"subject_id": _deadline_subjects(web, row)})


def _deadline_subjects(web, review) -> list[tuple[str, str]]:
    """The IMRs and actions whose deadlines are still open, for an extension (6.4)."""
    from app.actions.models import Action
    from app.imrs.models import Imr
    from app.partnerships.models import Agency

    open_ids = {d.subject_id for d in review.deadlines if d.subject_id and d.is_open}
    if not open_ids:
        return []
    imrs = web.session.execute(select(Imr.id, Agency.name, Imr.due_on).join(Agency, Agency.id == Imr.agency_id).where(Imr.id.in_(open_ids))).all()
    actions = web.session.execute(select(Action.id, Action.action, Action.target_date).where(Action.id.in_(open_ids))).all()
    return [(i, f"IMR: {name}, due {long_date(due)}") for i, name, due in imrs] + [
        (a, f"Action: {text[:80]}, due {long_date(due)}") for a, text, due in actions]


def _describe_fields(review):
    return from_model(ReviewPatch, values={n: getattr(review, n) for n in ReviewPatch.model_fields},
                      labels={"death_cause": "Cause of death", "death_location": "Where the death happened", "flags": "Flags for the national library", "themes": "Learning themes"})


@router.get("/reviews/{review_id}/describe")
def describe_form(web: SignedIn, review_id: str) -> Response:
    review = fetch(web, reviews_api.get_review, review_id=review_id)
    if not may(set(review.your_roles), "review.describe"):
        raise Refused(404, "")
    return form_page(web, title="Library description and themes", caption=review.reference, specs=_describe_fields(review),
                     submit="Save the description", back=f"/reviews/{review_id}", version=review.version)


@router.post("/reviews/{review_id}/describe")
def describe(web: SignedIn, form: Posted, review_id: str) -> Response:
    review = fetch(web, reviews_api.get_review, review_id=review_id)
    if not may(set(review.your_roles), "review.describe"):
        raise Refused(404, "")
    return forms_flow.submit(web, form, fn=reviews_api.describe_review, model=ReviewPatch, specs=_describe_fields(review), title="Library description and themes",
                                   caption=review.reference, submit_text="Save the description", back=f"/reviews/{review_id}", done=f"/reviews/{review_id}",
                                   message="The library description is saved.", editing=True, review_id=review_id)
