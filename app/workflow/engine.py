"""Firing an event: lock, check roles, data and guards, change state, run effects, write history.

All of it happens in the caller's transaction, which commits once; if anything fails nothing is
written. The state machine itself is a short-lived `transitions.Machine` built from the cached
definition around a thin adapter, never one Machine per loaded row.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption
from transitions import Machine, MachineError

from app.audit import service as audit
from app.auth.access import Principal, is_agency_only
from app.core import clock, faults
from app.core.api import is_changing
from app.core.db import is_postgres
from app.core.errors import Conflict, Forbidden, Invalid
from app.reviews.models import Review
from app.workflow import effects as effect_table
from app.workflow import guards as guard_table
from app.workflow.context import EventContext
from app.workflow.definition import PREVIOUS, DataField, TransitionDef, WorkflowDef
from app.workflow.registry import get_registry

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


class _Adapter:
    """The model the state machine moves: only a state and, for `resume`, where it came from."""

    def __init__(self, state: str, previous: str | None):
        self.state = state
        self.previous = previous


def _machine(definition: WorkflowDef, adapter: _Adapter) -> Machine:
    transitions: list[dict[str, Any]] = []
    for t in definition.events:
        if t.to == PREVIOUS:
            for target in definition.previous_targets(t):
                transitions.append(
                    {
                        "trigger": t.name,
                        "source": t.source,
                        "dest": target,
                        "conditions": [lambda _event=None, target=target: adapter.previous == target],
                    }
                )
        else:
            transitions.append({"trigger": t.name, "source": t.source, "dest": t.to})
    return Machine(
        model=adapter,
        states=[s.name for s in definition.states],
        transitions=transitions,
        initial=adapter.state,
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )


def definition_of(subject: Any) -> WorkflowDef:
    return get_registry().get(subject.workflow_name, subject.workflow_version)


def review_definition(review: Review) -> WorkflowDef:
    return get_registry().get(review.workflow_name, review.workflow_version)


def lock_review(session: Session, review_id: str, *options: ORMOption) -> Review | None:
    """Load a review for change. PostgreSQL locks the row so concurrent events queue; SQLite
    transactions already begin IMMEDIATE (core.db). The version column catches anything else.
    `options` change what is loaded with it (a caller that needs none of its collections)."""
    return next(iter(lock_reviews(session, [review_id], *options)), None)


def lock_reviews(session: Session, review_ids: list[str], *options: ORMOption) -> list[Review]:
    """Several reviews for change in one query, locked in the order of their ids, so that two callers
    taking overlapping sets (two sweepers) never each hold one the other waits for. Events lock a single
    review, so they simply wait their turn. Those deleted meanwhile are not there."""
    if not review_ids:
        return []
    query = select(Review).where(Review.id.in_(review_ids)).order_by(Review.id).options(*options)
    if is_postgres(session):
        query = query.with_for_update()
    return list(session.scalars(query.execution_options(populate_existing=True)))


def load_review(session: Session, review_id: str) -> Review | None:
    """The review a request works on. A request that may change something locks it first (on
    PostgreSQL; SQLite's write transactions are serial already), before reading it: changes to one
    review then queue instead of failing on its version with "someone else changed this" when nobody
    touched what they change. Reads never wait."""
    return lock_review(session, review_id) if is_changing(session) else session.get(Review, review_id)


def parse_data(transition: TransitionDef, raw: dict[str, Any] | None) -> dict[str, Any]:
    raw = dict(raw or {})
    errors: list[str] = []
    unknown = sorted(set(raw) - set(transition.data))
    if unknown:
        known = ", ".join(transition.data) or "none"
        errors.append(f"{', '.join(unknown)}: not data of {transition.name} (it takes: {known})")
    parsed: dict[str, Any] = {}
    for name, spec in transition.data.items():
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                errors.append(f"{name}: required ({spec.label or name})")
            continue
        try:
            parsed[name] = _coerce(spec, value)
        except ValueError as exc:
            errors.append(f"{name}: {exc}")
    if errors:
        raise Invalid(
            f"The data for {transition.name} is not valid: " + "; ".join(errors) + ". Correct it and send the event again.",
            errors=errors,
        )
    return parsed


def _coerce(spec: DataField, value: Any) -> Any:
    if spec.type == "text":
        if not isinstance(value, str):
            raise ValueError("must be text")
        return value.strip()
    if spec.type == "lines":
        # A list of items, or text with one item per line (what a form's text area sends).
        items = value.splitlines() if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ValueError("must be a list of texts, or text with one item per line")
        items = [item.strip() for item in items if item.strip()]
        if not items:
            raise ValueError("must hold at least one item")
        return items
    if spec.type == "boolean":
        if isinstance(value, bool):
            return value
        raise ValueError("must be true or false")
    if spec.type == "date":
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        raise ValueError("must be a date written YYYY-MM-DD")
    if spec.type == "choice":
        if value in (spec.choices or []):
            return value
        raise ValueError(f"must be one of {', '.join(spec.choices or [])}")
    if spec.type == "url":
        if isinstance(value, str) and _URL.match(value.strip()):
            return value.strip()
        raise ValueError("must be a web address starting http:// or https://")
    raise ValueError(f"unknown field type {spec.type}")


def evaluate_guards(ctx: EventContext, transition: TransitionDef) -> list[dict[str, str]]:
    failures = []
    for call in transition.guards:
        reason = guard_table.GUARDS[call.name](ctx, call)
        if reason:
            failures.append({"guard": call.label(), "reason": reason})
    return failures


def _context(
    session: Session, subject: Any, review: Review, actor: Principal, roles: set[str], on: dt.date, data, note
) -> EventContext:
    return EventContext(
        session=session,
        definition=definition_of(subject),
        review_definition=review_definition(review),
        subject=subject,
        review=review,
        actor=actor,
        roles=roles,
        on=on,
        data=data,
        note=note,
    )


def event_standing(session: Session, *, subject: Any, review: Review, actor: Principal, roles: set[str]) -> dict[str, list[str]]:
    """Each event this person's roles may fire from the current state, with the reasons it cannot yet
    (an empty list: it may fire now). Data-dependent guards are judged when the data arrives."""
    definition = definition_of(subject)
    standing: dict[str, list[str]] = {}
    for name in definition.event_names():
        for t in definition.transitions_for(name, subject.state):
            if not roles & set(t.roles):
                continue
            ctx = _context(session, subject, review, actor, roles, clock.today(), {}, None)
            ctx.transition, ctx.for_display = t, True
            reasons = [r for g in t.guards if g.name not in guard_table.DATA_GUARDS and (r := guard_table.GUARDS[g.name](ctx, g))]
            if not reasons:
                standing[name] = []
                break
            standing.setdefault(name, reasons)
    return standing


def allowed_events(session: Session, *, subject: Any, review: Review, actor: Principal, roles: set[str]) -> list[str]:
    """The events this person may fire now: roles and guards both applied."""
    return [name for name, reasons in event_standing(session, subject=subject, review=review, actor=actor, roles=roles).items() if not reasons]


def fire(
    session: Session,
    *,
    subject: Any,
    review: Review,
    event: str,
    actor: Principal,
    roles: set[str],
    on: dt.date | None = None,
    data: dict[str, Any] | None = None,
    note: str | None = None,
) -> EventContext:
    definition = definition_of(subject)
    today = clock.today()
    on = on or today
    if on > today:
        raise Invalid(f"The event date {on.isoformat()} is in the future: give today's date or an earlier one.")
    if event not in definition.event_names():
        raise Invalid(
            f"{event!r} is not an event of the {definition.name} workflow. "
            f"Its events are: {', '.join(definition.event_names())}."
        )
    candidates = definition.transitions_for(event, subject.state)
    if not candidates:
        _refuse(session, subject, review, actor, roles, f"{event} is not possible while the {definition.subject} is {subject.state}.", [])
    permitted = [t for t in candidates if roles & set(t.roles)]
    if not permitted:
        needed = sorted({r for t in candidates for r in t.roles})
        # Say what else stands in the way (e.g. no panel chair is appointed yet, so nobody holds the
        # role): the case team can act on it. Agency staff are told the role only.
        blocking: list[dict[str, str]] = []
        if not is_agency_only(roles):
            ctx = _context(session, subject, review, actor, roles, on, {}, note)
            ctx.transition = candidates[0]
            for call in candidates[0].guards:
                reason = None if call.name in guard_table.DATA_GUARDS else guard_table.GUARDS[call.name](ctx, call)
                if reason:
                    blocking.append({"guard": call.label(), "reason": reason})
        raise Forbidden(
            f"Only the {' or '.join(r.replace('_', ' ') for r in needed)} may {event.replace('_', ' ')} here. "
            "Ask the person who holds that role." + "".join(f" {f['reason']}" for f in blocking),
            **({"failed_guards": blocking} if blocking else {}),
        )
    transition = permitted[0]
    parsed = parse_data(transition, data)
    ctx = _context(session, subject, review, actor, roles, on, parsed, note)
    ctx.transition = transition
    failures = evaluate_guards(ctx, transition)
    if failures:
        _refuse(session, subject, review, actor, roles, f"{event} cannot be done yet.", failures)

    from_state = subject.state
    ctx.from_state = from_state
    if transition.changes_state:
        adapter = _Adapter(subject.state, getattr(subject, "pended_from", None))
        machine = _machine(definition, adapter)
        try:
            machine.events[event].trigger(adapter)
        except MachineError as exc:  # the YAML and the machine disagree: a definition fault
            raise Conflict(f"{event} could not move the {definition.subject} from {from_state}: {exc.value}") from exc
        subject.state = adapter.state
    faults.at_commit(session, before="event.before_commit", after="event.after_commit")
    faults.point("event.after_state_change")
    for call in transition.effects:
        effect_table.EFFECTS[call.name](ctx, call)
    faults.point("event.after_effects")
    # Touch the review on every event so that two events racing on one review cannot both commit.
    review.updated_at = clock.now()
    audit.record(
        session,
        review=review,
        entity_type=definition.subject,
        entity_id=subject.id,
        event=event,
        from_state=from_state,
        to_state=subject.state,
        on=on,
        actor=actor.user,
        data=parsed,
        changes=ctx.changes,
        note=note,
    )
    if faults.armed("event.after_history"):
        session.flush()  # the row is in the database's open transaction, not only in memory
        faults.point("event.after_history")
    return ctx


def start(session: Session, *, subject: Any, review: Review, actor: Principal, definition: WorkflowDef, on: dt.date, event: str, data: dict[str, Any]) -> None:
    """Put a new subject in its workflow's initial state and run the initial effects."""
    subject.state = definition.initial.state
    subject.workflow_name = definition.name
    subject.workflow_version = definition.version
    session.add(subject)
    session.flush()
    ctx = _context(session, subject, review, actor, set(), on, data, None)
    for call in definition.initial.effects:
        effect_table.EFFECTS[call.name](ctx, call)
    review.updated_at = clock.now()
    audit.record(
        session,
        review=review,
        entity_type=definition.subject,
        entity_id=subject.id,
        event=event,
        from_state=None,
        to_state=subject.state,
        on=on,
        actor=actor.user,
        data=data,
        changes={},
        note=None,
    )


def _refuse(session, subject, review, actor, roles, message: str, failures: list[dict[str, str]]) -> None:
    allowed = allowed_events(session, subject=subject, review=review, actor=actor, roles=roles)
    reasons = " ".join(f["reason"] for f in failures)
    hint = f" You may now: {', '.join(allowed)}." if allowed else " There is nothing you may do on it now."
    raise Conflict(
        f"{message} {reasons}".strip() + hint,
        state=subject.state,
        allowed_events=allowed,
        failed_guards=failures,
    )
