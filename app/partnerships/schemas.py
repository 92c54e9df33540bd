from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

AgencyKind = Literal["police", "local_authority", "health", "probation", "housing", "education", "voluntary", "other"]


class CspIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    code: str = Field(pattern=r"^[A-Z0-9]{2,20}$", description="Short upper-case code used in references, e.g. CAMCITY")
    region: str = Field(min_length=1, max_length=100)


class CspOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    code: str
    region: str


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
