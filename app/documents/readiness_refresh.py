"""`dhr readiness-refresh`: the kept readiness result of every review a view would check, made current.

A view of a review in a state with a readiness-guarded event (`submit`, `resubmit`, `publish`) shows
whether that event may go ahead, from the kept result (app/documents/readiness_cache.py). A deploy
changes the key of every kept result, and a first view then renders and scans three reports inside
a read request: at national scale, hundreds of slow first views. Run after `dhr migrate` on a deploy
(docker-compose.yml does), it works them out beforehand, in parallel processes, printing progress.
Safe beside live traffic: each review is its own short transaction, and the kept row is an upsert.
"""
from __future__ import annotations

import time
from typing import Callable

from sqlalchemy import and_, or_, select

from app.reviews.models import Review

GUARD = "readiness_check_passes"


def checked_states() -> dict[tuple[str, int], list[str]]:
    """For each installed review workflow, the states with an event guarded by the readiness check."""
    from app.workflow.registry import get_registry

    found = {}
    for definition in get_registry().all():
        if definition.subject != "review":
            continue
        states = sorted({state for t in definition.events if any(g.name == GUARD for g in t.guards) for state in t.source})
        if states:
            found[(definition.name, definition.version)] = states
    return found


def reviews_to_check(session) -> list[str]:
    states = checked_states()
    if not states:
        return []
    return list(session.scalars(select(Review.id).where(or_(*(
        and_(Review.workflow_name == name, Review.workflow_version == version, Review.state.in_(names))
        for (name, version), names in states.items()
    ))).order_by(Review.id)))


def _refresh_one(review_id: str) -> bool:
    from app.core.db import session_scope
    from app.documents.readiness_cache import keep_current

    with session_scope() as session:
        review = session.get(Review, review_id)
        return review is not None and keep_current(session, review)


def refresh(processes: int, progress: Callable[[str], None]) -> dict[str, int]:
    from app.core.db import forked_pool, session_scope

    with session_scope() as session:
        ids = reviews_to_check(session)
    counts = {"reviews": len(ids), "worked_out": 0, "current": 0}
    progress(f"{len(ids)} reviews in a state with a readiness-guarded event; {processes} process(es)")
    started = last = time.monotonic()

    def note(worked: bool) -> None:
        nonlocal last
        counts["worked_out" if worked else "current"] += 1
        done = counts["worked_out"] + counts["current"]
        if done == len(ids) or time.monotonic() - last >= 5:
            last = time.monotonic()
            progress(f"{done}/{len(ids)}: {counts['worked_out']} worked out, {counts['current']} already current "
                     f"({time.monotonic() - started:.0f} s)")

    if processes <= 1 or len(ids) < 2:
        for review_id in ids:
            note(_refresh_one(review_id))
    else:
        with forked_pool(processes) as pool:
            for worked in pool.imap_unordered(_refresh_one, ids, chunksize=4):
                note(worked)
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts
