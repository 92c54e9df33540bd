"""The readiness check's last result for each review, for the pages and answers that only show it.

The check renders the three publication reports and scans them (a tenth of a second for a real
review), and every view of a review near submission or publication shows whether it may go ahead
("Not possible yet" on the page, `allowed_events` in the API). Views reuse the last result while
nothing it depends on has changed; firing `submit`, `resubmit` or `publish` always runs it afresh
(app/workflow/guards.py), so the statutory gate never rests on a remembered answer.

What is kept is the lasting part of the check (readiness.lasting_checks); the part that a new day
alone can change (a deadline passing) is worked out on every view, so a kept result stays good from
one day to the next. What identifies its inputs: every change to a review writes a history row in the
same transaction (app/audit), so the review's chain head moves with each of them; the partnership's
own templates and the code and statutory templates this service runs (a deploy may change the check)
complete the key. The result is kept in the database (`readiness_results`), one row per review, so
every worker and replica shares it and a restart keeps it; `dhr readiness-refresh` works out the
missing ones after a deploy, so that first views do not pay for them.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.audit.models import HistoryHead
from app.core import clock
from app.core.db import is_postgres
from app.documents.checks import Check
from app.documents.fingerprint import service_fingerprint
from app.documents.models import DocumentTemplate, ReadinessResult
from app.documents.scans import Scans
from app.reviews.models import Review


def _inputs(session: Session, review: Review) -> str:
    head = session.scalar(select(HistoryHead.seq).where(HistoryHead.chain == review.id))
    templates = session.execute(
        select(func.count(), func.max(DocumentTemplate.created_at)).where(DocumentTemplate.csp_id == review.csp_id)
    ).one()
    key = repr((review.id, review.version, head, tuple(templates)))
    return hashlib.blake2b(key.encode(), key=service_fingerprint(), digest_size=32).hexdigest()


def checks_for_display(session: Session, review: Review) -> list[Check]:
    from app.documents.readiness import dated_checks

    return _lasting_checks_kept(session, review)[0] + dated_checks(review, clock.today())


def keep_current(session: Session, review: Review) -> bool:
    """Make sure the review's kept result is current (`dhr readiness-refresh`); True if it had to be worked out."""
    return _lasting_checks_kept(session, review)[1]


def _lasting_checks_kept(session: Session, review: Review) -> tuple[list[Check], bool]:
    from app.documents.readiness import lasting_checks

    # A request that changed the review (an event's reply says what may follow) writes its changes and
    # their history row first: the key then names the state this transaction commits, and the result
    # is kept with it (a rollback drops both).
    session.flush()
    inputs = _inputs(session, review)
    kept = session.execute(
        select(ReadinessResult.inputs, ReadinessResult.checks, ReadinessResult.scans).where(ReadinessResult.review_id == review.id)
    ).one_or_none()
    if kept is not None and kept.inputs == inputs:
        return [Check(**check) for check in kept.checks], False
    # Worked out again, reusing the last result's scans of reports whose text has not changed.
    scans = Scans(kept.scans if kept is not None else None)
    checks = lasting_checks(session, review, scans)
    _keep(session, review.id, inputs, checks, scans.used)
    return checks, True


def _keep(session: Session, review_id: str, inputs: str, checks: list[Check], scans: dict) -> None:
    """Upsert: two workers may work out the same review at once, and neither may fail for it."""
    values = {"review_id": review_id, "inputs": inputs, "checks": [vars(c) for c in checks], "scans": scans, "computed_at": clock.now()}
    dialect = postgresql if is_postgres(session) else sqlite
    statement = dialect.insert(ReadinessResult).values(**values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[ReadinessResult.review_id],
        set_={name: statement.excluded[name] for name in ("inputs", "checks", "scans", "computed_at")},
    ))
