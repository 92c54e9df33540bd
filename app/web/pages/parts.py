"""The review's parts: people, panel, terms of reference, IMRs and their chronologies, the Overview
Report, recommendations and actions. Every change goes through the API's own route function."""
from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import select

from app.actions import api as actions_api
from app.actions.schemas import ActionEventIn, ActionIn, ActionPatch
from app.auth.access import may
from app.auth.models import User
from app.core.api import Paging
from app.core.errors import DomainError
from app.documents import api as documents_api
from app.imrs import api as imrs_api
from app.imrs import service as imrs_service
from app.imrs.schemas import ChronologyIn, ImrCommissionIn, ImrEventIn, ImrPatch
from app.overview import api as overview_api
from app.overview.schemas import OverviewPatch, RecommendationIn
from app.panel import api as panel_api
from app.panel.schemas import PanelMemberIn
from app.partnerships.models import Agency
from app.people import api as people_api
from app.people.schemas import PersonIn
from app.reviews import service as reviews_service
from app.terms import api as terms_api
from app.terms.schemas import TermsIn
from app.web.calls import Refused
from app.web.forms import FieldSpec, from_model
from app.web.pages import events, forms_flow
from app.web.pages.common import Posted, SignedIn, Web, fetch, form_page, render
from app.web.pagination import MAX_PAGE, offset_of, pagination
from app.web.templating import humanise, long_date, rag
from app.workflow import engine
from app.workflow.registry import get_registry

router = APIRouter()


# -- shared ---------------------------------------------------------------------------------------
def review_and_roles(web: Web, review_id: str, capability: str | None = None):
    """The review if this person may see it (and has the capability); otherwise a 404 page."""
    try:
        review, roles = reviews_service.visible_review(web.session, web.user, review_id)
    except DomainError as exc:
        raise Refused(404, "") from exc
    if capability and not may(roles, capability):
        raise Refused(404, "")
    return review, roles


def agency_choices(web: Web) -> list[tuple[str, str]]:
    return [(a.id, a.name) for a in web.session.scalars(select(Agency).order_by(Agency.name))]


def _page(web: Web, title: str, caption: str, back: str, blocks: list[dict]) -> Response:
    return render(web, "part.html", title=title, caption=caption, blocks=blocks, back={"text": "Back to the review", "href": back})


# -- people -----------------------------------------------------------------------------------------
def person_fields() -> list[FieldSpec]:
    return from_model(PersonIn, hints={"aliases": "Other names the person was known by, one per line. The anonymisation check looks for them."})


@router.get("/reviews/{review_id}/people")
def people(web: SignedIn, review_id: str) -> Response:
    review, roles = review_and_roles(web, review_id, "people.read")
    items = fetch(web, people_api.list_people, review_id=review_id)["items"]
    rows = [[humanise(p.role), p.name, p.pseudonym, ", ".join(p.aliases or []), long_date(p.date_of_birth), p.relationship or ""] for p in items]
    blocks = [
        {"type": "links", "items": [("Add a person", f"/reviews/{review_id}/people/new")] if may(roles, "people.write") else []},
        {"type": "table", "head": ["Role", "Name", "Pseudonym", "Also known as", "Date of birth", "Relationship"], "rows": rows,
         "empty": "Nobody is recorded yet. Record the victim, the perpetrator and family members with their agreed pseudonyms."},
    ]
    return _page(web, "People and pseudonyms", review.reference, f"/reviews/{review_id}", blocks)


@router.get("/reviews/{review_id}/people/new")
def person_form(web: SignedIn, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "people.write")
    return form_page(web, title="Add a person", caption=review.reference, specs=person_fields(), submit="Add the person", back=f"/reviews/{review_id}/people", guidance="9.1")


@router.post("/reviews/{review_id}/people/new")
def add_person(web: SignedIn, form: Posted, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "people.write")
    return forms_flow.submit(web, form, fn=people_api.add_person, model=PersonIn, specs=person_fields(), title="Add a person", caption=review.reference,
                                   submit_text="Add the person", back=f"/reviews/{review_id}/people", done=f"/reviews/{review_id}/people",
                                   message="The person is recorded.", review_id=review_id)


