"""Documents, readiness, Home Office submissions and QA changes, parallel proceedings, email alerts,
the quarterly report and the national view: lists, downloads and the forms that change them."""
from __future__ import annotations


from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.auth.access import may
from app.core import clock
from app.core.api import Paging
from app.documents import api as documents_api
from app.documents.schemas import DocumentIn
from app.imrs import api as imrs_api
from app.notifications import api as notifications_api
from app.partnerships.models import Csp
from app.proceedings import api as proceedings_api
from app.proceedings.models import Proceeding
from app.proceedings.schemas import ProceedingIn, ProceedingPatch
from app.reports import api as reports_api
from app.reviews import api as reviews_api
from app.submissions import api as submissions_api
from app.submissions.schemas import QaChangeEventIn
from app.web.calls import Refused
from app.web.forms import FieldSpec, from_model
from app.web.pages import forms_flow
from app.web.pages.common import Posted, SignedIn, Web, fetch, form_page, render
from app.web.pages.parts import review_and_roles
from app.web.pagination import MAX_PAGE, offset_of, pagination
from app.web.templating import date_time, humanise, long_date

router = APIRouter()
NATIONAL_PAGE_SIZE = 50  # the API's default page


def _page(web: Web, title: str, caption: str, back: str, blocks: list[dict]) -> Response:
    return render(web, "part.html", title=title, caption=caption, blocks=blocks, back={"text": "Back to the review", "href": back})


# -- documents --------------------------------------------------------------------------------------
def document_fields(web: Web, review_id: str) -> list[FieldSpec]:
    imrs = fetch(web, imrs_api.list_imrs, review_id=review_id)["items"]
    return from_model(DocumentIn, choices={"imr_id": [(i.id, i.agency_name) for i in imrs]}, widgets={"imr_id": "select"},
                      labels={"kind": "Document", "imr_id": "For the IMR of", "variant": "Version"},
                      hints={"imr_id": "Only for an IMR or its commissioning letter."})


GENERATORS = ("reports", "decision_letter", "imr", "imr_commission_letter", "home_office_cover_letter")


def may_generate(roles: set[str]) -> bool:
    return any(may(roles, f"documents.{kind}.generate") for kind in GENERATORS)


def _generator(web: Web, review_id: str):
    review, roles = review_and_roles(web, review_id, "documents.list")
    if not may_generate(roles):
        raise Refused(404, "")
    return review


@router.get("/reviews/{review_id}/documents")
def documents(web: SignedIn, review_id: str) -> Response:
    review, roles = review_and_roles(web, review_id, "documents.list")
    items = fetch(web, documents_api.list_documents, review_id=review_id, kind=None, imr_id=None, published=None)["items"]
    rows = [[humanise(d.kind), humanise(d.variant), d.version, {"href": f"/documents/{d.id}/content", "text": d.filename},
             date_time(d.created_at), "Published" if d.published_on else ("Identifiers found: " + "; ".join(f.get("where", "") if isinstance(f, dict) else f.where for f in d.findings) if d.findings else "")]
            for d in items]
    generate = may_generate(roles)
    blocks = [
        {"type": "links", "items": [("Generate a document", f"/reviews/{review_id}/documents/new")] if generate else []},
        {"type": "table", "head": ["Document", "Version", "Number", "File", "Made", "Checks"], "rows": rows, "empty": "No documents yet."},
    ]
    return _page(web, "Documents", review.reference, f"/reviews/{review_id}", blocks)


@router.get("/reviews/{review_id}/documents/new")
def document_form(web: SignedIn, review_id: str) -> Response:
    review = _generator(web, review_id)
    return form_page(web, title="Generate a document", caption=review.reference, specs=document_fields(web, review_id), submit="Generate the document",
                     back=f"/reviews/{review_id}/documents", intro="The document is made from the statutory template with what the review holds now.")


@router.post("/reviews/{review_id}/documents/new")
def generate(web: SignedIn, form: Posted, review_id: str) -> Response:
    review = _generator(web, review_id)
    return forms_flow.submit(web, form, fn=documents_api.generate_document, model=DocumentIn, specs=document_fields(web, review_id),
                                   title="Generate a document", caption=review.reference, submit_text="Generate the document",
                                   back=f"/reviews/{review_id}/documents", done=f"/reviews/{review_id}/documents",
                                   message="The document is generated. Download it from the list.", review_id=review_id)


