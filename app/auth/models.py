"""Users, their roles, and bearer tokens (stored only as hashes)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now
from app.core.db import Base
from app.core.ids import new_id

GLOBAL_ROLES = ("admin", "csp_coordinator", "csp_chair", "imr_author", "agency_manager", "home_office")
CSP_ROLES = ("csp_coordinator", "csp_chair")
AGENCY_ROLES = ("imr_author", "agency_manager")


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the calendar link's signature: a new value makes the old link stop working.
    calendar_nonce: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # Failed sign-ins since the last success, and before when no sign-in is tried: a short wait after a
    # few failures, a lock after more (app/auth/throttle.py).
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    roles: Mapped[list["UserRole"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def sign_in_locked_until(self) -> dt.datetime | None:
        """When a lock from failed sign-ins ends; None when there is none now (a short wait is no lock)."""
        from app.auth.throttle import is_locked

        return self.locked_until if is_locked(self) else None


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (Index("ix_user_roles_scope", "role", "csp_id", "agency_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    csp_id: Mapped[str | None] = mapped_column(ForeignKey("csps.id"))
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"))

    user: Mapped[User] = relationship(back_populates="roles")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    # For the idle time-out; written at most once a minute per token (see app/auth/deps.py).
    last_used_at: Mapped[dt.datetime | None]


class SignInThrottle(Base):
    """Failed sign-ins for an email address that has no account, counted like a user's so the answers
    never tell whether an account exists. Keyed by a keyed hash: the address itself is not kept."""

    __tablename__ = "sign_in_throttles"

    email_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(index=True)
