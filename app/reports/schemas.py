from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel

Rag = Literal["red", "amber", "green"]


class CspRef(BaseModel):
    id: str
    code: str
    name: str


class StageCount(BaseModel):
    stage: str
    title: str
    total: int
    red: int
    amber: int
    green: int


class OpenReviewRow(BaseModel):
    id: str
    reference: str
    stage: str
    stage_title: str
    rag: Rag
    overdue: list[str]
    next_due_on: dt.date | None


class OpenReviews(BaseModel):
    total: int
    red: int
    amber: int
    green: int
    by_stage: list[StageCount]
    reviews: list[OpenReviewRow]


class DecisionRow(BaseModel):
    reference: str
    notified_on: dt.date
    decided_on: dt.date
    due_on: dt.date
    within_one_month: bool


class Decisions(BaseModel):
    total: int
    within_one_month: int
    late: int
    reviews: list[DecisionRow]


class OverviewRow(BaseModel):
    reference: str
    decided_on: dt.date | None
    completed_on: dt.date
    original_due_on: dt.date
    extended_due_on: dt.date | None
    result: Literal["within_six_months", "within_extension", "late"]


class OverviewReports(BaseModel):
    total: int
    within_six_months: int
    within_extension: int
    late: int
    reviews: list[OverviewRow]


class Timeliness(BaseModel):
    decisions: Decisions
    overview_reports: OverviewReports


class AgencyActions(BaseModel):
    agency_id: str
    agency: str
    completed: int
    due: int
    overdue: int


class ActionTotals(BaseModel):
    completed: int
    due: int
    overdue: int


class Actions(BaseModel):
    by_lead_agency: list[AgencyActions]
    totals: ActionTotals


class ThemeCount(BaseModel):
    theme: str
    reviews: int
    references: list[str]
    recurring: bool


class QuarterlyReportOut(BaseModel):
    csp: CspRef
    quarter: str
    starts_on: dt.date
    ends_on: dt.date
    as_at: dt.date
    open_reviews: OpenReviews
    timeliness: Timeliness
    actions: Actions
    themes: list[ThemeCount]


class NationalReviewOut(BaseModel):
    id: str
    reference: str
    csp: CspRef
    region: str
    state: str
    state_title: str
    submissions: int
    first_submitted_on: dt.date
    submitted_on: dt.date | None
    days_with_home_office: int | None
    qa_outcome: str | None
    qa_received_on: dt.date | None
    published_on: dt.date | None
    notified_on: dt.date
    decided_on: dt.date | None
    decision_within_one_month: bool | None
    overview_completed_on: dt.date | None
    overview_result: str | None
    days_notification_to_first_submission: int
    death_type: str
    relationship: str
    cause_of_death: str | None
    location_of_death: str | None
    flags: list[str]
    themes: list[str]


class StateTotal(BaseModel):
    state: str
    total: int


class NationalOut(BaseModel):
    items: list[NationalReviewOut]
    total: int
    by_state: list[StateTotal]
    themes: list[ThemeCount]
