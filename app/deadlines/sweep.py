"""The deadline sweep, as of one day: overdue deadlines recorded, and their alert emails queued.

One indexed query finds the reviews with something due; they are then swept a hundred at a time, each
hundred in one short transaction that locks its reviews first (in id order, and a review before its
history, as every event does), so a second sweeper, in this process or another, waits and then finds
nothing left to do. Every change writes a history row in the same transaction. Running it twice
changes nothing the second time.

A transaction runs a fixed handful of statements however many reviews it holds and however much is
due: the reviews, their open deadlines, the partnerships, agencies and people their alerts go to, then
one write per table (outbox, history heads, history, deadlines). So a sweep's time follows the number
of reviews with something due, at a small fraction of a statement each.
"""
from __future__ import annotations

import datetime as dt
import functools
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select, union
from sqlalchemy.orm import Session, lazyload, load_only

from app.audit import service as audit
from app.core.db import forked_pool, is_postgres, session_scope
from app.deadlines import swept
from app.deadlines.models import Deadline
from app.notifications.alerts import DueReview, Queued, queue_due_alerts
from app.reviews.models import Review
from app.workflow import engine

PROGRESS_EVERY = 500
# Reviews swept in one transaction: enough that a busy day's sweep runs a few statements per hundred
# reviews, few enough that an event on one of them waits a fraction of a second for the lock.
REVIEWS_PER_TRANSACTION = 100
PARALLEL_BATCHES = 2
SWEPT_REVIEW = (
    load_only(Review.reference, Review.csp_id, Review.state, Review.workflow_name, Review.workflow_version),
    lazyload(Review.deadlines), lazyload(Review.proceedings),
)


@dataclass
class SweepResult:
    on: dt.date
    reviews: int = 0
    became_overdue: int = 0
    back_to_pending: int = 0
    alerts: Queued = field(default_factory=Queued)

    def add(self, other: SweepResult) -> None:
        """Count another batch's sweep in this one."""
        self.reviews += other.reviews
        self.became_overdue += other.became_overdue
        self.back_to_pending += other.back_to_pending
        self.alerts.steps += other.alerts.steps
        self.alerts.emails += other.alerts.emails
        self.alerts.unaddressed += other.alerts.unaddressed

    def summary(self) -> str:
        return (
            f"Sweep as of {self.on.isoformat()}: {self.became_overdue} deadline(s) became overdue, "
            f"{self.back_to_pending} back in time; {self.alerts.steps} alert(s) due, "
            f"{self.alerts.emails} email(s) queued"
            + (f"; {self.alerts.unaddressed} alert(s) had nobody to send to: give the partnership a DHR coordinator" if self.alerts.unaddressed else "")
            + "."
        )


def due_review_ids(session: Session, on: dt.date) -> list[str]:
    """Reviews with a deadline whose recorded status is stale or whose next alert has come."""
    query = union(
        select(Deadline.review_id).where(Deadline.is_open, Deadline.due_on < on, Deadline.swept_status != "overdue"),
        select(Deadline.review_id).where(Deadline.is_open, Deadline.due_on >= on, Deadline.swept_status == "overdue"),
        select(Deadline.review_id).where(Deadline.next_alert_on <= on),
    )
    return sorted(session.scalars(query))


def sweep_reviews(session: Session, review_ids: list[str], on: dt.date, result: SweepResult) -> None:
    """Sweep these reviews in the caller's transaction, each locked first (the order every event uses)."""
    reviews = engine.lock_reviews(session, review_ids, *SWEPT_REVIEW)
    open_deadlines = swept.open_deadlines(session, [review.id for review in reviews])
    # Every history row of this sweep is chained in one go, each in its review's chain in the order recorded here.
    history = audit.Batch(session, reviews)
    alerting: list[DueReview] = []
    for review in reviews:
        definition = engine.review_definition(review)
        deadlines = open_deadlines[review.id]
        for deadline in deadlines:
            if deadline.due_on < on and deadline.swept_status != "overdue":
                deadline.swept_status = "overdue"
                result.became_overdue += 1
                history.record(
                    review, entity_type="deadline", entity_id=deadline.id, event="deadline_overdue", on=on,
                    data={"kind": deadline.kind, "subject_id": deadline.subject_id or None, "due_on": deadline.due_on.isoformat()},
                )
            elif deadline.due_on >= on and deadline.swept_status == "overdue":
                # An extension or a corrected clock brought it back into time.
                deadline.swept_status = "pending"
                result.back_to_pending += 1
        # While paused, alerts wait; on resuming, the schedule's latest step goes out.
        if review.state not in definition.alerts_paused_in:
            due = [d for d in deadlines if d.next_alert_on is not None and d.next_alert_on <= on]
            if due:
                alerting.append(DueReview(review, definition, due))
    queue_due_alerts(session, alerting, on=on, history=history, tally=result.alerts)
    history.write()
    swept.save(session, [deadline for deadlines in open_deadlines.values() for deadline in deadlines])
    result.reviews += len(reviews)


def sweep(on: dt.date, *, echo: Callable[[str], None] | None = None, processes: int = 1) -> SweepResult:
    """Sweep every review with something due as of `on`, a hundred to a transaction. `processes` > 1
    (the sweep service, `dhr sweep`) sweeps batches in that many forked processes on PostgreSQL: the
    work is mostly Python (each due alert's emails are rendered), which threads cannot run at once."""
    with session_scope() as session:
        review_ids = due_review_ids(session, on)
        postgres = is_postgres(session)
    batches = [review_ids[start:start + REVIEWS_PER_TRANSACTION] for start in range(0, len(review_ids), REVIEWS_PER_TRANSACTION)]
    progress = echo if echo and len(review_ids) > PROGRESS_EVERY else None
    if progress:
        progress(f"Sweeping {len(review_ids):,} reviews with something due ...")
    result, done = SweepResult(on=on), 0
    with _pool(processes if postgres and len(batches) > 1 else 1, postgres) as parts:
        # The batches' reviews are disjoint, so two batches at once never wait on each other. SQLite has
        # one writer at a time anyway.
        for batch, part in zip(batches, parts(functools.partial(_sweep_batch, on=on), batches)):
            result.add(part)
            before, done = done, done + len(batch)
            if progress and (done // PROGRESS_EVERY > before // PROGRESS_EVERY or done == len(review_ids)):
                progress(f"  {done:,} of {len(review_ids):,} reviews swept")
    return result


@contextmanager
def _pool(processes: int, postgres: bool):
    """A map over batches, in order: forked processes when asked for; else, on PostgreSQL, two threads
    (while one batch waits on the database the other works)."""
    if processes > 1:
        with forked_pool(processes) as pool:
            yield pool.imap
    else:
        with ThreadPoolExecutor(max_workers=PARALLEL_BATCHES if postgres else 1, thread_name_prefix="dhr-sweep") as pool:
            yield pool.map


def _sweep_batch(review_ids: list[str], *, on: dt.date) -> SweepResult:
    """One batch in its own transaction (and, in a pool, its own connection)."""
    part = SweepResult(on=on)
    with session_scope() as session:
        sweep_reviews(session, review_ids, on, part)
    return part