# -- panel ------------------------------------------------------------------------------------------
def panel_fields(web: Web) -> list[FieldSpec]:
    users = web.session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name)).all()
    return from_model(PanelMemberIn, choices={"user_id": [(u.id, f"{u.name} ({u.email})") for u in users], "agency_id": agency_choices(web)},
                      labels={"user_id": "Person", "agency_id": "Agency they represent", "role": "Role on the panel"},
                      hints={"independence_statement": "Required for the chair: how they are independent of the agencies involved (5.8-5.10)."},
                      widgets={"agency_id": "select"})


@router.get("/reviews/{review_id}/panel")
def panel(web: SignedIn, review_id: str) -> Response:
    review, roles = review_and_roles(web, review_id, "panel.read")
    items = fetch(web, panel_api.list_panel, review_id=review_id)["items"]
    agencies = dict(agency_choices(web))
    rows = [[m.name, humanise(m.role), agencies.get(m.agency_id, ""), {"paragraphs": m.independence_statement or ""}] for m in items]
    blocks = [
        {"type": "links", "items": [("Add a panel member", f"/reviews/{review_id}/panel/new")] if may(roles, "panel.write") else []},
        {"type": "table", "head": ["Name", "Role", "Agency", "Independence statement"], "rows": rows, "empty": "No panel yet."},
    ]
    return _page(web, "Review panel", review.reference, f"/reviews/{review_id}", blocks)


@router.get("/reviews/{review_id}/panel/new")
def panel_form(web: SignedIn, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "panel.write")
    return form_page(web, title="Add a panel member", caption=review.reference, specs=panel_fields(web), submit="Add to the panel", back=f"/reviews/{review_id}/panel", guidance="5.8-5.10")


@router.post("/reviews/{review_id}/panel/new")
def add_panel_member(web: SignedIn, form: Posted, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "panel.write")
    return forms_flow.submit(web, form, fn=panel_api.add_panel_member, model=PanelMemberIn, specs=panel_fields(web), title="Add a panel member", caption=review.reference,
                                   submit_text="Add to the panel", back=f"/reviews/{review_id}/panel", done=f"/reviews/{review_id}/panel",
                                   message="The panel member is added.", review_id=review_id)


# -- terms of reference -----------------------------------------------------------------------------
def _current_terms(web: Web, review_id: str):
    try:
        return terms_api.get_terms(review_id=review_id, session=web.session, principal=web.user, version=None)
    except DomainError:
        return None


def terms_fields(current=None) -> list[FieldSpec]:
    values = current.model_dump() if current is not None else {}
    return from_model(TermsIn, values=values, labels={"period_from": "Period the review covers: from", "period_to": "Period the review covers: to",
                                                     "key_lines_of_enquiry": "Key lines of enquiry", "text": "Full terms of reference"},
                      widgets={"coercive_control": "checkbox", "equality_and_diversity": "checkbox", "suicide": "checkbox"})


@router.get("/reviews/{review_id}/terms-of-reference")
def terms(web: SignedIn, review_id: str) -> Response:
    review, roles = review_and_roles(web, review_id, "terms.read")
    current = _current_terms(web, review_id)
    blocks: list[dict] = [{"type": "links", "items": [("Edit the terms of reference", f"/reviews/{review_id}/terms-of-reference/edit")] if may(roles, "terms.write") else []}]
    if current is None:
        blocks.append({"type": "text", "text": "", "empty": "The terms of reference are not written yet."})
    else:
        yes = lambda v: "Yes" if v else "No"  # noqa: E731
        blocks += [
            {"type": "heading", "text": "What the terms address", "id": "addresses"},
            {"type": "summary", "rows": [
                ("Version", f"{current.version} of {current.versions}"),
                ("Period covered", f"{long_date(current.period_from)} to {long_date(current.period_to)}"),
                ("Addresses coercive control", yes(current.coercive_control)),
                ("Addresses equality and diversity", yes(current.equality_and_diversity)),
                ("Addresses suicide", yes(current.suicide)),
            ]},
            {"type": "table", "id": "key_lines_of_enquiry", "caption": "Key lines of enquiry", "head": ["Number", "Line of enquiry"], "rows": [[i + 1, line] for i, line in enumerate(current.key_lines_of_enquiry)], "empty": "No key lines of enquiry yet."},
            {"type": "text", "heading": "Parallel processes", "id": "parallel_processes", "text": current.parallel_processes},
            {"type": "text", "heading": "Family involvement", "id": "family_involvement", "text": current.family_involvement},
            {"type": "text", "heading": "Full terms of reference", "id": "text", "text": current.text},
        ]
    return _page(web, "Terms of reference", review.reference, f"/reviews/{review_id}", blocks)


