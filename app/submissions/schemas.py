from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FrozenDocumentOut(BaseModel):
    kind: str
    document_id: str
    filename: str
    version: int
    sha256: str


class LetterOut(BaseModel):
    filename: str
    media_type: str
    sha256: str
    bytes: int
    uploaded_by_name: str
    uploaded_at: dt.datetime


class PackageOut(BaseModel):
    sha256: str
    bytes: int
    made_at: dt.datetime


class QaChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    number: int
    text: str
    package_version: int
    made: bool
    made_on: dt.date | None
    how: str | None
    made_by_name: str | None


class EditOut(BaseModel):
    part: str
    fields: list[str]
    edits: int
    last_on: dt.date


class SubmissionOut(BaseModel):
    number: int = Field(description="The package version: 1 for the submission, then one more per resubmission")
    kind: Literal["submission", "resubmission"]
    submitted_on: dt.date
    submitted_by_name: str
    what_changed: str | None
    answers_feedback: str | None
    edits_since_previous: list[EditOut] | None = Field(description="A resubmission: the parts of the review edited since the previous package")
    qa_outcome: str | None
    qa_received_on: dt.date | None
    documents: list[FrozenDocumentOut]
    package: PackageOut | None = Field(description="null until the package is first downloaded (then it is kept)")
    letter: LetterOut | None
    changes: list[QaChangeOut] = Field(description="The changes the QA panel asked for in answer to this submission")


class QaChangeEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: Literal["made", "reopen"]
    text: str = Field(min_length=1, max_length=20000, description="made: how the change was made; reopen: why it is not done")
    on: dt.date | None = Field(default=None, description="made: the date it was made (default today)")
