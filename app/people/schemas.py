from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PersonRole = Literal["victim", "perpetrator", "family", "child", "other"]


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: PersonRole
    name: str = Field(min_length=1, max_length=200)
    pseudonym: str = Field(min_length=1, max_length=200, description="The name to publish, agreed with the family")
    aliases: list[str] = Field(default_factory=list, max_length=50)
    date_of_birth: dt.date | None = None
    address: str | None = Field(default=None, max_length=1000)
    relationship: str | None = Field(default=None, max_length=200)
    ethnicity: str | None = Field(default=None, max_length=200, description="Ethnic origin, as the IMR template asks (Appendix 2)")


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    review_id: str
    role: str
    name: str
    pseudonym: str
    aliases: list[str]
    date_of_birth: dt.date | None
    address: str | None
    relationship: str | None
    ethnicity: str | None
