"""Recording the parallel proceedings; each change a history row, in the change's transaction."""
from __future__ import annotations

import datetime as dt
from typing import Any

from app.audit import service as audit
from app.auth.models import User
from app.core import clock
from app.core.errors import Conflict, Invalid
from app.proceedings.models import Proceeding
from app.reviews.models import Review

CLOSED_REVIEW_STATES = ("concluded",)


def _require_open_review(review: Review) -> None:
    if review.state in CLOSED_REVIEW_STATES:
        raise Conflict("The review is concluded: its parallel proceedings can no longer change.")


def _check(values: dict[str, Any]) -> None:
    """A concluded proceeding has its date; an open one has none."""
    if values["status"] == "concluded":
        if values.get("concluded_on") is None:
            values["concluded_on"] = clock.today()
        if values["concluded_on"] > clock.today():
            raise Invalid("concluded_on: a proceeding cannot have concluded in the future; give the date it ended.")
    elif values.get("concluded_on") is not None:
        raise Invalid("concluded_on: an open proceeding has not concluded; set status to concluded, or leave the date out.")


def add(session, *, review: Review, values: dict[str, Any], actor: User | None, event: str = "record_proceeding") -> Proceeding:
    _require_open_review(review)
    _check(values)
    proceeding = Proceeding(review_id=review.id, **values)
    review.proceedings.append(proceeding)
    session.flush()
    audit.record(
        session, review=review, entity_type="proceeding", entity_id=proceeding.id, event=event, actor=actor,
        data={k: audit.plain(v) for k, v in values.items()},
    )
    return proceeding


def update(session, *, review: Review, proceeding: Proceeding, values: dict[str, Any], actor: User | None, event: str = "update_proceeding") -> dict:
    _require_open_review(review)
    merged = {name: getattr(proceeding, name) for name in ("status", "concluded_on")} | values
    if values.get("status") == "open" and "concluded_on" not in values:
        merged["concluded_on"] = None  # reopened: the earlier end no longer holds
    _check(merged)
    new_values = {**values, "status": merged["status"], "concluded_on": merged["concluded_on"]}
    changes = audit.diff(proceeding, new_values)
    if changes:
        session.flush()
        audit.record(
            session, review=review, entity_type="proceeding", entity_id=proceeding.id, event=event, actor=actor,
            data={"kind": proceeding.kind}, changes=changes,
        )
    return changes


def record_criminal_status(session, *, review: Review, status: str, on: dt.date) -> list[str]:
    """The record_criminal_proceedings event: opens a criminal trial, or concludes the open ones."""
    if status == "open":
        if review.criminal_proceedings_open:
            return []
        proceeding = Proceeding(review_id=review.id, kind="criminal_trial", description="Criminal proceedings", status="open")
        review.proceedings.append(proceeding)
        session.flush()
        return [proceeding.id]
    closed = []
    for proceeding in review.proceedings:
        if proceeding.holds_publication:
            proceeding.status, proceeding.concluded_on = "concluded", on
            closed.append(proceeding.id)
    return closed