@router.get("/reviews/{review_id}/terms-of-reference/edit")
def terms_form(web: SignedIn, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "terms.write")
    return form_page(web, title="Edit the terms of reference", caption=review.reference, specs=terms_fields(_current_terms(web, review_id)),
                     submit="Save the terms of reference", back=f"/reviews/{review_id}/terms-of-reference", guidance="5.11",
                     intro="Each save makes a new version; earlier versions are kept.")


@router.post("/reviews/{review_id}/terms-of-reference/edit")
def save_terms(web: SignedIn, form: Posted, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "terms.write")
    return forms_flow.submit(web, form, fn=terms_api.put_terms, model=TermsIn, specs=terms_fields(), title="Edit the terms of reference", caption=review.reference,
                                   submit_text="Save the terms of reference", back=f"/reviews/{review_id}/terms-of-reference",
                                   done=f"/reviews/{review_id}/terms-of-reference", message="A new version of the terms of reference is saved.", review_id=review_id)


# -- IMRs -------------------------------------------------------------------------------------------
def commission_fields(web: Web) -> list[FieldSpec]:
    return from_model(ImrCommissionIn, choices={"agency_id": agency_choices(web)}, labels={"agency_id": "Agency", "due_on": "Due date"},
                      widgets={"agency_id": "select"}, hints={"due_on": "Leave blank for the workflow's default period from today."})


def imr_rows(items) -> list[list]:
    return [[{"href": f"/imrs/{i.id}", "text": i.agency_name}, humanise(i.state), long_date(i.due_on),
             ({"tag": rag(i.deadline)[1], "colour": rag(i.deadline)[0]} if i.deadline else ""), i.times_returned] for i in items]


@router.get("/reviews/{review_id}/imrs")
def imrs(web: SignedIn, review_id: str) -> Response:
    review, roles = review_and_roles(web, review_id, "imr.read")
    items = fetch(web, imrs_api.list_imrs, review_id=review_id)["items"]
    blocks = [
        {"type": "links", "items": [("Commission an IMR", f"/reviews/{review_id}/imrs/new")] if may(roles, "imrs.commission") else []},
        {"type": "table", "head": ["Agency", "State", "Due", "Deadline", "Times returned"], "rows": imr_rows(items), "empty": "No IMR has been commissioned yet."},
    ]
    return _page(web, "Individual Management Reviews", review.reference, f"/reviews/{review_id}", blocks)


@router.get("/reviews/{review_id}/imrs/new")
def commission_form(web: SignedIn, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "imrs.commission")
    return form_page(web, title="Commission an IMR", caption=review.reference, specs=commission_fields(web), submit="Commission the IMR",
                     back=f"/reviews/{review_id}/imrs", guidance="8.1", intro="The agency's manager and authors are emailed, and the IMR's deadline starts.")


@router.post("/reviews/{review_id}/imrs/new")
def commission(web: SignedIn, form: Posted, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "imrs.commission")
    return forms_flow.submit(web, form, fn=imrs_api.commission_imr, model=ImrCommissionIn, specs=commission_fields(web), title="Commission an IMR",
                                   caption=review.reference, submit_text="Commission the IMR", back=f"/reviews/{review_id}/imrs",
                                   done=f"/reviews/{review_id}/imrs", message="The IMR is commissioned and the agency has been emailed.", review_id=review_id)


def _imr(web: Web, imr_id: str):
    try:
        return imrs_service.visible_imr(web.session, web.user, imr_id)
    except DomainError as exc:
        raise Refused(404, "") from exc


IMR_SECTIONS = ("methodology", "parallel_processes", "analysis", "effective_practice", "lessons")


