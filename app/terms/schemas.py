from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class TermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period_from: dt.date | None = Field(default=None, description="Start of the period the review covers (5.11)")
    period_to: dt.date | None = None
    key_lines_of_enquiry: list[str] = Field(default_factory=list, max_length=100)
    coercive_control: bool = Field(default=False, description="The terms address coercive control")
    equality_and_diversity: bool = Field(default=False, description="The terms address equality and diversity")
    suicide: bool = Field(default=False, description="The terms address suicide (where relevant)")
    parallel_processes: str = Field(default="", max_length=20000)
    family_involvement: str = Field(default="", max_length=20000)
    text: str = Field(default="", max_length=200000)


class TermsOut(TermsIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")
    id: str
    review_id: str
    version: int
    versions: int
    created_at: dt.datetime
