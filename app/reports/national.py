"""The Home Office's national view: every submitted review, its QA stage and timeliness (11.1-11.4)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core import clock
from app.deadlines.models import Deadline
from app.partnerships.models import Csp
from app.reports.quarterly import count_themes, overview_result
from app.reviews.models import Review
from app.reviews.service import library_flags
from app.submissions.models import Submission
from app.workflow.engine import review_definition


def _overview_result(review: Review, deadline: Deadline | None) -> str | None:
    if deadline is None or review.overview_approved_on is None:
        return None
    return overview_result(review.overview_approved_on, deadline)[0]


def national_reviews(session: Session, *, limit: int, offset: int = 0, state: str | None = None, region: str | None = None,
                     csp_id: str | None = None) -> dict:
    """One page of the submitted reviews; `total`, the totals by stage and the themes count every review the filters keep."""
    query = select(Review, Csp).join(Csp, Csp.id == Review.csp_id).where(Review.first_submitted_on.is_not(None))
    if state:
        query = query.where(Review.state == state)
    if region:
        query = query.where(Csp.region == region)
    if csp_id:
        query = query.where(Review.csp_id == csp_id)
    order = (Review.submitted_on, Review.reference)
    by_state = sorted(session.execute(query.with_only_columns(Review.state, func.count()).group_by(Review.state)).all())
    # Themes span every matching review: read only the columns they are made of (count_themes reads them by name).
    theme_columns = query.with_only_columns(Review.reference, Review.relationship, Review.flags, Review.themes)
    themes = count_themes(session.execute(theme_columns.order_by(*order)).all())
    rows = session.execute(query.order_by(*order).limit(limit).offset(offset)).all()
    ids = [review.id for review, _csp in rows]
    deadlines = {
        (d.review_id, d.kind): d
        for d in session.scalars(select(Deadline).where(Deadline.review_id.in_(ids), Deadline.kind.in_(("decision", "overview_report")), Deadline.subject_id == ""))
    }
    counts = dict(session.execute(select(Submission.review_id, func.count()).where(Submission.review_id.in_(ids)).group_by(Submission.review_id)).all())
    today = clock.today()
    items = []
    for review, csp in rows:
        decision = deadlines.get((review.id, "decision"))
        items.append({
            "id": review.id,
            "reference": review.reference,
            "csp": {"id": csp.id, "code": csp.code, "name": csp.name},
            "region": csp.region,
            "state": review.state,
            "state_title": review_definition(review).state(review.state).title,
            "submissions": counts.get(review.id, 0),
            "first_submitted_on": review.first_submitted_on,
            "submitted_on": review.submitted_on,
            "days_with_home_office": (today - review.submitted_on).days if review.state == "submitted" and review.submitted_on else None,
            "qa_outcome": review.qa_outcome,
            "qa_received_on": review.qa_received_on,
            "published_on": review.published_on,
            "notified_on": review.notified_on,
            "decided_on": review.decided_on,
            "decision_within_one_month": review.decided_on <= decision.original_due_on if decision and review.decided_on else None,
            "overview_completed_on": review.overview_approved_on,
            "overview_result": _overview_result(review, deadlines.get((review.id, "overview_report"))),
            "days_notification_to_first_submission": (review.first_submitted_on - review.notified_on).days,
            "death_type": review.death_type,
            "relationship": review.relationship,
            "cause_of_death": review.death_cause,
            "location_of_death": review.death_location,
            "flags": library_flags(review),
            "themes": list(review.themes or []),
        })
    return {
        "items": items,
        "total": sum(n for _s, n in by_state),
        "by_state": [{"state": s, "total": n} for s, n in by_state],
        "themes": themes,
    }