@router.get("/imrs/{imr_id}")
def imr_page(web: SignedIn, imr_id: str) -> Response:
    row, review, roles = _imr(web, imr_id)
    imr = fetch(web, imrs_api.get_imr, imr_id=imr_id)
    chronology = fetch(web, imrs_api.imr_chronology, imr_id=imr_id)["items"]
    standing = engine.event_standing(web.session, subject=row, review=review, actor=web.user, roles=roles)
    writable = may(roles, "imr.write") and imr.state in ("commissioned", "in_progress")
    links = []
    if writable:
        links += [("Edit the IMR", f"/imrs/{imr_id}/edit"), ("Add a chronology entry", f"/imrs/{imr_id}/chronology/new"), ("Upload the IMR as a Word file", f"/imrs/{imr_id}/upload")]
    blocks: list[dict] = [
        {"type": "summary", "rows": [
            ("Agency", imr.agency_name), ("State", humanise(imr.state)), ("Commissioned", long_date(imr.commissioned_on)),
            ("Due", long_date(imr.due_on)), ("Deadline", {"tag": rag(imr.deadline)[1], "colour": rag(imr.deadline)[0]} if imr.deadline else "None"),
            ("Author", f"{imr.author_name}, {imr.author_role}" if imr.author_name else "Not yet named"),
            ("Author's independence confirmed", "Yes" if imr.independence_confirmed else "No"),
            ("Returned", f"{imr.times_returned} time(s)" + (f": {imr.returned_reason}" if imr.returned_reason else "")),
        ]},
        {"type": "heading", "text": "What you can do now"},
        {"type": "events", "standing": standing, "base": f"/imrs/{imr_id}"},
        {"type": "links", "items": links, "secondary": True},
    ]
    for name in IMR_SECTIONS:
        blocks.append({"type": "text", "heading": humanise(name), "text": getattr(imr, name), "id": name})
    blocks.append({"type": "table", "caption": "Chronology", "head": ["Date", "What happened", "Who was seen", "Staff", "Interviewed"],
                   "rows": [[long_date(e.occurred_on), {"paragraphs": e.description}, ", ".join(e.seen), e.staff, "Yes" if e.interviewed else "No"] for e in chronology],
                   "empty": "No chronology entries yet."})
    return render(web, "part.html", title=f"IMR: {imr.agency_name}", caption=review.reference, blocks=blocks,
                  back={"text": "Back", "href": f"/reviews/{review.id}/imrs" if may(roles, "imrs.read_all") else "/"})


def _imr_subject(web: Web, imr_id: str) -> events.Subject:
    row, review, roles = _imr(web, imr_id)
    return events.Subject(row=row, review=review, roles=roles, fire=imrs_api.fire_imr_event, model=ImrEventIn,
                          path_args={"imr_id": imr_id}, page=f"/imrs/{imr_id}", caption=review.reference)


@router.get("/imrs/{imr_id}/events/{event}")
def imr_event_form(web: SignedIn, imr_id: str, event: str) -> Response:
    return events.show(web, _imr_subject(web, imr_id), event)


@router.post("/imrs/{imr_id}/events/{event}")
def imr_event(web: SignedIn, form: Posted, imr_id: str, event: str) -> Response:
    return events.submit(web, _imr_subject(web, imr_id), event, form, web.user)


def imr_fields(imr=None) -> list[FieldSpec]:
    values = imr.model_dump() if imr is not None else {}
    return from_model(ImrPatch, values=values, widgets={"independence_confirmed": "checkbox"},
                      labels={"independence_confirmed": "The author is independent of the line management of the staff involved"})


@router.get("/imrs/{imr_id}/edit")
def imr_form(web: SignedIn, imr_id: str) -> Response:
    _row, review, roles = _imr(web, imr_id)
    if not may(roles, "imr.write"):
        raise Refused(404, "")
    imr = fetch(web, imrs_api.get_imr, imr_id=imr_id)
    return form_page(web, title=f"Edit the IMR: {imr.agency_name}", caption=review.reference, specs=imr_fields(imr), submit="Save the IMR",
                     back=f"/imrs/{imr_id}", version=imr.version, guidance="8.2-8.7, Appendix 2")


@router.post("/imrs/{imr_id}/edit")
def save_imr(web: SignedIn, form: Posted, imr_id: str) -> Response:
    _row, review, roles = _imr(web, imr_id)
    if not may(roles, "imr.write"):
        raise Refused(404, "")
    return forms_flow.submit(web, form, fn=imrs_api.edit_imr, model=ImrPatch, specs=imr_fields(), title="Edit the IMR", caption=review.reference,
                                   submit_text="Save the IMR", back=f"/imrs/{imr_id}", done=f"/imrs/{imr_id}", message="The IMR is saved.",
                                   editing=True, imr_id=imr_id)


