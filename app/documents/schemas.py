from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DocumentKind = Literal[
    "imr", "overview_report", "executive_summary", "action_plan", "decision_letter", "imr_commission_letter", "home_office_cover_letter"
]
Variant = Literal["restricted", "publication"]


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: DocumentKind
    imr_id: str | None = Field(default=None, max_length=32, description="For an IMR or its commissioning letter: which IMR")
    variant: Variant = Field(default="restricted", description="publication: anonymised with the agreed pseudonyms, unmarked (overview, executive summary, action plan only)")


class Finding(BaseModel):
    where: str = Field(description="Where in the document, e.g. \"header\" or \"table 2, row 5, column 'What happened'\"")
    words: list[str] = Field(description="The identifying words found there")


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    review_id: str
    kind: str
    variant: str
    version: int
    filename: str
    sha256: str
    size: int
    source: str = Field(description="generated from a template, or uploaded by an agency")
    imr_id: str | None
    template_sha256: str | None
    findings: list[Finding] = Field(description="Identifiers of the review's people found in the file: for a publication variant they block publication; for an uploaded IMR they are warnings for the panel chair")
    created_by_name: str
    created_at: dt.datetime
    published_on: dt.date | None = Field(description="Set on the exact files the CSP published (guidance 9.5)")


class TemplateOut(BaseModel):
    kind: str
    source: Literal["statutory", "partnership"]
    version: int = Field(description="The partnership's version of this template; 0 for the statutory one")
    sha256: str
    uploaded_by_name: str | None = None
    uploaded_at: dt.datetime | None = None
