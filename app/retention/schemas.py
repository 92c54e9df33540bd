from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

REASON = "Why: the claim, appeal, inquiry or request for which the review must be kept. No names of the people in the review."


class LegalHoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000, description=REASON)


class LegalHoldLiftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000, description="Why the hold is no longer needed, e.g. 'The claim was settled'.")


class LegalHoldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    review_id: str
    reason: str
    placed_on: dt.date
    placed_by_name: str
    active: bool = Field(description="true until lifted: a review with an active hold is never purged")
    lifted_on: dt.date | None
    lifted_by_name: str | None
    lift_reason: str | None


class RetentionOut(BaseModel):
    """The review's retention as it stands: when it may be deleted, and whether a hold keeps it."""
    retention_years: int
    ended_on: dt.date | None = Field(description="concluded_on, or decided_on for a decision not to review; null while the review runs")
    due_on: dt.date | None = Field(description="the first day `dhr purge` may delete it (never while held)")
    held: bool


class LegalHoldPage(BaseModel):
    items: list[LegalHoldOut]
    total: int
    retention: RetentionOut