def chronology_fields() -> list[FieldSpec]:
    return from_model(ChronologyIn, labels={"occurred_on": "Date of the contact", "description": "What happened", "seen": "Who was seen",
                                            "views_expressed": "Views the person expressed", "staff": "Staff involved (role, not name, where possible)",
                                            "interviewed": "Those staff were interviewed for this IMR"}, hints={"seen": "One per line: use roles or pseudonyms."})


@router.get("/imrs/{imr_id}/chronology/new")
def chronology_form(web: SignedIn, imr_id: str) -> Response:
    _row, review, roles = _imr(web, imr_id)
    if not may(roles, "imr.write"):
        raise Refused(404, "")
    return form_page(web, title="Add a chronology entry", caption=review.reference, specs=chronology_fields(), submit="Add the entry", back=f"/imrs/{imr_id}", guidance="Appendix 2")


@router.post("/imrs/{imr_id}/chronology/new")
def add_chronology(web: SignedIn, form: Posted, imr_id: str) -> Response:
    _row, review, roles = _imr(web, imr_id)
    if not may(roles, "imr.write"):
        raise Refused(404, "")
    return forms_flow.submit(web, form, fn=imrs_api.add_chronology_entry, model=ChronologyIn, specs=chronology_fields(), title="Add a chronology entry",
                                   caption=review.reference, submit_text="Add the entry", back=f"/imrs/{imr_id}", done=f"/imrs/{imr_id}",
                                   message="The chronology entry is added.", imr_id=imr_id)


def upload_fields() -> list[FieldSpec]:
    return [FieldSpec(name="file", label="The IMR as a Word .docx file", widget="file", required=True, hint="Use the IMR template (Appendix 2). It is checked before it is stored.")]


@router.get("/imrs/{imr_id}/upload")
def upload_form(web: SignedIn, imr_id: str) -> Response:
    _row, review, roles = _imr(web, imr_id)
    if not may(roles, "documents.imr.upload"):
        raise Refused(404, "")
    return form_page(web, title="Upload the IMR", caption=review.reference, specs=upload_fields(), submit="Upload the IMR", back=f"/imrs/{imr_id}", multipart=True)


@router.post("/imrs/{imr_id}/upload")
def upload(web: SignedIn, form: Posted, imr_id: str) -> Response:
    _row, review, roles = _imr(web, imr_id)
    if not may(roles, "documents.imr.upload"):
        raise Refused(404, "")
    return forms_flow.submit(web, form, fn=documents_api.upload_imr, model=None, specs=upload_fields(), title="Upload the IMR", caption=review.reference,
                                   submit_text="Upload the IMR", back=f"/imrs/{imr_id}", done=f"/reviews/{review.id}/documents",
                                   message="The IMR file is uploaded and checked.", multipart=True, imr_id=imr_id)


@router.get("/reviews/{review_id}/chronology")
def combined_chronology(web: SignedIn, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "chronology.combined")
    items = fetch(web, imrs_api.combined_chronology, review_id=review_id)["items"]
    rows = [[long_date(e.occurred_on), e.agency_name, {"paragraphs": e.description}, ", ".join(e.seen), e.staff] for e in items]
    return _page(web, "Combined chronology", review.reference, f"/reviews/{review_id}",
                 [{"type": "table", "head": ["Date", "Agency", "What happened", "Who was seen", "Staff"], "rows": rows, "empty": "No chronology entries yet."}])


# -- overview ---------------------------------------------------------------------------------------
OVERVIEW_LABELS = {"introduction": "Introduction", "facts": "The facts", "analysis": "Analysis", "equality_and_diversity": "Equality and diversity",
                   "family_contribution": "The family's contribution", "key_issues": "Key issues", "conclusions": "Conclusions", "lessons": "Lessons to be learned",
                   "dissemination": "Who receives copies of the report"}


def overview_fields(overview=None) -> list[FieldSpec]:
    values = {n: getattr(overview, n) for n in OverviewPatch.model_fields} if overview is not None else {}
    return from_model(OverviewPatch, values=values, labels=OVERVIEW_LABELS)


