"""What a guard or effect is given: the subject, its review, who acts, when, and the event's data."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.audit.service import plain
from app.auth.access import Principal
from app.reviews.models import Review
from app.workflow.definition import TransitionDef, WorkflowDef


@dataclass
class EventContext:
    session: Session
    definition: WorkflowDef
    review_definition: WorkflowDef
    subject: Any  # Review, Imr or Action
    review: Review
    actor: Principal
    roles: set[str]
    on: dt.date
    data: dict[str, Any]
    note: str | None = None
    transition: TransitionDef | None = None
    from_state: str | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    # The readiness check's results, when a guard ran it: effects reuse them rather than render again.
    readiness: list | None = None
    # Judged only to show what may be done (event_standing), not to fire: a costly guard may answer
    # from its cache of the unchanged review (app/documents/readiness_cache.py).
    for_display: bool = False

    def set(self, obj: Any, attribute: str, value: Any) -> None:
        """Change a field and remember the change for the history row."""
        old = getattr(obj, attribute)
        if old != value:
            setattr(obj, attribute, value)
            self.changes[attribute] = [plain(old), plain(value)]

    @property
    def subject_kind(self) -> str:
        return self.definition.subject

