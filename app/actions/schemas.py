from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from app.reviews.schemas import DeadlineOut


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(min_length=1, max_length=20000)
    lead_agency_id: str | None = Field(default=None, max_length=32)
    target_date: dt.date | None = None
    outcome_measure: str = Field(default="", max_length=20000, description="How completion will be measured")
    milestones: str = Field(default="", max_length=20000)


class ActionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str | None = Field(default=None, min_length=1, max_length=20000)
    lead_agency_id: str | None = Field(default=None, max_length=32)
    target_date: dt.date | None = None
    outcome_measure: str | None = Field(default=None, max_length=20000)
    milestones: str | None = Field(default=None, max_length=20000)


class ActionOut(BaseModel):
    id: str
    recommendation_id: str
    recommendation_number: int
    review_id: str
    reference: str
    state: str
    version: int
    action: str
    lead_agency_id: str | None
    target_date: dt.date | None
    outcome_measure: str
    milestones: str
    completed_on: dt.date | None
    outcome: str | None
    deadline: DeadlineOut | None
    allowed_events: list[str] | None


class ActionEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: str = Field(min_length=1, max_length=60)
    on: dt.date | None = None
    data: dict = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=20000)
