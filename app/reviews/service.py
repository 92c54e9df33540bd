"""Reviews: recording a notification, finding what a person may see, shaping the reply."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from app.auth.access import Principal, is_agency_only, may, review_visibility, roles_on_review
from app.core import clock
from app.core.api import Paging, count_rows
from app.core.errors import Forbidden, Invalid, NotFound
from app.deadlines.models import Deadline, DeadlineExtension
from app.deadlines.rules import status_of, status_on
from app.partnerships.models import Csp, ReferenceCounter
from app.reviews.models import Review
from app.reviews.schemas import DeadlineOut, ReviewIn, ReviewOut
from app.workflow import engine
from app.workflow.registry import get_registry

DEFAULT_WORKFLOW = "dhr-2011"


def visible_review(session: Session, principal: Principal, review_id: str, capability: str = "review.read") -> tuple[Review, set[str]]:
    """The review and the caller's roles on it; 404 when it is absent or not theirs to see."""
    review = engine.load_review(session, review_id)
    if review is None:
        raise NotFound("The review")
    roles = roles_on_review(session, principal, review)
    if not may(roles, capability):
        raise NotFound("The review" if not roles else "That part of the review")
    return review, roles


def require(roles: set[str], capability: str, message: str) -> None:
    if not may(roles, capability):
        raise Forbidden(message)


def next_reference(session: Session, csp: Csp, year: int) -> str:
    counter = session.scalars(
        select(ReferenceCounter).where(ReferenceCounter.csp_id == csp.id, ReferenceCounter.year == year)
    ).one_or_none()
    if counter is None:
        session.add(ReferenceCounter(csp_id=csp.id, year=year, last=0))
        session.flush()
    number = session.scalar(
        update(ReferenceCounter)
        .where(ReferenceCounter.csp_id == csp.id, ReferenceCounter.year == year)
        .values(last=ReferenceCounter.last + 1)
        .returning(ReferenceCounter.last)
    )
    return f"DHR-{year}-{csp.code}-{number:03d}"


def create_review(session: Session, *, body: ReviewIn, principal: Principal) -> Review:
    csp = session.get(Csp, body.csp_id)
    if csp is None:
        raise Invalid("csp_id: there is no partnership with that id. List them at GET /api/v1/csps.")
    if not principal.csp_roles.get(csp.id, set()) & {"csp_coordinator", "csp_chair"}:
        raise Forbidden("Only the partnership's CSP coordinator or chair may record a notification for it.")
    today = clock.today()
    problems = []
    if body.notified_on > today:
        problems.append("notified_on: is in the future")
    if body.date_of_death > body.notified_on:
        problems.append("date_of_death: is after the date the CSP was notified")
    if problems:
        raise Invalid("The notification is not valid: " + "; ".join(problems) + ". Correct it and send it again.", errors=problems)
    definition = get_registry().latest(DEFAULT_WORKFLOW)
    review = Review(
        reference=next_reference(session, csp, body.notified_on.year),
        csp_id=csp.id,
        state=definition.initial.state,
        workflow_name=definition.name,
        workflow_version=definition.version,
        **body.model_dump(exclude={"csp_id"}),
    )
    engine.start(
        session, subject=review, review=review, actor=principal, definition=definition,
        on=body.notified_on, event="record_notification",
        data={"notified_by": body.notified_by, "csp": csp.code},
    )
    return review


def deadline_out(deadline: Deadline, today: dt.date, titles: dict[str, str], reference: str | None = None) -> DeadlineOut:
    return DeadlineOut(
        id=deadline.id,
        review_id=deadline.review_id,
        reference=reference,
        kind=deadline.kind,
        title=titles.get(deadline.kind, deadline.kind),
        subject_id=deadline.subject_id or None,
        starts_on=deadline.starts_on,
        due_on=deadline.due_on,
        original_due_on=deadline.original_due_on,
        met_on=deadline.met_on,
        waived_reason=deadline.waived_reason,
        status=status_of(deadline, today),
        days_left=(deadline.due_on - today).days,
        extensions=deadline.extensions,
    )


def deadline_titles(review: Review) -> dict[str, str]:
    definition = engine.review_definition(review)
    return {kind: rule.title for kind, rule in definition.deadlines.items()}


