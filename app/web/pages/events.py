"""One form for every workflow event, of a review, an IMR or an action, drawn from the YAML's `data`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from fastapi import Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from app.auth.access import Principal
from app.web.calls import Refused, perform
from app.web.forms import FieldSpec, FormInvalid, attach, from_event_data, read
from app.web.pages.common import Web, form_page, redirect
from app.web.templating import humanise
from app.workflow import engine
from app.workflow.definition import TransitionDef


@dataclass
class Subject:
    """What an event form acts on: the row, its review, the API route that fires its events."""

    row: Any
    review: Any
    roles: set[str]
    fire: Callable
    model: type[BaseModel]
    path_args: dict[str, str]
    page: str  # where to go after
    caption: str
    # Choices for fields the YAML types as text but whose answer is one of the review's things (an id).
    choices: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def transition(subject: Subject, event: str) -> TransitionDef | None:
    candidates = engine.definition_of(subject.row).transitions_for(event, subject.row.state)
    permitted = [t for t in candidates if subject.roles & set(t.roles)]
    return (permitted or candidates or [None])[0]


def event_fields(t: TransitionDef | None, choices: dict[str, list[tuple[str, str]]] | None = None) -> list[FieldSpec]:
    specs = from_event_data(t.data) if t else []
    for spec in specs:
        if choices and spec.name in choices:
            spec.widget, spec.choices = "select", choices[spec.name]
    specs.append(FieldSpec(name="on", label="Date it happened", widget="date", hint="Leave blank for today."))
    specs.append(FieldSpec(name="note", label="Note for the history", widget="textarea"))
    return specs


def standing(web: Web, subject: Subject, event: str) -> list[str]:
    """Why this event cannot be done now (empty when it can); refused outright if the role may never."""
    table = engine.event_standing(web.session, subject=subject.row, review=subject.review, actor=web.user, roles=subject.roles)
    if event not in table:
        raise Refused(404, "")
    return table[event]


def show(web: Web, subject: Subject, event: str) -> Response:
    reasons = standing(web, subject, event)
    t = transition(subject, event)
    return form_page(
        web, title=humanise(event), caption=subject.caption, specs=event_fields(t, subject.choices), submit=humanise(event),
        back=subject.page, guidance=t.guidance if t else None, reasons=reasons,
    )


def submit(web: Web, subject: Subject, event: str, form: FormData, principal: Principal) -> Response:
    standing(web, subject, event)  # a role that may never do this is refused before its data is read
    t = transition(subject, event)
    specs = event_fields(t, subject.choices)
    try:
        values = read(specs, form)
        body = {"event": event, "on": values.pop("on", None), "note": values.pop("note", None) or None, "data": values}
        perform(subject.fire, session=web.session, principal=principal, model=subject.model, values=body, specs=specs, **subject.path_args)
    except FormInvalid as exc:
        return _again(web, subject, event, t, specs, exc.errors, [])
    except Refused as exc:
        if exc.status_code == 404:
            raise
        errors = dict(exc.errors)
        if not errors:
            errors["form"] = f"{humanise(event)} cannot be done now. These must be put right first:" if exc.reasons else exc.message
        return _again(web, subject, event, t, specs, errors, exc.reasons, status_code=exc.status_code)
    return redirect(web, subject.page, f"{humanise(event)}: done.")


def _again(web: Web, subject: Subject, event: str, t, specs, errors: dict[str, str], reasons: list[str], status_code: int = 422) -> Response:
    summary = attach(specs, errors)
    # Each guard that refused is its own line in the error summary, as the issue asks.
    for reason in reasons:
        summary.append({"text": reason, "href": "#main-content"})
    return form_page(
        web, title=humanise(event), caption=subject.caption, specs=specs, submit=humanise(event), back=subject.page,
        guidance=t.guidance if t else None, errors=summary, status_code=status_code,
    )
