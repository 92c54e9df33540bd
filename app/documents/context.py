"""What a document prints: the review's data as plain strings, lists and dicts for docxtpl.

`load_facts` reads a review in a fixed number of queries; `build_context` shapes it for one kind
and variant. A publication variant (guidance 9.2) has every string passed through `pseudonymise`,
prints no staff names and nothing of an IMR but the combined chronology the overview quotes.
The names here are the templates' interface: docx_templates/README.md lists them, and a
partnership's own template may use only these (see app/documents/templates.py).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from app.actions.models import Action
from app.auth.models import User
from app.core import clock
from app.documents.anonymisation import matchers_for, pseudonymise
from app.imrs.models import ChronologyEntry, Imr
from app.overview.models import OVERVIEW_SECTIONS, Overview, Recommendation
from app.panel.models import PanelMember
from app.partnerships.models import Agency, Csp
from app.people.models import Person
from app.reviews.models import Review
from app.submissions.models import Submission
from app.terms.models import TermsOfReference
from app.terms.service import latest_terms

MARKING = "OFFICIAL-SENSITIVE"
TITLES = {
    "imr": "Individual Management Review",
    "overview_report": "Overview Report",
    "executive_summary": "Executive Summary",
    "action_plan": "Action Plan",
    "decision_letter": "Decision to hold a Domestic Homicide Review",
    "imr_commission_letter": "Request for an Individual Management Review",
    "home_office_cover_letter": "Submission to the Home Office Quality Assurance Panel",
}
# What a package to the Home Office encloses besides the cover letter (8.18-8.19); never an IMR (9.1).
PACKAGE_REPORTS = ("overview_report", "executive_summary", "action_plan")
SUBMISSION_STATES = ("csp_signoff", "revising")  # a cover letter made now is for the next submission
HOME_OFFICE_ADDRESS = ["Domestic Homicide Review Team", "Home Office", "2 Marsham Street", "London SW1P 4DF"]
# The overview quotes an agency's chronology once its senior manager has quality-assured it (8.8).
QUOTED_IMR_STATES = ("submitted", "accepted")
FINAL_IMR_STATES = ("submitted", "accepted")
ROLE_LABELS = {
    "csp_chair": "Chair, Community Safety Partnership",
    "csp_coordinator": "Community Safety Partnership coordinator",
    "panel_chair": "Independent chair, Domestic Homicide Review panel",
    "panel_member": "Member, Domestic Homicide Review panel",
    "agency_manager": "Senior manager",
    "imr_author": "IMR author",
}
DECISION_LABELS = {
    "review": "A Domestic Homicide Review will be held",
    "not_review": "A Domestic Homicide Review will not be held",
}
# Characters XML 1.0 forbids; a pasted control character would otherwise corrupt the .docx.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class Facts:
    """Everything any document may print about one review."""

    review: Any
    csp: Any
    people: list = field(default_factory=list)
    panel: list = field(default_factory=list)  # (PanelMember, user name, agency name)
    imrs: list = field(default_factory=list)  # (Imr, Agency)
    chronology: list = field(default_factory=list)  # (ChronologyEntry, Imr, Agency), in date order
    terms: Any = None
    overview: Any = None
    recommendations: list = field(default_factory=list)
    actions: list = field(default_factory=list)
    agencies: dict = field(default_factory=dict)  # id -> Agency
    deadlines: list = field(default_factory=list)
    submissions: list = field(default_factory=list)  # to the Home Office, in order


def load_facts(session: Session, review: Review) -> Facts:
    # The agencies this review names (its IMRs', panel's and actions'), not every agency in the country.
    named = union(select(Imr.agency_id).where(Imr.review_id == review.id),
                  select(PanelMember.agency_id).where(PanelMember.review_id == review.id, PanelMember.agency_id.is_not(None)),
                  select(Action.lead_agency_id).where(Action.review_id == review.id, Action.lead_agency_id.is_not(None)))
    agencies = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(named)))}
    imrs = session.scalars(select(Imr).where(Imr.review_id == review.id).order_by(Imr.commissioned_on, Imr.id)).all()
    imr_by_id = {imr.id: imr for imr in imrs}
    entries = session.scalars(
        select(ChronologyEntry).where(ChronologyEntry.review_id == review.id).order_by(ChronologyEntry.occurred_on, ChronologyEntry.created_at)
    ).all()
    panel = session.execute(
        select(PanelMember, User.name).join(User, User.id == PanelMember.user_id).where(PanelMember.review_id == review.id).order_by(PanelMember.created_at)
    ).all()
    return Facts(
        review=review,
        csp=session.get(Csp, review.csp_id),
        people=list(session.scalars(select(Person).where(Person.review_id == review.id).order_by(Person.created_at))),
        panel=[(member, name, agencies[member.agency_id].name if member.agency_id in agencies else "") for member, name in panel],
        imrs=[(imr, agencies[imr.agency_id]) for imr in imrs],
        chronology=[(e, imr_by_id[e.imr_id], agencies[imr_by_id[e.imr_id].agency_id]) for e in entries],
        terms=latest_terms(session, review.id),
        overview=session.get(Overview, review.id),
        recommendations=list(session.scalars(select(Recommendation).where(Recommendation.review_id == review.id).order_by(Recommendation.number))),
        actions=list(session.scalars(select(Action).where(Action.review_id == review.id).order_by(Action.created_at, Action.id))),
        agencies=agencies,
        deadlines=list(review.deadlines),
        submissions=list(session.scalars(select(Submission).where(Submission.review_id == review.id).order_by(Submission.number))),
    )


def long_date(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else ""


def clean(text: Any) -> str:
    return _XML_ILLEGAL.sub("", str(text)) if text is not None else ""


def paragraphs(text: str | None) -> list[str]:
    """One Word paragraph per line the author wrote."""
    return [clean(line.strip()) for line in (text or "").splitlines() if line.strip()]


def label(value: str | None) -> str:
    return (value or "").replace("_", " ").capitalize()


def yes_no(value: bool | None) -> str:
    return "Not recorded" if value is None else ("Yes" if value else "No")


def names_joined(names: list[str]) -> str:
    """"A", "A and B", "A, B and C"."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _chronology_row(entry: ChronologyEntry, agency: str | None = None) -> dict:
    row = {
        "date": long_date(entry.occurred_on),
        "description": clean(entry.description),
        "seen": clean(", ".join(entry.seen or [])),
        "views_expressed": clean(entry.views_expressed),
        "staff": clean(entry.staff),
        "interviewed": "Yes" if entry.interviewed else "No",
    }
    if agency is not None:
        row["agency"] = clean(agency)
    return row