@router.get("/reviews/{review_id}/overview")
def overview(web: SignedIn, review_id: str) -> Response:
    review, roles = review_and_roles(web, review_id, "overview.read")
    current = fetch(web, overview_api.get_overview, review_id=review_id)
    blocks: list[dict] = [{"type": "links", "items": [("Edit the Overview Report", f"/reviews/{review_id}/overview/edit")] if may(roles, "overview.write") else []}]
    for name, label in OVERVIEW_LABELS.items():
        value = getattr(current, name)
        blocks.append({"type": "text", "heading": label, "id": name, "text": "\n".join(value) if isinstance(value, list) else value})
    return _page(web, "Overview Report", review.reference, f"/reviews/{review_id}", blocks)


@router.get("/reviews/{review_id}/overview/edit")
def overview_form(web: SignedIn, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "overview.write")
    current = fetch(web, overview_api.get_overview, review_id=review_id)
    return form_page(web, title="Edit the Overview Report", caption=review.reference, specs=overview_fields(current), submit="Save the Overview Report",
                     back=f"/reviews/{review_id}/overview", version=current.version, guidance="Appendix 4")


@router.post("/reviews/{review_id}/overview/edit")
def save_overview(web: SignedIn, form: Posted, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "overview.write")
    return forms_flow.submit(web, form, fn=overview_api.edit_overview, model=OverviewPatch, specs=overview_fields(), title="Edit the Overview Report",
                                   caption=review.reference, submit_text="Save the Overview Report", back=f"/reviews/{review_id}/overview",
                                   done=f"/reviews/{review_id}/overview", message="The Overview Report is saved.", editing=True, review_id=review_id)


# -- recommendations and actions --------------------------------------------------------------------
def recommendation_fields(web: Web, review_id: str) -> list[FieldSpec]:
    imrs = fetch(web, imrs_api.list_imrs, review_id=review_id)["items"]
    return from_model(RecommendationIn, choices={"imr_id": [(i.id, i.agency_name) for i in imrs]}, widgets={"imr_id": "select"},
                      labels={"text": "Recommendation", "imr_id": "The IMR it came from"})


def action_fields(web: Web, action=None, model=ActionIn) -> list[FieldSpec]:
    values = action.model_dump() if action is not None else {}
    return from_model(model, values=values, choices={"lead_agency_id": agency_choices(web)}, widgets={"lead_agency_id": "select"},
                      labels={"action": "Action", "lead_agency_id": "Lead agency", "outcome_measure": "How completion will be measured"})


@router.get("/reviews/{review_id}/recommendations")
def recommendations(web: SignedIn, review_id: str) -> Response:
    review, roles = review_and_roles(web, review_id, "recommendations.read")
    items = fetch(web, overview_api.list_recommendations, review_id=review_id)["items"]
    agencies = dict(agency_choices(web))
    writable = may(roles, "recommendations.write")
    blocks: list[dict] = [{"type": "links", "items": [("Add a recommendation", f"/reviews/{review_id}/recommendations/new")] if writable else []}]
    if not items:
        blocks.append({"type": "text", "text": "", "empty": "No recommendations yet."})
    for rec in items:
        blocks.append({"type": "text", "heading": f"Recommendation {rec.number} ({humanise(rec.scope).lower()})", "id": f"rec-{rec.id}", "text": rec.text})
        blocks.append({"type": "table", "caption": f"Actions for recommendation {rec.number}", "head": ["Action", "Lead agency", "Target date", "State"],
                       "rows": [[{"href": f"/actions/{a.id}", "text": a.action[:120]}, agencies.get(a.lead_agency_id, "None"), long_date(a.target_date), humanise(a.state)] for a in rec.actions],
                       "empty": "No action yet: every recommendation needs an action with a lead agency and a target date (8.16-8.17)."})
        if writable:
            blocks.append({"type": "links", "items": [(f"Add an action to recommendation {rec.number}", f"/recommendations/{rec.id}/actions/new")], "secondary": True})
    return _page(web, "Recommendations and action plan", review.reference, f"/reviews/{review_id}", blocks)


@router.get("/reviews/{review_id}/recommendations/new")
def recommendation_form(web: SignedIn, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "recommendations.write")
    return form_page(web, title="Add a recommendation", caption=review.reference, specs=recommendation_fields(web, review_id), submit="Add the recommendation",
                     back=f"/reviews/{review_id}/recommendations", guidance="8.16")


