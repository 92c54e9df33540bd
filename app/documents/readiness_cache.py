"""The readiness check's last result for each review, for the pages and answers that only show it.

The check renders the three publication reports and scans them (tenths of a second for a real
review), and every view of a review near submission or publication shows whether it may go ahead
("Not possible yet" on the page, `allowed_events` in the API). Views reuse the last result while
nothing it depends on has changed; firing `submit`, `resubmit` or `publish` always runs it afresh
(app/workflow/guards.py), so the statutory gate never rests on a remembered answer.

What identifies the inputs: every change to a review writes a history row in the same transaction
(app/audit), so the review's chain head moves with each of them; the partnership's own templates
and today's date (deadlines count in the check) complete the key. Each worker process keeps its own
bounded cache.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import HistoryHead
from app.core import clock
from app.documents.checks import Check
from app.documents.models import DocumentTemplate
from app.reviews.models import Review

MAX_REVIEWS = 2048
_results: OrderedDict[tuple, list[Check]] = OrderedDict()
_lock = threading.Lock()


def _key(session: Session, review: Review) -> tuple:
    head = session.scalar(select(HistoryHead.seq).where(HistoryHead.chain == review.id))
    templates = session.execute(
        select(func.count(), func.max(DocumentTemplate.created_at)).where(DocumentTemplate.csp_id == review.csp_id)
    ).one()
    return (review.id, review.version, head, tuple(templates), clock.today())


def checks_for_display(session: Session, review: Review) -> list[Check]:
    from app.documents.readiness import run_checks

    if session.new or session.dirty or session.deleted:
        return run_checks(session, review)  # this request has changed something not yet in the history: judge afresh
    key = _key(session, review)
    with _lock:
        if key in _results:
            _results.move_to_end(key)
            return _results[key]
    checks = run_checks(session, review)
    with _lock:
        _results[key] = checks
        while len(_results) > MAX_REVIEWS:
            _results.popitem(last=False)
    return checks


def forget_all() -> None:
    """Tests that change the clock or the rows behind the application's back start from nothing."""
    with _lock:
        _results.clear()
