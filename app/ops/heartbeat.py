"""A sweep worker's sign of life: a file it touches after each round that reached the database.

`dhr sweep --every N --heartbeat FILE` touches FILE after every successful round; `dhr check-heartbeat
FILE` (the container's health check) fails when it is missing or older than `allowance()`. A
worker stuck, or one whose rounds fail (the database unreachable), stops touching it, so the check
proves more than a running process. The file holds nothing but its modification time.
"""
from __future__ import annotations

import time
from pathlib import Path


def clear(path: Path) -> None:
    """At start: a file left by an earlier run of the same container must not vouch for this one."""
    path.unlink(missing_ok=True)


def beat(path: Path) -> None:
    path.touch()


def allowance(interval_seconds: int) -> int:
    """How old the heartbeat may be: a round runs every interval, and one slow round or late start is not death."""
    return 2 * interval_seconds + 60


def problem(path: Path, within_seconds: float, *, now: float | None = None) -> str | None:
    """Why the worker does not look alive, or None when its last round ended within the time allowed."""
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return f"No heartbeat at {path}: the worker has not finished a round yet."
    if age > within_seconds:
        return f"The last round ended {age:.0f} seconds ago, more than {within_seconds:.0f}: the worker is stuck or its rounds fail."
    return None