@router.get("/documents/{document_id}/content")
def document_content(web: SignedIn, document_id: str, format: str = Query("docx", pattern="^(docx|pdf)$")) -> Response:
    return fetch(web, documents_api.document_content, document_id=document_id, format=format)


# -- readiness --------------------------------------------------------------------------------------
def where_link(review_id: str, where: str | None) -> str | None:
    """The page, and the place on it, that holds what a readiness check found wrong. Each page offers
    its edit button to those who may edit."""
    if not where:
        return None
    head, _, rest = where.partition(".")
    field = rest.split("[")[0]
    if head == "overview":
        return f"/reviews/{review_id}/overview#{field}"
    if head == "terms_of_reference":
        return f"/reviews/{review_id}/terms-of-reference#{field if field in TERMS_ANCHORS else 'addresses'}"
    if head.startswith("recommendations/"):
        return f"/reviews/{review_id}/recommendations#rec-{head.split('/')[1]}"
    if head.startswith("actions/"):
        return f"/actions/{head.split('/')[1]}"
    if head.startswith("chronology/"):
        return f"/reviews/{review_id}/chronology"
    if head == "deadlines":
        return f"/reviews/{review_id}#deadlines"
    if head == "panel":
        return f"/reviews/{review_id}/panel"
    return f"/reviews/{review_id}#summary"


TERMS_ANCHORS = ("key_lines_of_enquiry", "parallel_processes", "family_involvement", "text")


@router.get("/reviews/{review_id}/readiness")
def readiness(web: SignedIn, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "readiness.read")
    result = fetch(web, reviews_api.readiness, review_id=review_id)
    rows = [[{"tag": "Passed" if c.passed else "Put right", "colour": "green" if c.passed else "red"},
             ({"href": where_link(review_id, c.where), "text": c.detail} if not c.passed and c.where else c.detail)] for c in result.checks]
    blocks = [
        {"type": "text", "text": "The review is ready to submit to the Home Office." if result.ready
         else "The review is not ready to submit. Each check below that needs putting right links to the place to do it."},
        {"type": "table", "head": ["Result", "Check"], "rows": rows},
    ]
    return _page(web, "Readiness for the Home Office", review.reference, f"/reviews/{review_id}", blocks)


# -- submissions, QA letters and QA changes ---------------------------------------------------------
@router.get("/reviews/{review_id}/submissions")
def submissions(web: SignedIn, review_id: str) -> Response:
    review, roles = review_and_roles(web, review_id, "submissions.read")
    items = fetch(web, submissions_api.list_submissions, review_id=review_id)["items"]
    blocks: list[dict] = []
    if not items:
        blocks.append({"type": "text", "text": "", "empty": "The review has not been submitted to the Home Office yet."})
    for s in reversed(items):
        blocks.append({"type": "heading", "text": f"Package version {s.number}: {s.kind}, {long_date(s.submitted_on)}"})
        rows = [("Submitted by", s.submitted_by_name), ("Home Office outcome", humanise(s.qa_outcome) if s.qa_outcome else "Awaiting the QA panel"),
                ("Package", {"href": f"/reviews/{review_id}/home-office-package?version={s.number}", "text": f"Download package version {s.number} (zip)"}),
                ("QA panel's letter", {"href": f"/reviews/{review_id}/submissions/{s.number}/letter", "text": "Download the letter"} if s.letter else "Not attached")]
        if s.what_changed:
            rows.append(("What changed", {"paragraphs": s.what_changed}))
        blocks.append({"type": "summary", "rows": rows})
        if may(roles, "qa_letter.attach"):
            blocks.append({"type": "links", "items": [(f"Attach the QA panel's letter to version {s.number}", f"/reviews/{review_id}/submissions/{s.number}/letter/new")], "secondary": True})
    if may(roles, "qa_changes.read"):
        changes = fetch(web, submissions_api.list_qa_changes, review_id=review_id)["items"]
        if changes:
            blocks.append({"type": "heading", "text": "Changes the QA panel asked for"})
            rows = []
            for c in changes:
                link = {"href": f"/qa-changes/{c.id}/{'reopen' if c.made else 'made'}", "text": "Reopen" if c.made else "Mark as made"} if may(roles, "qa_changes.mark") else ""
                rows.append([c.number, {"paragraphs": c.text}, ("Made " + long_date(c.made_on) + (f": {c.how}" if c.how else "")) if c.made else "Not yet made", link])
            blocks.append({"type": "table", "head": ["Number", "Change", "Done", "Action"], "rows": rows})
    return _page(web, "Home Office submissions", review.reference, f"/reviews/{review_id}", blocks)


