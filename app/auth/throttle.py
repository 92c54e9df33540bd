"""Failed sign-ins: after a few in a row each further attempt waits, after more the account locks.

The state is two numbers per account (users.failed_sign_ins, users.locked_until: no attempt is tried
before that time). An email address with no account gets the same treatment from a row keyed by a
keyed hash of the address (sign_in_throttles), so no answer tells whether an account exists. An attempt
that arrives too early is refused at once, without checking the password and without counting: no
server worker ever sleeps. Waits and locks run in real time (clock.wall_now), whatever day the
service's clock shows. A success resets the count; so does an administrator's unlock.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.models import SignInThrottle, User
from app.core import clock
from app.core.config import get_settings
from app.core.db import is_postgres

# A row for an unknown address is forgotten once it has been quiet this long.
FORGET_UNKNOWN_AFTER = dt.timedelta(days=1)


@dataclass
class Held:
    """Why this attempt is not tried now: a wait (429) or a lock (423), and until when."""

    locked: bool
    until: dt.datetime

    @property
    def seconds(self) -> int:
        return max(1, math.ceil((self.until - clock.wall_now()).total_seconds()))

    @property
    def status_code(self) -> int:
        return 423 if self.locked else 429

    def message(self, *, for_page: bool = False) -> str:
        settings = get_settings()
        if self.locked:
            minutes = max(1, math.ceil(self.seconds / 60))
            return (
                f"This account is locked after {settings.sign_in_lock_after} failed sign-ins in a row. "
                f"Try again in {minutes} minute{'s' if minutes != 1 else ''} (at {self.until:%H:%M} UTC), "
                "or ask your administrator to unlock it now."
            )
        how = "" if for_page else " (see the Retry-After header)"
        return (
            f"Too many failed sign-ins in a row: wait {self.seconds} seconds before trying again{how}. "
            f"After {settings.sign_in_lock_after} failed sign-ins in a row the account is locked for "
            f"{settings.sign_in_lock_minutes} minutes."
        )

    def extra(self) -> dict:
        return {"retry_after_seconds": self.seconds, **({"locked_until": self.until.isoformat()} if self.locked else {})}


def email_digest(email: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"sign-in|" + email.encode(), hashlib.sha256).hexdigest()


def is_locked(state: User | SignInThrottle, now: dt.datetime | None = None) -> bool:
    now = now or clock.wall_now()
    return (
        state.failed_sign_ins >= get_settings().sign_in_lock_after
        and state.locked_until is not None
        and state.locked_until > now
    )


def state_for(session: Session, email: str, user: User | None) -> User | SignInThrottle:
    """The row counting this address's failures, locked for this transaction."""
    if user is not None:
        return session.scalars(
        select(User).where(User.id == user.id).with_for_update().execution_options(populate_existing=True)
    ).one()
    digest = email_digest(email)
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # Two first failures at once must not both insert: the second does nothing, then both lock the row.
    session.execute(
        insert(SignInThrottle)
        .values(email_digest=digest, failed_sign_ins=0, updated_at=clock.wall_now())
        .on_conflict_do_nothing(index_elements=["email_digest"])
    )
    return session.scalars(select(SignInThrottle).where(SignInThrottle.email_digest == digest).with_for_update()).one()


def held(state: User | SignInThrottle) -> Held | None:
    """A wait or lock in force now, if any."""
    now = clock.wall_now()
    if state.locked_until is None or state.locked_until <= now:
        return None
    return Held(locked=is_locked(state, now), until=state.locked_until)


def record_failure(session: Session, state: User | SignInThrottle) -> None:
    settings = get_settings()
    now = clock.wall_now()
    state.failed_sign_ins += 1
    count = state.failed_sign_ins
    if count >= settings.sign_in_lock_after:
        # The lock, and each failure after it ends, locks again: only a success or an unlock resets.
        state.locked_until = now + dt.timedelta(minutes=settings.sign_in_lock_minutes)
        if isinstance(state, User):
            entity_type, entity_id = "user", state.id
        else:
            # No account: the history names the keyed hash's start, never the address typed.
            entity_type, entity_id = "unknown_account", state.email_digest[:32]
        audit.record(
            session, review=None, entity_type=entity_type, entity_id=entity_id, event="sign_in_locked", actor=None,
            data={"failed_sign_ins": count, "locked_minutes": settings.sign_in_lock_minutes},
        )
    elif count >= settings.sign_in_slow_after:
        doublings = min(count - settings.sign_in_slow_after, 16)
        state.locked_until = now + dt.timedelta(seconds=settings.sign_in_delay_seconds * 2**doublings)
    if isinstance(state, SignInThrottle):
        state.updated_at = now
        session.execute(delete(SignInThrottle).where(SignInThrottle.updated_at < now - FORGET_UNKNOWN_AFTER))


def record_success(user: User) -> None:
    user.failed_sign_ins = 0
    user.locked_until = None