def _panel(facts: Facts) -> dict:
    chair = next(((m, name, agency) for m, name, agency in facts.panel if m.role == "chair"), None)
    return {
        "chair": {
            "name": clean(chair[1]) if chair else "",
            "agency": clean(chair[2]) if chair else "",
            "independence_statement": paragraphs(chair[0].independence_statement) if chair else [],
        },
        # The other members: the chair is `chair` above, and a template printing both would list the chair twice.
        "members": [
            {"name": clean(name), "agency": clean(agency), "role": "Member"}
            for m, name, agency in facts.panel if m.role != "chair"
        ],
    }


def _agencies(facts: Facts) -> dict:
    def contact(imr: Imr) -> str:
        # An agency has reported contact once its senior manager has signed its IMR off (8.8).
        return "No" if imr.state == "no_involvement" else "Yes" if imr.state in QUOTED_IMR_STATES else "Not yet reported"

    participating = [{"name": clean(a.name), "kind": label(a.kind), "contact": contact(imr)} for imr, a in facts.imrs]
    groups = {answer: [{"name": p["name"]} for p in participating if p["contact"] == answer] for answer in ("Yes", "No", "Not yet reported")}
    return {
        "participating": participating,
        "with_contact": groups["Yes"],
        "no_contact": groups["No"],
        "awaiting": groups["Not yet reported"],
        "total": str(len(participating)),
        "with_contact_count": str(len(groups["Yes"])),
        "no_contact_count": str(len(groups["No"])),
        "awaiting_count": str(len(groups["Not yet reported"])),
    }


def _timescales(facts: Facts) -> dict:
    review = facts.review
    overview = next((d for d in facts.deadlines if d.kind == "overview_report"), None)
    extensions = [
        {
            "deadline": label(deadline.kind),
            "original_due_on": long_date(ext.previous_due_on),
            "new_due_on": long_date(ext.new_due_on),
            "reason": clean(ext.reason),
        }
        for deadline in facts.deadlines
        if not deadline.subject_id
        for ext in deadline.extensions
    ]
    return {
        "began_on": long_date(review.decided_on),
        "concluded_on": long_date(review.overview_approved_on),  # the template says nothing until then
        "overview_due_on": long_date(overview.due_on) if overview else "",
        "extensions": extensions,
    }


