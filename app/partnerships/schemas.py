from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from app.retention.rules import MAX_YEARS, MIN_YEARS

AgencyKind = Literal["police", "local_authority", "health", "probation", "housing", "education", "voluntary", "other"]


class CspIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    code: str = Field(pattern=r"^[A-Z0-9]{2,20}$", description="Short upper-case code used in references, e.g. CAMCITY")
    region: str = Field(min_length=1, max_length=100)


class CspPatch(BaseModel):
    """What an administrator may change; the code stays, as every reference carries it."""
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    region: str | None = Field(default=None, min_length=1, max_length=100)
    retention_years: int | None = Field(
        default=None, ge=MIN_YEARS, le=MAX_YEARS,
        description=f"Years a review is kept after it concluded (or after a decision not to review) before `dhr purge` deletes it; {MIN_YEARS}-{MAX_YEARS}",
    )

    @field_validator("name", "region", "retention_years")
    @classmethod
    def _not_emptied(cls, value):
        if value is None:
            raise ValueError("cannot be emptied; leave it out to keep it as it is")
        return value


class CspOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    code: str
    region: str
    retention_years: int = Field(description="Years a review is kept after it ends before `dhr purge` deletes it")
    version: int


class AgencyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: AgencyKind
    email: EmailStr


class AgencyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    kind: str
    email: str