@router.post("/reviews/{review_id}/recommendations/new")
def add_recommendation(web: SignedIn, form: Posted, review_id: str) -> Response:
    review, _ = review_and_roles(web, review_id, "recommendations.write")
    return forms_flow.submit(web, form, fn=overview_api.add_recommendation, model=RecommendationIn, specs=recommendation_fields(web, review_id),
                                   title="Add a recommendation", caption=review.reference, submit_text="Add the recommendation",
                                   back=f"/reviews/{review_id}/recommendations", done=f"/reviews/{review_id}/recommendations",
                                   message="The recommendation is added.", review_id=review_id)


def _recommendation_review(web: Web, recommendation_id: str):
    from app.overview.models import Recommendation

    rec = web.session.get(Recommendation, recommendation_id)
    if rec is None:
        raise Refused(404, "")
    review, roles = review_and_roles(web, rec.review_id, "recommendations.write")
    return rec, review


@router.get("/recommendations/{recommendation_id}/actions/new")
def action_form(web: SignedIn, recommendation_id: str) -> Response:
    rec, review = _recommendation_review(web, recommendation_id)
    return form_page(web, title=f"Add an action to recommendation {rec.number}", caption=review.reference, specs=action_fields(web), submit="Add the action",
                     back=f"/reviews/{review.id}/recommendations", guidance="8.17", intro=rec.text)


@router.post("/recommendations/{recommendation_id}/actions/new")
def add_action(web: SignedIn, form: Posted, recommendation_id: str) -> Response:
    rec, review = _recommendation_review(web, recommendation_id)
    return forms_flow.submit(web, form, fn=actions_api.add_action, model=ActionIn, specs=action_fields(web), title=f"Add an action to recommendation {rec.number}",
                                   caption=review.reference, submit_text="Add the action", back=f"/reviews/{review.id}/recommendations",
                                   done=f"/reviews/{review.id}/recommendations", message="The action is added to the action plan.", recommendation_id=recommendation_id)


def _action(web: Web, action_id: str):
    try:
        return actions_api.visible_action(web.session, web.user, action_id)
    except DomainError as exc:
        raise Refused(404, "") from exc


ACTIONS_PER_PAGE = 50  # the API's default page
COMPLETED_ACTION = "completed"  # not a final state (an action may be reopened), so named here


def action_states() -> dict[str, str]:
    """Every state of the action workflows with its title, in the workflows' order."""
    registry = get_registry()
    names = {d.action_workflow for d in registry.all() if d.action_workflow}
    return {s.name: s.title for d in registry.all() if d.name in names for s in d.states}


def _action_filters(state: str | None, overdue: bool | None) -> dict:
    """The /actions filter form: a state and whether only overdue actions show."""
    items = [{"value": "", "text": "Any state"}] + [{"value": name, "text": title, "selected": name == state} for name, title in action_states().items()]
    return {"type": "filters", "action": "/actions", "button": "Show actions",
            "selects": [{"id": "state", "name": "state", "label": {"text": "State"}, "items": items}],
            "checkboxes": [{"name": "overdue", "classes": "govuk-checkboxes--small",
                            "items": [{"value": "true", "text": "Only overdue actions", "checked": overdue}]}]}


@router.get("/actions")
def action_list(web: SignedIn, state: str | None = Query(None, max_length=20), overdue: bool | None = None,
                page: int = Query(1, ge=1, le=MAX_PAGE)) -> Response:
    paging = Paging(limit=ACTIONS_PER_PAGE, offset=offset_of(page, ACTIONS_PER_PAGE))
    found = fetch(web, actions_api.list_actions, paging=paging, lead_agency_id=None, state=state or None,
                  deadline_status="overdue" if overdue else None)
    lead_ids = {a.lead_agency_id for a in found["items"] if a.lead_agency_id}
    agencies = dict(web.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(lead_ids))).all()) if lead_ids else {}
    rows = [[{"href": f"/actions/{a.id}", "text": a.action[:120]}, a.reference, agencies.get(a.lead_agency_id, "None"), long_date(a.target_date), humanise(a.state),
             {"tag": rag(a.deadline)[1], "colour": rag(a.deadline)[0]} if a.deadline else ""] for a in found["items"]]
    caption = "Every action you can see, soonest due first"
    if found["total"] > ACTIONS_PER_PAGE and rows:
        caption += f", showing {paging.offset + 1} to {paging.offset + len(rows)} of {found['total']}"
    # The filters ride along on every page link, so page 2 is page 2 of the same list.
    filters = {name: value for name, value in (("state", state), ("overdue", "true" if overdue else None)) if value}
    return render(web, "part.html", title="Actions", caption=caption, blocks=[
        _action_filters(state, overdue),
        {"type": "table", "head": ["Action", "Review", "Lead agency", "Target date", "State", "Deadline"], "rows": rows,
         "empty": "There is no page with that number." if found["total"] else "There are no actions to show."},
        {"type": "pagination", "params": pagination("/actions", page, found["total"], ACTIONS_PER_PAGE, filters)}])