@router.get("/reviews/{review_id}/home-office-package")
def package(web: SignedIn, review_id: str, version: int | None = Query(None, ge=1, le=999)) -> Response:
    return fetch(web, submissions_api.home_office_package, review_id=review_id, version=version)


@router.get("/reviews/{review_id}/submissions/{number}/letter")
def letter(web: SignedIn, review_id: str, number: int) -> Response:
    if not 1 <= number <= 999:
        raise Refused(404, "")
    return fetch(web, submissions_api.qa_letter, review_id=review_id, number=number)


def letter_fields() -> list[FieldSpec]:
    return [FieldSpec(name="file", label="The QA panel's letter", widget="file", required=True, hint="A PDF or a Word .docx file.")]


@router.get("/reviews/{review_id}/submissions/{number}/letter/new")
def letter_form(web: SignedIn, review_id: str, number: int) -> Response:
    review, _ = review_and_roles(web, review_id, "qa_letter.attach")
    return form_page(web, title=f"Attach the QA panel's letter to version {number}", caption=review.reference, specs=letter_fields(),
                     submit="Attach the letter", back=f"/reviews/{review_id}/submissions", multipart=True, guidance="11.1")


@router.post("/reviews/{review_id}/submissions/{number}/letter/new")
def attach_letter(web: SignedIn, form: Posted, review_id: str, number: int) -> Response:
    review, _ = review_and_roles(web, review_id, "qa_letter.attach")
    if not 1 <= number <= 999:
        raise Refused(404, "")
    return forms_flow.submit(web, form, fn=submissions_api.attach_qa_letter, model=None, specs=letter_fields(), title="Attach the QA panel's letter",
                                   caption=review.reference, submit_text="Attach the letter", back=f"/reviews/{review_id}/submissions",
                                   done=f"/reviews/{review_id}/submissions", message="The letter is attached.", multipart=True, review_id=review_id, number=number)


def _change(web: Web, change_id: str):
    from app.submissions.models import QaChange

    change = web.session.get(QaChange, change_id)
    if change is None:
        raise Refused(404, "")
    review, _ = review_and_roles(web, change.review_id, "qa_changes.mark")
    return change, review


def change_fields(event: str) -> list[FieldSpec]:
    label = "How the change was made" if event == "made" else "Why the change is not done"
    specs = [FieldSpec(name="text", label=label, widget="textarea", required=True)]
    if event == "made":
        specs.append(FieldSpec(name="on", label="Date it was made", widget="date", hint="Leave blank for today."))
    return specs


@router.get("/qa-changes/{change_id}/{event}")
def change_form(web: SignedIn, change_id: str, event: str) -> Response:
    if event not in ("made", "reopen"):
        raise Refused(404, "")
    change, review = _change(web, change_id)
    return form_page(web, title="Mark the change as made" if event == "made" else "Reopen the change", caption=review.reference,
                     specs=change_fields(event), submit="Mark as made" if event == "made" else "Reopen the change",
                     back=f"/reviews/{review.id}/submissions", intro=change.text, guidance="11.3")


@router.post("/qa-changes/{change_id}/{event}")
def mark_change(web: SignedIn, form: Posted, change_id: str, event: str) -> Response:
    if event not in ("made", "reopen"):
        raise Refused(404, "")
    change, review = _change(web, change_id)
    return forms_flow.submit(web, form, fn=submissions_api.qa_change_event, model=QaChangeEventIn, specs=change_fields(event), body_extra={"event": event},
                                   title="Mark the change as made" if event == "made" else "Reopen the change", caption=review.reference,
                                   submit_text="Mark as made" if event == "made" else "Reopen the change", back=f"/reviews/{review.id}/submissions",
                                   done=f"/reviews/{review.id}/submissions", message="The change is marked as made." if event == "made" else "The change is reopened.",
                                   change_id=change_id)