def agency_subjects(session: Session, principal: Principal, review_ids: list[str]) -> set[str]:
    """The IMRs and actions of these reviews that are the principal's agency's, in two queries whatever their number."""
    from app.actions.models import Action
    from app.imrs.models import Imr

    if not review_ids:
        return set()
    mine = set(session.scalars(select(Imr.id).where(Imr.review_id.in_(review_ids), Imr.agency_id.in_(list(principal.agency_roles)))))
    mine |= set(session.scalars(select(Action.id).where(Action.review_id.in_(review_ids), Action.lead_agency_id.in_(list(principal.agencies_with("agency_manager"))))))
    return mine


def visible_subjects(session: Session, principal: Principal, review: Review, roles: set[str], mine: set[str] | None = None) -> set[str] | None:
    """The IMRs and actions of the review whose deadlines this person may see; None when they see them all."""
    if not is_agency_only(roles):
        return None
    # Agency staff see the deadlines of their own IMRs and actions only (a list passes `mine`, read once for all its reviews).
    return agency_subjects(session, principal, [review.id]) if mine is None else mine


def visible_deadlines(session: Session, principal: Principal, review: Review, roles: set[str], mine: set[str] | None = None) -> list:
    """The review's deadlines this person may see."""
    subjects = visible_subjects(session, principal, review, roles, mine)
    return list(review.deadlines) if subjects is None else [d for d in review.deadlines if d.subject_id in subjects]


# What a listed deadline shows of itself and its extensions, and no more (the sweep's columns and the
# timestamps would each be converted for every one of a page's thousand deadlines).
DEADLINE_COLUMNS = (Deadline.id, Deadline.review_id, Deadline.kind, Deadline.subject_id, Deadline.starts_on, Deadline.due_on,
                    Deadline.original_due_on, Deadline.met_on, Deadline.waived_on, Deadline.waived_reason)
EXTENSION_COLUMNS = (DeadlineExtension.deadline_id, DeadlineExtension.previous_due_on, DeadlineExtension.new_due_on,
                     DeadlineExtension.reason, DeadlineExtension.agreed_on)


def listed_deadlines(session: Session, reviews: list[Review], today: dt.date) -> dict[str, list[dict]]:
    """The deadlines of a page of reviews, each already in the shape of DeadlineOut (as deadline_out
    makes it), in the order Review.deadlines keeps: two statements, and neither ORM objects nor one
    model per deadline to build. A page of fifty reviews has about fifteen hundred deadlines, and
    building them one by one was most of the time of GET /reviews; ReviewOut validates them together."""
    found: dict[str, list[dict]] = {review.id: [] for review in reviews}
    if not reviews:
        return found
    review_ids = list(found)
    titles = {review.id: deadline_titles(review) for review in reviews}
    # Found through the reviews (fifty ids), not the deadlines (a thousand bound parameters to send and parse).
    extensions: dict[str, list] = {}
    for row in session.execute(select(*EXTENSION_COLUMNS).join(Deadline, Deadline.id == DeadlineExtension.deadline_id)
                               .where(Deadline.review_id.in_(review_ids)).order_by(DeadlineExtension.created_at)):
        extensions.setdefault(row.deadline_id, []).append(row)
    rows = session.execute(select(*DEADLINE_COLUMNS).where(Deadline.review_id.in_(review_ids)).order_by(Deadline.due_on))
    for id_, review_id, kind, subject_id, starts_on, due_on, original_due_on, met_on, waived_on, waived_reason in rows:
        found[review_id].append({
            "id": id_, "review_id": review_id, "kind": kind, "title": titles[review_id].get(kind, kind),
            "subject_id": subject_id or None, "starts_on": starts_on, "due_on": due_on, "original_due_on": original_due_on,
            "met_on": met_on, "waived_reason": waived_reason, "status": status_on(waived_on, met_on, due_on, today),
            "days_left": (due_on - today).days, "extensions": extensions.get(id_, ()),
        })
    return found


