from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

DeathType = Literal["homicide", "suicide", "other"]
Relationship = Literal["intimate_partner", "ex_partner", "family_member", "household_member", "other"]
DeadlineStatus = Literal["pending", "met", "met_late", "overdue", "waived"]
# The national DHR library's index (cause and location of death, and flags); intimate partner and
# familial follow from the relationship and are added to `library_flags` on the way out.
DeathCause = Literal[
    "stabbing", "strangulation_or_asphyxiation", "blunt_force", "shooting", "fire", "poisoning_or_overdose",
    "neglect", "suicide", "other", "not_known",
]
DeathLocation = Literal["victim_home", "perpetrator_home", "shared_home", "other_home", "public_place", "other", "not_known"]
Flag = Literal["homicide_suicide", "children_present", "coercive_control", "stalking", "separation"]
Theme = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80)]


class ReviewPatch(BaseModel):
    """The review's library facts and learning themes (the rest changes only through events)."""

    model_config = ConfigDict(extra="forbid")
    death_cause: DeathCause | None = None
    death_location: DeathLocation | None = None
    flags: list[Flag] | None = Field(default=None, max_length=len(Flag.__args__))
    themes: list[Theme] | None = Field(default=None, max_length=30, description="Free learning themes, e.g. 'information sharing'")

    @field_validator("flags", "themes")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        seen: dict[str, str] = {}
        for item in value:
            seen.setdefault(item.casefold(), item)
        return sorted(seen.values(), key=str.casefold)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    csp_id: str = Field(max_length=32)
    notified_on: dt.date
    notified_by: str = Field(min_length=1, max_length=200, description="Who notified the CSP, e.g. the police force")
    date_of_death: dt.date
    death_type: DeathType
    relationship: Relationship
    victim_age: int = Field(ge=0, le=130)
    summary: str = Field(default="", max_length=20000)


class ExtensionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    previous_due_on: dt.date
    new_due_on: dt.date
    reason: str
    agreed_on: dt.date


class DeadlineOut(BaseModel):
    id: str
    review_id: str
    reference: str | None = None
    kind: str
    title: str
    subject_id: str | None
    starts_on: dt.date
    due_on: dt.date
    original_due_on: dt.date
    met_on: dt.date | None
    waived_reason: str | None
    status: DeadlineStatus
    days_left: int
    extensions: list[ExtensionOut]


class ReviewOut(BaseModel):
    id: str
    reference: str
    csp_id: str
    state: str
    state_title: str
    workflow: str
    workflow_version: int
    version: int
    notified_on: dt.date
    notified_by: str
    date_of_death: dt.date
    death_type: str
    relationship: str
    victim_age: int
    summary: str | None
    decided_on: dt.date | None
    decision: str | None
    decision_rationale: str | None
    child_review_considered: bool | None
    home_office_notified_on: dt.date | None
    terms_agreed_on: dt.date | None
    overview_approved_on: dt.date | None
    family_shared_on: dt.date | None
    family_response: str | None
    signed_off_on: dt.date | None
    first_submitted_on: dt.date | None
    submitted_on: dt.date | None
    qa_outcome: str | None
    qa_changes: str | None
    qa_feedback: str | None
    cleared_on: dt.date | None
    publication_url: str | None
    published_on: dt.date | None
    withheld_reason: str | None
    concluded_on: dt.date | None
    pended_from: str | None
    pend_reason: str | None
    expected_resume_on: dt.date | None
    criminal_proceedings_open: bool
    death_cause: str | None
    death_location: str | None
    flags: list[str]
    library_flags: list[str] = Field(description="flags plus intimate_partner or familial, from the relationship")
    themes: list[str]
    deadlines: list[DeadlineOut]
    allowed_events: list[str] | None = Field(description="Events you may fire now; null in lists (GET the review)")
    your_roles: list[str]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: str = Field(min_length=1, max_length=60)
    on: dt.date | None = Field(default=None, description="The date it happened (default today)")
    data: dict[str, Any] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=20000)


class HistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    entity_type: str
    entity_id: str
    event: str
    from_state: str | None
    to_state: str | None
    on: dt.date
    at: dt.datetime
    actor: str
    data: dict[str, Any]
    changes: dict[str, Any]
    note: str | None


class WorkflowTransitionOut(BaseModel):
    event: str
    source: list[str]
    to: str | None
    roles: list[str]
    guidance: str
    data: dict[str, Any]
    guards: list[str]
    effects: list[str]


class WorkflowOut(BaseModel):
    name: str
    version: int
    title: str
    states: list[dict[str, Any]]
    transitions: list[WorkflowTransitionOut]
    current: str
    mermaid: str


class CheckOut(BaseModel):
    id: str
    passed: bool
    detail: str
    where: str | None


class ReadinessOut(BaseModel):
    ready: bool
    checks: list[CheckOut]
