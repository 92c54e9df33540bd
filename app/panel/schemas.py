from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PanelMemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(max_length=32)
    role: Literal["chair", "member"]
    agency_id: str | None = Field(default=None, max_length=32)
    independence_statement: str | None = Field(default=None, max_length=20000)


class PanelMemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    review_id: str
    user_id: str
    name: str
    role: str
    agency_id: str | None
    independence_statement: str | None