def review_out(session: Session, review: Review, principal: Principal, roles: set[str], *, with_events: bool = True,
               mine: set[str] | None = None, listed: list[dict] | None = None) -> ReviewOut:
    """The review as the API shows it to this person. A list passes its deadlines as listed_deadlines
    found them (`listed`) and, for agency staff, their IMRs and actions (`mine`)."""
    definition = engine.review_definition(review)
    agency_only = is_agency_only(roles)
    fields = {name: getattr(review, name) for name in ReviewOut.model_fields if name not in ("deadlines", "state_title") and hasattr(review, name)}
    if agency_only:
        # Agency staff need the case's identity and timetable, not the CSP's deliberations.
        for name in ("summary", "decision_rationale", "qa_changes", "qa_feedback", "pend_reason", "withheld_reason"):
            fields[name] = None
    if listed is None:
        today, titles = clock.today(), deadline_titles(review)
        deadlines = [deadline_out(d, today, titles) for d in visible_deadlines(session, principal, review, roles, mine)]
    else:
        # Already titled and dated by listed_deadlines: only who may see them is left to apply.
        subjects = visible_subjects(session, principal, review, roles, mine)
        deadlines = listed if subjects is None else [d for d in listed if d["subject_id"] in subjects]
    fields.update(
        library_flags=library_flags(review),
        workflow=review.workflow_name,
        state_title=definition.state(review.state).title,
        deadlines=deadlines,
        allowed_events=engine.allowed_events(session, subject=review, review=review, actor=principal, roles=roles) if with_events else None,
        your_roles=sorted(roles),
    )
    return ReviewOut(**fields)


def library_flags(review: Review) -> list[str]:
    """The national library's flags: those recorded, plus what the relationship already says."""
    derived = {"intimate_partner": "intimate_partner", "ex_partner": "intimate_partner", "family_member": "familial"}
    flags = set(review.flags or [])
    if review.relationship in derived:
        flags.add(derived[review.relationship])
    return sorted(flags)


# History entries whose data and notes are what an IMR says: shown only to those who may read every IMR.
IMR_CONTENT = ("imr", "chronology_entry")


def history_lines(session: Session, review_id: str, roles: set[str]) -> list:
    """The review's history as its page shows it, oldest first: when, what, by whom and the note, as
    plain rows (not the data, changes and hashes GET /reviews/{id}/events returns, which a review's
    hundred-odd entries would build as objects for every view). Notes of IMR events are hidden as
    the API hides them."""
    from app.audit.models import HistoryEntry

    rows = session.execute(
        select(HistoryEntry.on, HistoryEntry.event, HistoryEntry.entity_type, HistoryEntry.from_state, HistoryEntry.to_state,
               HistoryEntry.actor_name.label("actor"), HistoryEntry.note)
        .where(HistoryEntry.review_id == review_id).order_by(HistoryEntry.seq)
    ).all()
    if may(roles, "imrs.read_all"):
        return list(rows)
    return [SimpleNamespace(**{**row._asdict(), "note": None}) if row.entity_type in IMR_CONTENT else row for row in rows]


# The list's order: the newest notification first, ties by reference so that pages follow on.
LIST_ORDER = (Review.notified_on.desc(), Review.reference)


def listed_reviews(principal: Principal, *, state: str | None, csp_id: str | None, overdue: bool | None, today: dt.date):
    """The reviews GET /reviews lists (and the reviews page shows): those this person may see, filtered."""
    query = select(Review).where(review_visibility(principal))
    if state:
        query = query.where(Review.state == state)
    if csp_id:
        query = query.where(Review.csp_id == csp_id)
    if overdue is not None:
        clause = overdue_clause(today)
        query = query.where(clause if overdue else ~clause)
    return query


def listed_page(session: Session, principal: Principal, paging: Paging, *, state: str | None, csp_id: str | None,
                overdue: bool | None, today: dt.date, options: tuple = ()) -> tuple[list[Review], int]:
    """One page of listed_reviews in the list's order, loaded with `options`, and how many there are in all."""
    query = listed_reviews(principal, state=state, csp_id=csp_id, overdue=overdue, today=today)
    total = count_rows(session, query)
    reviews = session.scalars(query.options(*options).order_by(*LIST_ORDER).limit(paging.limit).offset(paging.offset)).all()
    return list(reviews), total


def overdue_clause(today: dt.date):
    return exists(
        select(Deadline.id).where(
            Deadline.review_id == Review.id,
            Deadline.is_open,
            Deadline.due_on < today,
        )
    )
