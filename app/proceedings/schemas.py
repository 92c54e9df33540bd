from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.proceedings.models import PROCEEDING_KINDS, PROCEEDING_STATUSES

ProceedingKind = Literal[PROCEEDING_KINDS]
ProceedingStatus = Literal[PROCEEDING_STATUSES]


class ProceedingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ProceedingKind = Field(description="criminal_trial, inquest, or other_review (a SAR, a child safeguarding review, an IOPC investigation...)")
    description: str = Field(min_length=1, max_length=2000, description="What it is, e.g. 'Trial at the Crown Court'. No names.")
    status: ProceedingStatus = "open"
    expected_end_on: dt.date | None = None
    concluded_on: dt.date | None = None
    outcome: str | None = Field(default=None, max_length=5000)


class ProceedingPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str | None = Field(default=None, min_length=1, max_length=2000)
    status: ProceedingStatus | None = None
    expected_end_on: dt.date | None = None
    concluded_on: dt.date | None = None
    outcome: str | None = Field(default=None, max_length=5000)

    @field_validator("description", "status")
    @classmethod
    def _not_emptied(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("cannot be emptied; leave it out to keep it as it is")
        return value


class ProceedingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    review_id: str
    kind: str
    description: str
    status: str
    expected_end_on: dt.date | None
    concluded_on: dt.date | None
    outcome: str | None
    holds_publication: bool = Field(description="true for an open criminal trial (guidance 9.2)")
