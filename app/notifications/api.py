"""The calendar feed and link, and the partnership's view of its mail: sent, waiting, failing."""
from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import func, select

from app.audit import service as audit
from app.auth.deps import CurrentPrincipal
from app.core import clock
from app.core.api import PagingDep, SessionDep, count_rows
from app.core.errors import Conflict, DomainError, Forbidden, NotFound
from app.notifications import calendar
from app.notifications.models import OutboxMessage
from app.notifications.schemas import CalendarLinkOut, MailOut, MailStatus, OutboxPage
from app.reviews.models import Review
from app.workflow.engine import lock_review

router = APIRouter(tags=["notifications"])


class CalendarLinkUnknown(DomainError):
    status_code = 404

MAIL_ROLES = {"csp_coordinator", "csp_chair"}


# The calendar ----------------------------------------------------------------------------------

def _link(session, principal) -> CalendarLinkOut:
    user = principal.user
    return CalendarLinkOut(url=calendar.feed_url(user), deadlines=len(calendar.responsible_deadlines(session, principal)))


@router.get("/auth/me/calendar", response_model=CalendarLinkOut)
def my_calendar_link(session: SessionDep, principal: CurrentPrincipal) -> CalendarLinkOut:
    """Your calendar's secret address, and how many open deadlines it holds now."""
    return _link(session, principal)


@router.post("/auth/me/calendar/reset", response_model=CalendarLinkOut)
def reset_my_calendar_link(session: SessionDep, principal: CurrentPrincipal) -> CalendarLinkOut:
    """A new secret address; the old one stops working at once."""
    calendar.reset(principal.user)
    audit.record(session, review=None, entity_type="user", entity_id=principal.id, event="calendar_link_reset", actor=principal.user)
    session.flush()
    return _link(session, principal)


@router.get(
    "/calendar/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}, "description": "The deadlines, as iCalendar"}},
)
def calendar_feed(token: str, session: SessionDep) -> Response:
    """Read by calendar clients, which cannot sign in: the secret address is the key."""
    user = calendar.user_for_token(session, token)
    if user is None:
        raise CalendarLinkUnknown(
            "This calendar link is unknown, was reset, or belongs to a disabled account. "
            "Sign in and get the current link from GET /api/v1/auth/me/calendar."
        )
    return Response(
        calendar.feed(session, user),
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "no-store", "Content-Disposition": 'inline; filename="dhr-deadlines.ics"'},
    )


# The outbox ------------------------------------------------------------------------------------

def _mail_csps(principal) -> list[str]:
    csps = [csp for csp, roles in principal.csp_roles.items() if roles & MAIL_ROLES]
    if not csps:
        raise Forbidden("Only a CSP coordinator or CSP chair sees the partnership's mail.")
    return csps


def _out(row: OutboxMessage, reference: str) -> MailOut:
    return MailOut(
        id=row.id, review_id=row.review_id, reference=reference, kind=row.kind, step=row.step, to=row.to_address,
        subject=row.subject, status=row.shown_status, attempts=row.attempts, last_error=row.last_error, created_at=row.created_at,
        next_attempt_at=row.next_attempt_at if row.status == "waiting" else None, sent_at=row.sent_at, message_id=row.message_id,
    )


@router.get("/outbox", response_model=OutboxPage)
def list_mail(
    session: SessionDep, principal: CurrentPrincipal, paging: PagingDep, status: MailStatus | None = None, review_id: str | None = None
) -> OutboxPage:
    """The partnership's email: what was sent, to whom, and what is waiting or failing (newest first)."""
    scope = [Review.csp_id.in_(_mail_csps(principal))]
    if review_id:
        scope.append(Review.id == review_id)
    status_of = OutboxMessage.shown_status
    counts = dict(
        session.execute(
            select(status_of, func.count()).select_from(OutboxMessage).join(Review, Review.id == OutboxMessage.review_id)
            .where(*scope).group_by(status_of)
        ).all()
    )
    query = select(OutboxMessage, Review.reference).join(Review, Review.id == OutboxMessage.review_id).where(*scope)
    if status:
        query = query.where(status_of == status)
    total = count_rows(session, query)
    rows = session.execute(
        query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id).offset(paging.offset).limit(paging.limit)
    ).all()
    return OutboxPage(counts=counts, items=[_out(row, reference) for row, reference in rows], total=total)


@router.post("/outbox/{message_id}/retry", response_model=MailOut)
def retry_mail(message_id: str, session: SessionDep, principal: CurrentPrincipal) -> MailOut:
    """Send a refused or failing message again now (after correcting the address or the server)."""
    csps = _mail_csps(principal)
    row = session.get(OutboxMessage, message_id)
    review = lock_review(session, row.review_id) if row is not None else None
    if row is None or review is None or review.csp_id not in csps:
        raise NotFound("The message")
    if row.status == "sent":
        raise Conflict("This message was sent already: there is nothing to retry.")
    row.status = "waiting"
    row.next_attempt_at = clock.wall_now()
    row.claimed_until = None
    review.updated_at = clock.now()
    audit.record(
        session, review=review, entity_type="mail", entity_id=row.id, event="mail_retry", actor=principal.user,
        data={"kind": row.kind, "step": row.step, "last_error": row.last_error},
    )
    session.flush()
    return _out(row, review.reference)
