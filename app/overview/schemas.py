from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Scope = Literal["local", "regional", "national"]
_SECTION = Field(default=None, max_length=500000)


class OverviewPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    introduction: str | None = _SECTION
    facts: str | None = _SECTION
    analysis: str | None = _SECTION
    equality_and_diversity: str | None = _SECTION
    family_contribution: str | None = _SECTION
    key_issues: str | None = _SECTION
    conclusions: str | None = _SECTION
    lessons: str | None = _SECTION
    dissemination: list[str] | None = Field(default=None, max_length=200, description="Recipients of copies of the report (Appendix 4)")


class OverviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    review_id: str
    version: int
    introduction: str
    facts: str
    analysis: str
    equality_and_diversity: str
    family_contribution: str
    key_issues: str
    conclusions: str
    lessons: str
    dissemination: list[str]
    updated_at: dt.datetime


class RecommendationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=20000)
    scope: Scope
    imr_id: str | None = Field(default=None, max_length=32, description="The IMR it came from, if any")


class ActionBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    state: str
    action: str
    lead_agency_id: str | None
    target_date: dt.date | None


class RecommendationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    review_id: str
    number: int
    text: str
    scope: str
    imr_id: str | None
    actions: list[ActionBrief]
