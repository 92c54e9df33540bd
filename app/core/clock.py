"""The one clock. No code calls date.today() directly: tests and `dhr sweep --on` set it here."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Iterator

_fixed_today: dt.date | None = None
# Tests move time forward (idle time-outs, sign-in waits) instead of sleeping; always zero otherwise.
_offset = dt.timedelta(0)


def today() -> dt.date:
    if _fixed_today is not None:
        return _fixed_today
    return dt.datetime.now(dt.timezone.utc).date()


def now() -> dt.datetime:
    """Timezone-aware now; on a fixed day, that day at the current time of day."""
    real = dt.datetime.now(dt.timezone.utc) + _offset
    if _fixed_today is None:
        return real
    return dt.datetime.combine(_fixed_today, real.timetz())


def wall_now() -> dt.datetime:
    """The real time, never fixed: for retry back-off, claims, idle time-outs and sign-in waits,
    which run in real seconds whatever day the service's clock shows."""
    return dt.datetime.now(dt.timezone.utc) + _offset


def set_today(day: dt.date | None) -> None:
    global _fixed_today
    _fixed_today = day


def set_offset(offset: dt.timedelta) -> None:
    """For tests only: move both clocks forward by `offset` (zero puts them back)."""
    global _offset
    _offset = offset


@contextmanager
def frozen(day: dt.date) -> Iterator[None]:
    previous = _fixed_today
    set_today(day)
    try:
        yield
    finally:
        set_today(previous)