def _terms(terms: TermsOfReference | None) -> dict:
    if terms is None:
        return {"period_from": "", "period_to": "", "key_lines_of_enquiry": [], "coercive_control": "No", "equality_and_diversity": "No",
                "suicide": "No", "parallel_processes": [], "family_involvement": [], "text": []}
    return {
        "period_from": long_date(terms.period_from),
        "period_to": long_date(terms.period_to),
        "key_lines_of_enquiry": [clean(line) for line in terms.key_lines_of_enquiry or []],
        "coercive_control": yes_no(terms.coercive_control),
        "equality_and_diversity": yes_no(terms.equality_and_diversity),
        "suicide": yes_no(terms.suicide),
        "parallel_processes": paragraphs(terms.parallel_processes),
        "family_involvement": paragraphs(terms.family_involvement),
        "text": paragraphs(terms.text),
    }


def _recommendation_source(rec: Recommendation, facts: Facts) -> str:
    for imr, agency in facts.imrs:
        if imr.id == rec.imr_id:
            return f"{agency.name} IMR"
    return "Overview Report"


def _action_plan(facts: Facts) -> list[dict]:
    """The consolidated plan (8.16, Appendix 5): one row per action, every recommendation present."""
    rows = []
    for rec in facts.recommendations:
        first = {"recommendation": clean(f"{rec.number}. {rec.text}"), "scope": label(rec.scope)}
        actions = [a for a in facts.actions if a.recommendation_id == rec.id]
        if not actions:
            rows.append({**first, "action": "No action agreed yet", "lead_agency": "", "milestones": "", "target_date": "", "completion": ""})
        for action in actions:
            lead = facts.agencies.get(action.lead_agency_id)
            completion = f"{long_date(action.completed_on)}: {action.outcome or ''}".strip(": ") if action.completed_on else ""
            rows.append({
                **first,
                "action": clean(action.action),
                "lead_agency": clean(lead.name) if lead else "",
                "milestones": clean(action.milestones),
                "target_date": long_date(action.target_date),
                "completion": clean(completion),
            })
    return rows


def _review(facts: Facts, perpetrator_names: str) -> dict:
    review = facts.review
    if review.criminal_proceedings_open:
        proceedings = f"{perpetrator_names or 'The suspect'} is awaiting the conclusion of criminal proceedings."
    else:
        proceedings = "Criminal proceedings have been completed, or none are outstanding."
    return {
        "reference": review.reference,
        "area": clean(facts.csp.name),
        "date_of_death": long_date(review.date_of_death),
        "notified_on": long_date(review.notified_on),
        "notified_by": clean(review.notified_by),
        "decided_on": long_date(review.decided_on),
        "decision_label": DECISION_LABELS.get(review.decision or "", "No decision has been recorded yet"),
        "decision_rationale": paragraphs(review.decision_rationale),
        "child_review_considered": yes_no(review.child_review_considered),
        "home_office_notified_on": long_date(review.home_office_notified_on),
        "terms_agreed_on": long_date(review.terms_agreed_on),
        "overview_approved_on": long_date(review.overview_approved_on),
        "signed_off_on": long_date(review.signed_off_on),
        "death_type": label(review.death_type),
        "relationship": label(review.relationship),
        "victim_age": str(review.victim_age),
        "criminal_proceedings": proceedings,
        "summary": paragraphs(review.summary),
    }


def _imr(facts: Facts, imr: Imr, agency: Agency) -> dict:
    entries = [e for e, owner, _a in facts.chronology if owner.id == imr.id]
    staff: dict[str, bool] = {}
    for entry in entries:
        for name in re.split(r"[;,\n]", entry.staff or ""):
            if name.strip():
                staff[name.strip()] = staff.get(name.strip(), False) or entry.interviewed
    return {
        "agency": clean(agency.name),
        "state": label(imr.state),
        "final": imr.state in FINAL_IMR_STATES,
        "commissioned_on": long_date(imr.commissioned_on),
        "due_on": long_date(imr.due_on),
        "author_name": clean(imr.author_name),
        "author_role": clean(imr.author_role),
        "independence": "Confirmed" if imr.independence_confirmed else "Not yet confirmed",
        **{name: paragraphs(getattr(imr, name)) for name in ("methodology", "parallel_processes", "analysis", "effective_practice", "lessons")},
        "chronology": [_chronology_row(e) for e in entries],
        "recommendations": [
            {"number": str(r.number), "text": clean(r.text), "scope": label(r.scope)} for r in facts.recommendations if r.imr_id == imr.id
        ],
        "staff": [{"name": clean(name), "interviewed": "Yes" if seen else "No"} for name, seen in staff.items()],
    }


