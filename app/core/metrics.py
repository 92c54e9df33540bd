"""/metrics in the Prometheus text format: request latency by route template, the outbox and overdue deadlines.

Latency is labelled by the route's template (/api/v1/reviews/{review_id}), never the concrete path:
ids in label values would make a new series per review, and the calendar feed's path is a secret.
Paths no route matches share one label. The outbox and deadline figures are read from the database
at scrape time (a few COUNT ... GROUP BY queries on indexed columns), so every worker reports the
same, true numbers and nothing has to be kept in step with the data.

With several worker processes (`dhr serve --workers N`) each holds its own latency histogram;
`dhr serve` sets PROMETHEUS_MULTIPROC_DIR to a fresh folder so that prometheus-client's multiprocess
mode sums them at each scrape, whichever worker answers it.
"""
from __future__ import annotations

import hmac
import logging
import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.core import clock
from app.core.config import get_settings

log = logging.getLogger("dhr.metrics")
UNMATCHED = "(unmatched)"
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
LOOPBACK = {"127.0.0.1", "::1"}
# Set by a proxy: the request came from elsewhere even if the connection is local.
FORWARDED = (b"x-forwarded-for", b"forwarded", b"x-real-ip")

REQUEST_SECONDS = Histogram(
    "dhr_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def observe(route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route, method if method in METHODS else "other", f"{status // 100}xx").observe(seconds)


class DatabaseCollector:
    """Outbox depth by status and deadlines overdue by kind, counted when Prometheus asks."""

    def describe(self):  # registering must not query the database
        return [self._outbox(), self._outbox_failing_attempts(), self._overdue()]

    @staticmethod
    def _outbox() -> GaugeMetricFamily:
        return GaugeMetricFamily("dhr_outbox_messages", "Emails in the outbox by status: waiting, failing (waiting after a failed attempt), sent, failed (refused for good).", labels=["status"])

    @staticmethod
    def _outbox_failing_attempts() -> GaugeMetricFamily:
        return GaugeMetricFamily("dhr_outbox_failed_attempts", "Failed sending attempts of the emails still waiting or refused.")

    @staticmethod
    def _overdue() -> GaugeMetricFamily:
        return GaugeMetricFamily("dhr_deadlines_overdue", "Open deadlines (neither met nor waived) past their due date, by kind.", labels=["kind"])

    def collect(self):
        from app.core.db import get_engine
        from app.deadlines.models import Deadline
        from app.notifications.models import OutboxMessage

        outbox, attempts, overdue = self._outbox(), self._outbox_failing_attempts(), self._overdue()
        with get_engine().connect() as conn:
            has_error = OutboxMessage.last_error.is_not(None)
            rows = conn.execute(
                select(OutboxMessage.status, has_error, func.count(), func.coalesce(func.sum(OutboxMessage.attempts), 0))
                .group_by(OutboxMessage.status, has_error)
            ).all()
            late = conn.execute(
                select(Deadline.kind, func.count()).where(Deadline.is_open, Deadline.due_on < clock.today()).group_by(Deadline.kind)
            ).all()
            conn.rollback()
        counts = dict.fromkeys(("waiting", "failing", "sent", "failed"), 0)
        failed_attempts = 0
        for status, errored, count, tries in rows:
            # As GET /outbox shows it: a waiting message that has failed before is "failing".
            shown = "failing" if status == "waiting" and errored else status
            counts[shown] = counts.get(shown, 0) + count
            if status != "sent" and errored:
                failed_attempts += tries
        for status, count in counts.items():
            outbox.add_metric([status], count)
        attempts.add_metric([], failed_attempts)
        for kind, count in sorted(late):
            overdue.add_metric([kind], count)
        return [outbox, attempts, overdue]


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(_DATABASE)
        return registry
    return REGISTRY


_DATABASE = DatabaseCollector()
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    REGISTRY.register(_DATABASE)


def may_read(request: Request) -> bool:
    """With DHR_METRICS_TOKEN set, whoever sends it as a bearer token; without, only a direct local connection."""
    token = get_settings().metrics_token
    if token:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    client = request.client.host if request.client else ""
    forwarded = any(name in FORWARDED for name, _ in request.scope.get("headers", []))
    return client in LOOPBACK and not forwarded


def metrics(request: Request) -> Response:
    if not may_read(request):  # as if it were not there, like anything else one may not see
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    try:
        body = generate_latest(_registry())
    except Exception as exc:  # the database is down: say so, as /readyz does, rather than a 500
        log.warning("metrics: the database could not be read (%s)", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "detail": f"The database could not be read ({type(exc).__name__})."}, status_code=503)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
