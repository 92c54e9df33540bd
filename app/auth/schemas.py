from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

RoleName = Literal["admin", "csp_coordinator", "csp_chair", "imr_author", "agency_manager", "home_office"]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: dt.datetime


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: RoleName
    csp_id: str | None = Field(default=None, max_length=32)
    agency_id: str | None = Field(default=None, max_length=32)


class RoleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    role: str
    csp_id: str | None
    agency_id: str | None


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=256)
    roles: list[RoleIn] = Field(min_length=1, max_length=50)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    is_active: bool | None = None
    roles: list[RoleIn] | None = Field(default=None, min_length=1, max_length=50)
    unlock_sign_in: bool | None = Field(
        default=None, description="true ends a lock from failed sign-ins and clears their count (re-enabling does too)"
    )


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    email: str
    name: str
    is_active: bool
    roles: list[RoleOut]
    sign_in_locked_until: dt.datetime | None = Field(
        default=None, description="Locked after failed sign-ins until then; unlock with PATCH unlock_sign_in"
    )


class UserBrief(BaseModel):
    """What a CSP officer needs to put someone on a panel."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    email: str
    name: str
