from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from app.reviews.schemas import DeadlineOut


class ImrCommissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agency_id: str = Field(max_length=32)
    due_on: dt.date | None = Field(default=None, description="Default: eight weeks from commissioning (workflow)")


class ImrPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    author_name: str | None = Field(default=None, max_length=200)
    author_role: str | None = Field(default=None, max_length=200)
    independence_confirmed: bool | None = None
    methodology: str | None = Field(default=None, max_length=200000)
    parallel_processes: str | None = Field(default=None, max_length=200000)
    analysis: str | None = Field(default=None, max_length=500000)
    effective_practice: str | None = Field(default=None, max_length=200000)
    lessons: str | None = Field(default=None, max_length=200000)


class ImrOut(BaseModel):
    id: str
    review_id: str
    reference: str
    agency_id: str
    agency_name: str
    state: str
    version: int
    commissioned_on: dt.date
    due_on: dt.date
    submitted_on: dt.date | None
    accepted_on: dt.date | None
    returned_reason: str | None
    times_returned: int
    author_name: str
    author_role: str
    independence_confirmed: bool
    methodology: str
    parallel_processes: str
    analysis: str
    effective_practice: str
    lessons: str
    deadline: DeadlineOut | None
    allowed_events: list[str] | None


class ImrEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: str = Field(min_length=1, max_length=60)
    on: dt.date | None = None
    data: dict = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=20000)


class ChronologyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    occurred_on: dt.date
    description: str = Field(min_length=1, max_length=50000)
    seen: list[str] = Field(default_factory=list, max_length=50, description="Who was seen")
    views_expressed: str = Field(default="", max_length=50000)
    staff: str = Field(default="", max_length=2000, description="Staff involved")
    interviewed: bool = Field(default=False, description="Whether those staff were interviewed for the IMR")


class ChronologyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    imr_id: str
    review_id: str
    occurred_on: dt.date
    description: str
    seen: list[str]
    views_expressed: str
    staff: str
    interviewed: bool


class CombinedChronologyOut(ChronologyOut):
    agency_id: str
    agency_name: str
