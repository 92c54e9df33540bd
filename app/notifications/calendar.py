"""A calendar feed per user (.ics): the open deadlines they are responsible for, as all-day events.

The link carries the user's id and a signature over it and their calendar nonce, so it can be shown
again at any time; resetting the nonce makes every earlier link stop working. A calendar client
re-reads the feed, so an extension moves the event (its UID stays; SEQUENCE counts extensions).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.actions.models import Action
from app.auth.access import Principal, review_visibility, roles_on_reviews
from app.auth.models import AGENCY_ROLES, User
from app.core import clock
from app.core.config import get_settings
from app.core.ids import new_id
from app.deadlines.models import Deadline
from app.deadlines.rules import status_of
from app.imrs.models import Imr
from app.notifications.messages import review_url
from app.partnerships.models import Agency
from app.reviews.models import Review
from app.workflow.engine import review_definition

FEED_PATH = "/api/v1/calendar/{token}.ics"


def _signature(user: User) -> str:
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, f"calendar:{user.id}:{user.calendar_nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def token_for(user: User) -> str:
    return f"{user.id}.{_signature(user)}"


def feed_url(user: User) -> str:
    return get_settings().base_url.rstrip("/") + FEED_PATH.format(token=token_for(user))


def reset(user: User) -> None:
    user.calendar_nonce = new_id()


def user_for_token(session: Session, token: str) -> User | None:
    user_id, _, signature = token.partition(".")
    user = session.get(User, user_id) if user_id and signature else None
    if user is None or not user.is_active:
        return None
    return user if hmac.compare_digest(signature, _signature(user)) else None


@dataclass
class Entry:
    deadline: Deadline
    review: Review
    title: str
    stage: str
    agency: str | None


def responsible_deadlines(session: Session, principal: Principal) -> list[Entry]:
    """Open deadlines whose alert schedule is addressed to a role this person holds for them."""
    rows = session.execute(
        select(Deadline, Review)
        .join(Review, Review.id == Deadline.review_id)
        .where(review_visibility(principal), Deadline.is_open)
        .order_by(Deadline.due_on, Review.reference)
    ).all()
    reviews = {review.id: review for _d, review in rows}
    roles = roles_on_reviews(session, principal, list(reviews.values()))
    subject_ids = [d.subject_id for d, _r in rows if d.subject_id]
    agency_of = dict(session.execute(select(Imr.id, Imr.agency_id).where(Imr.id.in_(subject_ids))).all())
    agency_of |= dict(session.execute(select(Action.id, Action.lead_agency_id).where(Action.id.in_(subject_ids))).all())
    agency_ids = {a for a in agency_of.values() if a}
    agency_names = dict(session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agency_ids))).all())
    entries = []
    for deadline, review in rows:
        definition = review_definition(review)
        rule = definition.deadlines.get(deadline.kind)
        if rule is None or rule.alerts is None:
            continue
        agency_id = agency_of.get(deadline.subject_id)
        held = roles[review.id] - set(AGENCY_ROLES)
        if agency_id:
            held |= principal.agency_roles.get(agency_id, set())
        if held & set(rule.alerts.to):
            entries.append(
                Entry(
                    deadline=deadline, review=review, title=rule.title, stage=definition.state(review.state).title,
                    agency=agency_names.get(agency_id),
                )
            )
    return entries


def feed(session: Session, user: User) -> bytes:
    today = clock.today()
    host = urlsplit(get_settings().base_url).hostname or "localhost"
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Domestic Homicide Review case management//Deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "DHR deadlines")
    calendar.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = clock.wall_now()
    for entry in responsible_deadlines(session, Principal.of(user)):
        deadline = entry.deadline
        title = entry.title + (f" ({entry.agency})" if entry.agency else "")
        overdue = status_of(deadline, today) == "overdue"
        event = icalendar.Event()
        event.add("uid", f"{deadline.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", deadline.due_on)
        event.add("dtend", deadline.due_on + dt.timedelta(days=1))
        event.add("sequence", len(deadline.extensions))
        event.add("summary", f"{entry.review.reference}: {title}" + (" (overdue)" if overdue else ""))
        description = [f"Review: {entry.review.reference}", f"Stage: {entry.stage}", f"Deadline: {title}"]
        if deadline.original_due_on != deadline.due_on:
            description.append(f"Extended from {deadline.original_due_on.isoformat()}")
        description.append(review_url(entry.review.id))
        event.add("description", "\n".join(description))
        event.add("url", review_url(entry.review.id))
        event.add("transp", "TRANSPARENT")
        event.add("class", "CONFIDENTIAL")
        calendar.add_component(event)
    return calendar.to_ical()
