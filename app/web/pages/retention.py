"""A review's legal holds and retention: the list, and the forms that place and lift a hold."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.auth.access import may
from app.retention import api as retention_api
from app.retention.models import LegalHold
from app.retention.schemas import LegalHoldIn, LegalHoldLiftIn
from app.web.calls import Refused
from app.web.forms import FieldSpec, from_model
from app.web.pages import forms_flow
from app.web.pages.common import Posted, SignedIn, Web, fetch, form_page, render
from app.web.pages.parts import review_and_roles
from app.web.templating import long_date

router = APIRouter()
INTRO = ("A review on legal hold is never deleted, whatever its retention period, until every hold on it is lifted. "
         "Say what it is kept for (a claim, an appeal, an inquiry, a request); do not name the people in the review.")


def _retention_text(retention: dict) -> str:
    years = f"{retention['retention_years']} year{'s' if retention['retention_years'] != 1 else ''}"
    if retention["due_on"] is None:
        return f"The partnership keeps a review for {years} after it concludes (or after a decision not to review). This review has not ended yet."
    held = " It is on legal hold, so it will be kept until every hold is lifted." if retention["held"] else ""
    return (f"The partnership keeps a review for {years} after it ends. This review ended on {long_date(retention['ended_on'])}, "
            f"so it may be deleted from {long_date(retention['due_on'])}.{held}")


@router.get("/reviews/{review_id}/legal-holds")
def legal_holds(web: SignedIn, review_id: str) -> Response:
    review, roles = review_and_roles(web, review_id, "legal_holds.read")
    page = fetch(web, retention_api.list_legal_holds, review_id=review_id)
    writable = may(roles, "legal_holds.write")
    rows = [[long_date(h.placed_on), h.placed_by_name, {"paragraphs": h.reason},
             {"tag": "Active", "colour": "red"} if h.active else f"Lifted {long_date(h.lifted_on)} by {h.lifted_by_name}: {h.lift_reason}",
             {"href": f"/legal-holds/{h.id}/lift", "text": "Lift"} if writable and h.active else ""] for h in page["items"]]
    blocks = [
        {"type": "text", "heading": "Retention", "text": _retention_text(page["retention"])},
        {"type": "heading", "text": "Legal holds"},
        {"type": "links", "items": [("Place a legal hold", f"/reviews/{review_id}/legal-holds/new")] if writable else []},
        {"type": "table", "head": ["Placed", "By", "Reason", "Status", "Action"], "rows": rows, "empty": "No legal hold has been placed on this review."},
    ]
    return render(web, "part.html", title="Legal holds and retention", caption=review.reference, blocks=blocks,
                  back={"text": "Back to the review", "href": f"/reviews/{review_id}"})


def hold_fields(model=LegalHoldIn) -> list[FieldSpec]:
    return from_model(model, widgets={"reason": "textarea"}, labels={"reason": "Reason"})


@router.get("/reviews/{review_id}/legal-holds/new")
def hold_form(web: SignedIn, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "legal_holds.write")
    return form_page(web, title="Place a legal hold", caption=review.reference, specs=hold_fields(), submit="Place the legal hold",
                     back=f"/reviews/{review_id}/legal-holds", intro=INTRO)


@router.post("/reviews/{review_id}/legal-holds/new")
def place_hold(web: SignedIn, form: Posted, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "legal_holds.write")
    return forms_flow.submit(web, form, fn=retention_api.place_legal_hold, model=LegalHoldIn, specs=hold_fields(), title="Place a legal hold",
                             caption=review.reference, submit_text="Place the legal hold", back=f"/reviews/{review_id}/legal-holds",
                             done=f"/reviews/{review_id}/legal-holds", message="The legal hold is placed: the review will not be deleted while it stands.",
                             intro=INTRO, review_id=review_id)


def _hold(web: Web, hold_id: str):
    row = web.session.get(LegalHold, hold_id)
    if row is None:
        raise Refused(404, "")
    review, _ = review_and_roles(web, row.review_id, "legal_holds.write")
    return row, review


@router.get("/legal-holds/{hold_id}/lift")
def lift_form(web: SignedIn, hold_id: str) -> Response:
    row, review = _hold(web, hold_id)
    return form_page(web, title="Lift the legal hold", caption=review.reference, specs=hold_fields(LegalHoldLiftIn), submit="Lift the legal hold",
                     back=f"/reviews/{review.id}/legal-holds", intro=f"Placed on {long_date(row.placed_on)}: {row.reason}")


@router.post("/legal-holds/{hold_id}/lift")
def lift_hold(web: SignedIn, form: Posted, hold_id: str) -> Response:
    _row, review = _hold(web, hold_id)
    return forms_flow.submit(web, form, fn=retention_api.lift_legal_hold, model=LegalHoldLiftIn, specs=hold_fields(LegalHoldLiftIn),
                             title="Lift the legal hold", caption=review.reference, submit_text="Lift the legal hold",
                             back=f"/reviews/{review.id}/legal-holds", done=f"/reviews/{review.id}/legal-holds",
                             message="The legal hold is lifted.", hold_id=hold_id)