# -- parallel proceedings ---------------------------------------------------------------------------
def proceeding_fields(model=ProceedingIn, current=None) -> list[FieldSpec]:
    values = {n: getattr(current, n) for n in model.model_fields} if current is not None else {}
    return from_model(model, values=values, labels={"expected_end_on": "Expected to end", "concluded_on": "Concluded on"})


@router.get("/reviews/{review_id}/proceedings")
def proceedings(web: SignedIn, review_id: str) -> Response:
    review, roles = review_and_roles(web, review_id, "proceedings.read")
    items = fetch(web, proceedings_api.list_proceedings, review_id=review_id)["items"]
    writable = may(roles, "proceedings.write")
    rows = [[humanise(p.kind), {"paragraphs": p.description}, humanise(p.status), long_date(p.expected_end_on), long_date(p.concluded_on),
             "Holds publication (9.2)" if p.holds_publication else "", {"href": f"/proceedings/{p.id}/edit", "text": "Update"} if writable else ""] for p in items]
    blocks = [
        {"type": "links", "items": [("Record a proceeding", f"/reviews/{review_id}/proceedings/new")] if writable else []},
        {"type": "table", "head": ["Kind", "Description", "Status", "Expected end", "Concluded", "Publication", "Action"], "rows": rows,
         "empty": "No criminal trial, inquest or other review is recorded."},
    ]
    return _page(web, "Parallel proceedings", review.reference, f"/reviews/{review_id}", blocks)


@router.get("/reviews/{review_id}/proceedings/new")
def proceeding_form(web: SignedIn, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "proceedings.write")
    return form_page(web, title="Record a proceeding", caption=review.reference, specs=proceeding_fields(), submit="Record the proceeding",
                     back=f"/reviews/{review_id}/proceedings", guidance="6.5-6.8, 9.2")


@router.post("/reviews/{review_id}/proceedings/new")
def record_proceeding(web: SignedIn, form: Posted, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "proceedings.write")
    return forms_flow.submit(web, form, fn=proceedings_api.record_proceeding, model=ProceedingIn, specs=proceeding_fields(), title="Record a proceeding",
                                   caption=review.reference, submit_text="Record the proceeding", back=f"/reviews/{review_id}/proceedings",
                                   done=f"/reviews/{review_id}/proceedings", message="The proceeding is recorded.", review_id=review_id)


def _proceeding(web: Web, proceeding_id: str):
    row = web.session.get(Proceeding, proceeding_id)
    if row is None:
        raise Refused(404, "")
    review, _ = review_and_roles(web, row.review_id, "proceedings.write")
    return row, review


@router.get("/proceedings/{proceeding_id}/edit")
def proceeding_edit_form(web: SignedIn, proceeding_id: str) -> Response:
    row, review = _proceeding(web, proceeding_id)
    return form_page(web, title="Update the proceeding", caption=review.reference, specs=proceeding_fields(ProceedingPatch, row), submit="Save the proceeding",
                     back=f"/reviews/{review.id}/proceedings", version=row.version)


@router.post("/proceedings/{proceeding_id}/edit")
def update_proceeding(web: SignedIn, form: Posted, proceeding_id: str) -> Response:
    _row, review = _proceeding(web, proceeding_id)
    return forms_flow.submit(web, form, fn=proceedings_api.update_proceeding, model=ProceedingPatch, specs=proceeding_fields(ProceedingPatch),
                                   title="Update the proceeding", caption=review.reference, submit_text="Save the proceeding",
                                   back=f"/reviews/{review.id}/proceedings", done=f"/reviews/{review.id}/proceedings",
                                   message="The proceeding is updated.", editing=True, proceeding_id=proceeding_id)


