"""What each email says. Only the review's reference, partnership, stage, deadline and a link:
never a name, a date of birth, an address or any text a person typed about the case.

A message is built once as Content, then rendered for each recipient with the reason they receive it.
Event messages are named in the workflow YAML (`notify: {message: ..., to: [...]}`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import jinja2
import markupsafe
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.notifications.recipients import ROLE_NAMES, Recipient
from app.partnerships.models import Agency, Csp
from app.reviews.models import Review
from app.workflow.definition import DeadlineDef, WorkflowDef

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Content:
    subject: str
    headline: str
    facts: list[tuple[str, str]]
    next_step: str
    link: str


@dataclass
class Mail:
    subject: str
    text: str
    html: str


@dataclass
class ReviewFacts:
    """What every message may say about a review, read once."""

    review: Review
    csp_name: str
    stage: str

    @classmethod
    def of(cls, session: Session, review: Review, definition: WorkflowDef) -> "ReviewFacts":
        csp = session.get(Csp, review.csp_id)
        return cls.named(review, definition, csp.name if csp else "")

    @classmethod
    def of_many(cls, session: Session, reviews: list[tuple[Review, WorkflowDef]]) -> dict[str, "ReviewFacts"]:
        """Each review's facts (by review id), their partnerships' names read in one query."""
        names = dict(session.execute(select(Csp.id, Csp.name).where(Csp.id.in_({r.csp_id for r, _ in reviews}))).all())
        return {review.id: cls.named(review, definition, names.get(review.csp_id, "")) for review, definition in reviews}

    @classmethod
    def named(cls, review: Review, definition: WorkflowDef, csp_name: str) -> "ReviewFacts":
        return cls(review=review, csp_name=csp_name, stage=definition.state(review.state).title or review.state)

    def base(self) -> list[tuple[str, str]]:
        return [("Review", self.review.reference), ("Partnership", self.csp_name), ("Stage", self.stage)]


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def review_url(review_id: str) -> str:
    # The review's page: it asks the person to sign in first, and the link carries only the opaque id.
    return f"{get_settings().base_url.rstrip('/')}/reviews/{review_id}"


def agency_name(session: Session, agency_id: str | None) -> str | None:
    agency = session.get(Agency, agency_id) if agency_id else None
    return agency.name if agency else None


@lru_cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,  # the templates ship with the code: no file check on every email a sweep writes
    )


def render(content: Content, recipient: Recipient) -> Mail:
    why = _why(recipient)
    env = _environment()
    return Mail(
        subject=content.subject,
        text=env.get_template("mail.txt").render(content=content, why=why),
        html=env.get_template("mail.html").render(content=content, why=why),
    )


def _why(recipient: Recipient) -> str:
    return " and the ".join(ROLE_NAMES.get(role, role.replace("_", " ")) for role in recipient.roles)


_WHY = "\x00why\x00"  # stands in for the recipient's reason while a content is rendered once


class Rendered:
    """One content rendered once for all its recipients, each one's reason put in afterwards: the same
    text and HTML as `render` gives (the templates print `why` as it is, escaped in the HTML). Should
    the content itself hold the stand-in, each recipient's mail is rendered in full instead."""

    def __init__(self, content: Content):
        self.content = content
        env = _environment()
        text = env.get_template("mail.txt").render(content=content, why=_WHY)
        html = env.get_template("mail.html").render(content=content, why=_WHY)
        held = [content.subject, content.headline, content.next_step, content.link, *(p for fact in content.facts for p in fact)]
        self._parts = None if any(_WHY in part for part in held) else (text, html)

    def to(self, recipient: Recipient) -> Mail:
        if self._parts is None:
            return render(self.content, recipient)
        why = _why(recipient)
        text, html = self._parts
        html = html.replace(_WHY, str(markupsafe.escape(why)))  # as the template's autoescape would
        return Mail(subject=self.content.subject, text=text.replace(_WHY, why), html=html)


# Deadline alerts -------------------------------------------------------------------------------