@router.get("/actions/{action_id}")
def action_page(web: SignedIn, action_id: str) -> Response:
    row, review, roles = _action(web, action_id)
    action = fetch(web, actions_api.get_action, action_id=action_id)
    standing = engine.event_standing(web.session, subject=row, review=review, actor=web.user, roles=roles)
    agencies = dict(agency_choices(web))
    editable = may(roles, "recommendations.write")
    blocks = [
        {"type": "summary", "rows": [
            ("Recommendation", action.recommendation_number), ("Action", {"paragraphs": action.action}), ("Lead agency", agencies.get(action.lead_agency_id, "None")),
            ("Target date", long_date(action.target_date)), ("How completion is measured", {"paragraphs": action.outcome_measure}),
            ("Milestones", {"paragraphs": action.milestones}), ("State", humanise(action.state)),
            ("Completed", long_date(action.completed_on)), ("Outcome", {"paragraphs": action.outcome or ""}),
            ("Deadline", {"tag": rag(action.deadline)[1], "colour": rag(action.deadline)[0]} if action.deadline else "No target date"),
        ]},
        {"type": "heading", "text": "What you can do now"},
        {"type": "events", "standing": standing, "base": f"/actions/{action_id}"},
        {"type": "links", "items": [("Edit the action", f"/actions/{action_id}/edit")] if editable else [], "secondary": True},
    ]
    back = f"/reviews/{review.id}/recommendations" if may(roles, "recommendations.read") else "/actions"
    return render(web, "part.html", title="Action", caption=review.reference, blocks=blocks, back={"text": "Back", "href": back})


def _action_subject(web: Web, action_id: str) -> events.Subject:
    row, review, roles = _action(web, action_id)
    return events.Subject(row=row, review=review, roles=roles, fire=actions_api.fire_action_event, model=ActionEventIn,
                          path_args={"action_id": action_id}, page=f"/actions/{action_id}", caption=review.reference)


@router.get("/actions/{action_id}/events/{event}")
def action_event_form(web: SignedIn, action_id: str, event: str) -> Response:
    return events.show(web, _action_subject(web, action_id), event)


@router.post("/actions/{action_id}/events/{event}")
def action_event(web: SignedIn, form: Posted, action_id: str, event: str) -> Response:
    return events.submit(web, _action_subject(web, action_id), event, form, web.user)


@router.get("/actions/{action_id}/edit")
def action_edit_form(web: SignedIn, action_id: str) -> Response:
    _row, review, roles = _action(web, action_id)
    if not may(roles, "recommendations.write"):
        raise Refused(404, "")
    action = fetch(web, actions_api.get_action, action_id=action_id)
    return form_page(web, title="Edit the action", caption=review.reference, specs=action_fields(web, action, ActionPatch), submit="Save the action",
                     back=f"/actions/{action_id}", version=action.version, guidance="8.17")


@router.post("/actions/{action_id}/edit")
def save_action(web: SignedIn, form: Posted, action_id: str) -> Response:
    _row, review, roles = _action(web, action_id)
    if not may(roles, "recommendations.write"):
        raise Refused(404, "")
    return forms_flow.submit(web, form, fn=actions_api.edit_action, model=ActionPatch, specs=action_fields(web, None, ActionPatch), title="Edit the action",
                                   caption=review.reference, submit_text="Save the action", back=f"/actions/{action_id}", done=f"/actions/{action_id}",
                                   message="The action is saved.", editing=True, action_id=action_id)
