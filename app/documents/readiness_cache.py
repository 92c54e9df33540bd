"""The readiness check's last result for each review, for the pages and answers that only show it.

The check renders the three publication reports and scans them (a tenth of a second for a real
review), and every view of a review near submission or publication shows whether it may go ahead
("Not possible yet" on the page, `allowed_events` in the API). Views reuse the last result while
nothing it depends on has changed; firing `submit`, `resubmit` or `publish` always runs it afresh
(app/workflow/guards.py), so the statutory gate never rests on a remembered answer.

What identifies the inputs: every change to a review writes a history row in the same transaction
(app/audit), so the review's chain head moves with each of them; the partnership's own templates,
today's date (deadlines count in the check) and the code and statutory templates this service runs
(a deploy may change the check) complete the key. The result is kept in the database
(`readiness_results`), one row per review, so every worker and replica shares it and a restart
keeps it.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.audit.models import HistoryHead
from app.core import clock
from app.core.config import get_settings
from app.core.db import is_postgres
from app.documents.checks import Check
from app.documents.models import DocumentTemplate, ReadinessResult
from app.reviews.models import Review


@lru_cache(maxsize=1)
def _service_fingerprint() -> bytes:
    """A digest of the code and statutory templates that make the check: another release, another key."""
    digest = hashlib.blake2b(digest_size=16)
    app_root = Path(__file__).resolve().parents[1]
    files = sorted(app_root.rglob("*.py")) + sorted(Path(get_settings().templates_dir).glob("*.docx"))
    for path in files:
        digest.update(str(path.relative_to(path.parents[1])).encode())
        digest.update(path.read_bytes())
    return digest.digest()


def _inputs(session: Session, review: Review) -> str:
    head = session.scalar(select(HistoryHead.seq).where(HistoryHead.chain == review.id))
    templates = session.execute(
        select(func.count(), func.max(DocumentTemplate.created_at)).where(DocumentTemplate.csp_id == review.csp_id)
    ).one()
    key = repr((review.id, review.version, head, tuple(templates), clock.today().isoformat()))
    return hashlib.blake2b(key.encode(), key=_service_fingerprint(), digest_size=32).hexdigest()


def checks_for_display(session: Session, review: Review) -> list[Check]:
    from app.documents.readiness import run_checks

    if session.new or session.dirty or session.deleted:
        return run_checks(session, review)  # this request has changed something not yet in the history: judge afresh
    inputs = _inputs(session, review)
    kept = session.execute(
        select(ReadinessResult.inputs, ReadinessResult.checks).where(ReadinessResult.review_id == review.id)
    ).one_or_none()
    if kept is not None and kept.inputs == inputs:
        return [Check(**check) for check in kept.checks]
    checks = run_checks(session, review)
    _keep(session, review.id, inputs, checks)
    return checks


def _keep(session: Session, review_id: str, inputs: str, checks: list[Check]) -> None:
    """Upsert: two workers may work out the same review at once, and neither may fail for it."""
    values = {"review_id": review_id, "inputs": inputs, "checks": [vars(c) for c in checks], "computed_at": clock.now()}
    dialect = postgresql if is_postgres(session) else sqlite
    statement = dialect.insert(ReadinessResult).values(**values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[ReadinessResult.review_id],
        set_={name: statement.excluded[name] for name in ("inputs", "checks", "computed_at")},
    ))
