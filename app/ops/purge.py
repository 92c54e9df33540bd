"""`dhr purge`: delete the reviews whose retention period has run out, and record that it did.

A review is due when it ended (concluded, or decided not to review: app/retention/rules.py) and its
partnership's retention period has passed since; a review with an active legal hold is listed but
kept. Each review goes in its own transaction with everything that belongs to it (every table with
its `review_id`, the rows hanging off those, its history chain and the chain's head), and the same
transaction writes one row to the administration history: the reference, the rows deleted per table
and the deleted chain's last number and hash. No names or case details: the chain outlives the case.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import Table, delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.models import HistoryHead
from app.models import Base
from app.partnerships.models import Csp
from app.retention import rules
from app.retention.models import LegalHold
from app.reviews.models import Review
from app.workflow import engine as workflow

Echo = Callable[[str], None]


@dataclass(frozen=True)
class Due:
    review_id: str
    reference: str
    csp_code: str
    kept: rules.Retention
    holds: int

    def describe(self) -> str:
        holds = "no legal hold" if not self.holds else f"{self.holds} legal hold{'s' if self.holds > 1 else ''}"
        return (f"{self.reference}  {self.csp_code}  {self.kept.how} on {self.kept.ended_on.isoformat()}  "
                f"retention {self.kept.years} year{'s' if self.kept.years != 1 else ''}  due since {self.kept.due_on.isoformat()}  {holds}")


@dataclass
class Outcome:
    listed: list[Due] = field(default_factory=list)
    deleted: dict[str, dict[str, int]] = field(default_factory=dict)  # reference -> rows deleted per table
    kept: list[str] = field(default_factory=list)  # references kept under a hold (or no longer due)
    failed: list[str] = field(default_factory=list)


def due(session: Session, on: dt.date) -> list[Due]:
    """Every review whose retention period has run out by `on`, held or not, oldest first."""
    holds = dict(session.execute(
        select(LegalHold.review_id, func.count()).where(LegalHold.lifted_on.is_(None)).group_by(LegalHold.review_id)).tuples().all())
    rows = session.execute(
        select(Review, Csp.code, Csp.retention_years).join(Csp, Csp.id == Review.csp_id).where(Review.state.in_(list(rules.ENDED)))
    ).tuples().all()
    found = []
    for review, code, years in rows:
        kept = rules.retention(review, years)
        if kept is not None and kept.due_on <= on:
            found.append(Due(review.id, review.reference, code, kept, holds.get(review.id, 0)))
    return sorted(found, key=lambda d: (d.kept.due_on, d.reference))


def review_tables() -> list[tuple[Table, Callable[[str], object]]]:
    """Each table holding a review's rows, children before parents, with the condition selecting them.

    Found from the schema, so a table added later is not forgotten: those with a `review_id`, and
    those that hang off one of them by a foreign key (a deadline's extensions)."""
    direct = {t.name for t in Base.metadata.tables.values() if "review_id" in t.c and t.name != "reviews"}
    plan: list[tuple[Table, Callable[[str], object]]] = []
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in direct:
            plan.append((table, lambda review_id, t=table: t.c.review_id == review_id))
            continue
        for fk in table.foreign_keys:
            parent = fk.column.table
            if parent.name in direct and table.name != "reviews":
                plan.append((table, lambda review_id, c=fk.parent, p=parent, k=fk.column: c.in_(select(k).where(p.c.review_id == review_id))))
                break
    return plan


def _delete_review(session: Session, review_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, where in review_tables():
        counts[table.name] = session.execute(delete(table).where(where(review_id))).rowcount
    counts["history_heads"] = session.execute(delete(HistoryHead).where(HistoryHead.chain == review_id)).rowcount
    counts["reviews"] = session.execute(delete(Review.__table__).where(Review.__table__.c.id == review_id)).rowcount
    return {name: n for name, n in sorted(counts.items()) if n}


def _purge_one(engine: Engine, item: Due, on: dt.date) -> dict[str, int] | str:
    """Delete one review in one transaction; a string says why it was kept after all."""
    with Session(engine) as session, session.begin():
        review = workflow.lock_review(session, item.review_id)  # the lock placing a hold takes too
        if review is None:
            return "already deleted"
        years = session.get(Csp, review.csp_id).retention_years
        kept = rules.retention(review, years)
        if kept is None or kept.due_on > on:
            return "no longer due (changed since it was listed)"
        holds = session.scalar(select(func.count()).select_from(LegalHold).where(LegalHold.review_id == review.id, LegalHold.lifted_on.is_(None)))
        if holds:
            return "a legal hold was placed since it was listed"
        head = session.execute(select(HistoryHead.seq, HistoryHead.hash).where(HistoryHead.chain == review.id)).one_or_none()
        reference, csp_code = review.reference, item.csp_code
        counts = _delete_review(session, review.id)
        session.expunge(review)
        audit.record(
            session, review=None, entity_type="review", entity_id=item.review_id, event="purge_review", actor=None,
            data={
                "reference": reference, "csp": csp_code, "ended": kept.how, "ended_on": kept.ended_on.isoformat(),
                "retention_years": years, "due_on": kept.due_on.isoformat(), "purged_on": on.isoformat(), "rows": counts,
                "history_head": {"seq": head.seq, "hash": head.hash} if head else None,
            },
            note="Deleted by dhr purge: its retention period had run out.",
        )
    return counts


def run(engine: Engine, *, on: dt.date, dry_run: bool, echo: Echo) -> Outcome:
    outcome = Outcome()
    with Session(engine) as session:
        outcome.listed = due(session, on)
        session.rollback()
    if not outcome.listed:
        echo(f"No review is due for deletion on {on.isoformat()}.")
        return outcome
    echo(f"Reviews whose retention period has run out by {on.isoformat()}: {len(outcome.listed)}")
    for item in outcome.listed:
        if item.holds:
            echo(f"  {item.describe()}  -> kept: on legal hold")
            outcome.kept.append(item.reference)
        elif dry_run:
            echo(f"  {item.describe()}  -> would be deleted")
        else:
            try:
                result = _purge_one(engine, item, on)
            except SQLAlchemyError as exc:
                echo(f"  {item.describe()}  -> FAILED, nothing of it deleted: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                outcome.failed.append(item.reference)
                continue
            if isinstance(result, str):
                echo(f"  {item.describe()}  -> kept: {result}")
                outcome.kept.append(item.reference)
            else:
                rows = ", ".join(f"{name} {n}" for name, n in result.items())
                echo(f"  {item.describe()}  -> deleted {sum(result.values())} rows ({rows})")
                outcome.deleted[item.reference] = result
    to_go = len(outcome.listed) - len(outcome.kept)
    if dry_run:
        echo(f"Dry run: {to_go} review{'s' if to_go != 1 else ''} would be deleted, {len(outcome.kept)} kept on legal hold. Nothing was deleted.")
    else:
        echo(f"Deleted {len(outcome.deleted)} review{'s' if len(outcome.deleted) != 1 else ''}, kept {len(outcome.kept)}"
             + (f", {len(outcome.failed)} FAILED (run again, or see the error above)" if outcome.failed else "")
             + ". Each deletion is recorded in the administration history.")
    return outcome