# -- email alerts -----------------------------------------------------------------------------------
@router.get("/mail")
def mail(web: SignedIn, status: str | None = Query(None, pattern="^(sent|waiting|failing|failed)$")) -> Response:
    if not web.user.csp_roles:
        raise Refused(404, "")
    page = fetch(web, notifications_api.list_mail, paging=Paging(limit=200, offset=0), status=status, review_id=None)
    rows = [[date_time(m.created_at), m.reference, m.subject, m.to, humanise(m.status), m.attempts, m.last_error or "",
             ("retry", m.id) if m.status in ("failing", "failed") else ""] for m in page.items]
    counts = ", ".join(f"{n} {humanise(s).lower()}" for s, n in sorted(page.counts.model_dump().items()) if n) or "none"
    return render(web, "mail.html", title="Email alerts", rows=rows, counts=counts, status=status)


@router.post("/mail/{message_id}/retry")
def retry_mail(web: SignedIn, form: Posted, message_id: str) -> Response:
    from app.web.calls import perform
    from app.web.pages.common import redirect

    perform(notifications_api.retry_mail, session=web.session, principal=web.user, message_id=message_id)
    return redirect(web, "/mail", "The message will be sent again within a minute.")


# -- quarterly report and the national view ---------------------------------------------------------
def _report_csps(web: Web) -> list[tuple[str, str]]:
    ids = [csp for csp, roles in web.user.csp_roles.items() if roles & {"csp_chair", "csp_coordinator"}]
    return [(c.id, c.name) for c in web.session.query(Csp).filter(Csp.id.in_(ids)).order_by(Csp.name)] if ids else []


@router.get("/quarterly-report")
def quarterly_form(web: SignedIn) -> Response:
    csps = _report_csps(web)
    if not csps:
        raise Refused(404, "")
    today = clock.today()
    # This quarter (figures as at today) and the seven before it.
    year, q = today.year, (today.month - 1) // 3 + 1
    quarters = []
    for _ in range(8):
        quarters.append(f"{year}Q{q}")
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    return render(web, "quarterly.html", title="Quarterly report for the board", csps=csps, quarters=quarters)


@router.get("/quarterly-report/download")
def quarterly_download(web: SignedIn, csp_id: str = Query(..., max_length=32), quarter: str = Query(..., min_length=6, max_length=6)) -> Response:
    return fetch(web, reports_api.quarterly_report, csp_id=csp_id, quarter=quarter, format="docx")


@router.get("/national")
def national(web: SignedIn, page: int = Query(1, ge=1, le=MAX_PAGE)) -> Response:
    if not web.user.is_home_office:
        raise Refused(404, "")
    paging = Paging(limit=NATIONAL_PAGE_SIZE, offset=offset_of(page, NATIONAL_PAGE_SIZE))
    result = fetch(web, reports_api.national_reviews, paging=paging, state=None, region=None, csp_id=None)
    rows = [[{"href": f"/reviews/{r['id']}", "text": r["reference"]}, r["csp"]["name"], r["state_title"], r["submissions"], r["days_with_home_office"] if r["days_with_home_office"] is not None else "",
             {True: "Yes", False: "No", None: ""}[r["decision_within_one_month"]], humanise(r["overview_result"] or ""), r["days_notification_to_first_submission"]]
            for r in result["items"]]
    themes = [[t["theme"], t["reviews"]] for t in result["themes"] if t["recurring"]]
    shown = f"{paging.offset + 1} to {paging.offset + len(rows)} of {result['total']}" if rows else f"none of {result['total']}"
    caption = "Every review submitted to the Home Office" + (f", showing {shown}" if result["total"] > NATIONAL_PAGE_SIZE else "")
    return render(web, "part.html", title="National view", caption=caption, blocks=[
        {"type": "table", "head": ["Review", "Partnership", "Stage", "Submissions", "Days with the Home Office", "Decided within a month", "Overview report", "Days to first submission"],
         "rows": rows, "empty": "No review has been submitted yet." if not result["total"] else "There is no page with that number."},
        {"type": "pagination", "params": pagination("/national", page, result["total"], NATIONAL_PAGE_SIZE)},
        {"type": "table", "caption": "Recurring themes", "head": ["Theme", "Reviews"], "rows": themes, "empty": "No recurring themes yet."},
    ])