def _submission(facts: Facts) -> dict:
    """The submission a cover letter is for: the next one while the CSP prepares it, else the latest."""
    review, done = facts.review, facts.submissions
    if review.state in SUBMISSION_STATES or not done:
        number, feedback, what_changed, edits = len(done) + 1, review.qa_feedback if done else None, None, []
    else:
        latest = done[-1]
        number, feedback, what_changed, edits = latest.number, latest.answers_feedback, latest.what_changed, latest.edits or []
    previous = next((s for s in done if s.number == number - 1), None)
    return {
        "number": str(number),
        "is_resubmission": number > 1,
        "label": "Resubmission" if number > 1 else "Submission",
        "previous_submitted_on": long_date(previous.submitted_on) if previous else "",
        "feedback": paragraphs(feedback),
        "what_changed": paragraphs(what_changed),
        "edits": [
            clean(f"{e['part']}" + (f" ({', '.join(e['fields'])})" if e["fields"] else "") + f", last edited {long_date(dt.date.fromisoformat(e['last_on']))}")
            for e in edits
        ],
        "enclosures": [{"title": TITLES[kind]} for kind in PACKAGE_REPORTS],
    }


def build_context(
    facts: Facts,
    kind: str,
    variant: str,
    *,
    imr_id: str | None = None,
    version: int = 1,
    signatory: tuple[str, str] = ("", ""),
) -> dict:
    """The context for one document. `signatory` is (name, role) of the person generating it."""
    people = facts.people
    perpetrators = [{"name": clean(p.name), "relationship": clean(p.relationship)} for p in people if p.role == "perpetrator"]
    perpetrator_names = names_joined([p["name"] for p in perpetrators])
    victim = next((p for p in people if p.role == "victim"), None)
    overview = facts.overview
    quoted = [(e, a) for e, imr, a in facts.chronology if imr.state in QUOTED_IMR_STATES]
    context: dict[str, Any] = {
        "document": {
            "title": TITLES[kind],
            "kind": kind,
            "variant": variant,
            "marking": MARKING if variant == "restricted" else "",
            "version": version,
            "generated_on": long_date(clock.today()),
        },
        "partnership": {"name": clean(facts.csp.name), "code": facts.csp.code, "region": clean(facts.csp.region)},
        "review": _review(facts, perpetrator_names),
        "victim": {"name": clean(victim.name) if victim else f"the victim in review {facts.review.reference}"},
        "perpetrators": perpetrators,
        "perpetrator_names": perpetrator_names,
        "panel": _panel(facts),
        "agencies": _agencies(facts),
        "timescales": _timescales(facts),
        "dissemination": [clean(r) for r in (overview.dissemination if overview else []) or []],
        "terms": _terms(facts.terms),
        "overview": {name: paragraphs(getattr(overview, name) if overview else "") for name in OVERVIEW_SECTIONS},
        "chronology": [_chronology_row(e, a.name) for e, a in quoted],
        "recommendations": [
            {"number": str(r.number), "text": clean(r.text), "scope": label(r.scope), "source": clean(_recommendation_source(r, facts))}
            for r in facts.recommendations
        ],
        "action_plan": _action_plan(facts),
    }
    if kind in ("imr", "imr_commission_letter"):
        imr, agency = next((imr, a) for imr, a in facts.imrs if imr.id == imr_id)
        context["imr"] = _imr(facts, imr, agency)
        context["people"] = [
            {
                "role": label(p.role),
                "name": clean(p.name),
                "date_of_birth": long_date(p.date_of_birth),
                "relationship": clean(p.relationship),
                "ethnicity": clean(p.ethnicity),
                "address": clean(p.address),
            }
            for p in people
        ]
    if kind == "home_office_cover_letter":
        context["submission"] = _submission(facts)
    if kind in ("decision_letter", "imr_commission_letter", "home_office_cover_letter"):
        if kind in ("decision_letter", "home_office_cover_letter"):
            to_lines = HOME_OFFICE_ADDRESS
        else:
            agency = context["imr"]["agency"]
            to_lines = ["The Senior Manager responsible for safeguarding", agency]
        context["letter"] = {
            "date": long_date(clock.today()),
            "to_lines": list(to_lines),
            "signatory_name": clean(signatory[0]),
            "signatory_role": clean(signatory[1]),
        }
    if variant == "publication":
        for row in context["chronology"]:
            row["staff"] = ""  # staff are named in the restricted version only
        context = _pseudonymised(context, matchers_for(people))
    return context


def _pseudonymised(value: Any, matchers: list) -> Any:
    if isinstance(value, str):
        return pseudonymise(value, matchers)
    if isinstance(value, list):
        return [_pseudonymised(v, matchers) for v in value]
    if isinstance(value, dict):
        return {k: _pseudonymised(v, matchers) for k, v in value.items()}
    return value


def signatory_for(user: User, roles: set[str]) -> tuple[str, str]:
    for role in ROLE_LABELS:
        if role in roles:
            return user.name, ROLE_LABELS[role]
    return user.name, ""