def deadline_alert(
    facts: ReviewFacts, *, rule: DeadlineDef, due_on: dt.date, original_due_on: dt.date, today: dt.date,
    agency: str | None,
) -> Content:
    title = rule.title + (f" ({agency})" if agency else "")
    remaining = (due_on - today).days
    if remaining > 0:
        when, headline = f"due in {days(remaining)}", f"{title}: due in {days(remaining)}, on {long_date(due_on)}."
    elif remaining == 0:
        when, headline = "due today", f"{title}: due today, {long_date(due_on)}."
    else:
        when, headline = f"overdue by {days(-remaining)}", f"{title}: overdue by {days(-remaining)} (it was due on {long_date(due_on)})."
    due = long_date(due_on) + (f" (extended from {long_date(original_due_on)})" if original_due_on != due_on else "")
    next_step = (
        f"The statutory guidance (paragraph {rule.guidance}) sets this deadline. "
        + ("If it cannot be met, the CSP chair may agree an extension, with reasons." if remaining >= 0
           else "Please complete it or ask the CSP chair to agree an extension, with reasons.")
    )
    return Content(
        subject=f"{facts.review.reference}: {title} {when}",
        headline=headline,
        facts=facts.base() + [("Deadline", title), ("Due", due), ("Status", when[0].upper() + when[1:])],
        next_step=next_step,
        link=review_url(facts.review.id),
    )


# Key events ------------------------------------------------------------------------------------

EventMessage = Callable[..., Content]
MESSAGES: dict[str, EventMessage] = {}


def message(name: str) -> Callable[[EventMessage], EventMessage]:
    def register(fn: EventMessage) -> EventMessage:
        MESSAGES[name] = fn
        return fn

    return register


def _content(facts: ReviewFacts, subject: str, headline: str, extra: list[tuple[str, str]], next_step: str) -> Content:
    return Content(
        subject=f"{facts.review.reference}: {subject}",
        headline=headline,
        facts=facts.base() + extra,
        next_step=next_step,
        link=review_url(facts.review.id),
    )


@message("review_notified")
def review_notified(facts: ReviewFacts, *, decision_due_on: dt.date | None = None, **_: object) -> Content:
    due = [("Decision due", long_date(decision_due_on))] if decision_due_on else []
    return _content(
        facts,
        "new notification of a death: decision due" + (f" by {long_date(decision_due_on)}" if decision_due_on else ""),
        "The partnership has been notified of a death that may need a Domestic Homicide Review.",
        due,
        "The CSP chair decides whether to hold a review within one month of the notification (guidance 4.4-4.6, 6.2).",
    )


@message("imr_commissioned")
def imr_commissioned(facts: ReviewFacts, *, agency: str | None = None, due_on: dt.date | None = None, **_: object) -> Content:
    return _content(
        facts,
        f"IMR commissioned from {agency}" + (f", due {long_date(due_on)}" if due_on else ""),
        f"The review panel has commissioned an Individual Management Review from {agency}.",
        [("Agency", agency or ""), ("Due", long_date(due_on) if due_on else "")],
        "Name an author who had no involvement in the case, and return the IMR, quality-assured by a "
        "senior manager, by the due date (guidance 8.1-8.8, Appendix 2). The commissioning letter is with the review.",
    )


@message("imr_returned")
def imr_returned(facts: ReviewFacts, *, agency: str | None = None, **_: object) -> Content:
    return _content(
        facts,
        f"IMR from {agency} returned for changes",
        f"The IMR from {agency} has been returned for changes.",
        [("Agency", agency or "")],
        "Sign in to read what must change, then send the IMR for quality assurance again (guidance 8.8-8.9).",
    )


@message("imr_submitted")
def imr_submitted(facts: ReviewFacts, *, agency: str | None = None, **_: object) -> Content:
    return _content(
        facts,
        f"IMR from {agency} sent to the panel",
        f"{agency} has quality-assured its IMR and sent it to the review panel.",
        [("Agency", agency or "")],
        "The panel chair accepts the IMR or returns it with reasons (guidance 8.9).",
    )


@message("review_submitted")
def review_submitted(facts: ReviewFacts, **_: object) -> Content:
    return _content(
        facts,
        "Overview Report submitted for quality assurance",
        "The partnership has submitted its Overview Report, Executive Summary and Action Plan to the Home Office.",
        [],
        "The Home Office Quality Assurance Panel records its outcome (guidance 8.19, 11.1).",
    )


QA_OUTCOMES = {
    "cleared": ("cleared for publication", "The report may now be published (guidance 8.20, 9)."),
    "cleared_subject_to_changes": (
        "cleared subject to changes",
        "Make the changes the panel asks for, then confirm them before publication (guidance 11.1-11.3).",
    ),
    "resubmission_required": (
        "resubmission required",
        "Revise the report as the panel's letter asks and resubmit it (guidance 11.2).",
    ),
}


@message("qa_outcome")
def qa_outcome(facts: ReviewFacts, *, outcome: str = "", **_: object) -> Content:
    phrase, next_step = QA_OUTCOMES[outcome]
    return _content(
        facts,
        f"Home Office QA outcome: {phrase}",
        f"The Home Office Quality Assurance Panel has recorded its outcome: {phrase}.",
        [("Outcome", phrase[0].upper() + phrase[1:])],
        next_step,
    )
