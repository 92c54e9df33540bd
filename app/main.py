"""create_app(): the FastAPI application with its routers, error handlers and sweep loop."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from app.actions.api import router as actions_router
from app.auth.api import router as auth_router
from app.auth.deps import current_principal
from app.core import clock
from app.core.api import install_error_handlers
from app.core.openapi import document_responses
from app.core.config import get_settings
from app.core.headers import SecurityHeaders
from app.core import metrics, readiness
from app.core.observe import RequestContext
from app.documents.api import router as documents_router
from app.imrs.api import router as imrs_router
from app.notifications.api import router as notifications_router
from app.notifications.worker import background_loop
from app.overview.api import router as overview_router
from app.panel.api import router as panel_router
from app.partnerships.api import router as partnerships_router
from app.people.api import router as people_router
from app.proceedings.api import router as proceedings_router
from app.reports.api import router as reports_router
from app.retention.api import router as retention_router
from app.reviews.api import router as reviews_router
from app.submissions.api import router as submissions_router
from app.terms.api import router as terms_router
from app.web import api_docs
from app.web import routes as web_routes
from app.workflow.registry import get_registry

API_PREFIX = "/api/v1"


def create_app(*, run_sweep: bool = False) -> FastAPI:
    settings = get_settings()
    get_registry()  # validate the workflow definitions now: a fault stops start-up with its name
    schema_head = readiness.migrations_head()  # part of the code: read once, compared on every /readyz
    if settings.clock_today:
        import datetime as dt

        clock.set_today(dt.date.fromisoformat(settings.clock_today))

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # Sync routes run on anyio's thread pool (Starlette's run_in_threadpool): bounded per worker.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        task = asyncio.create_task(background_loop()) if run_sweep else None
        yield
        if task:
            task.cancel()

    app = FastAPI(
        title="Domestic Homicide Review case management",
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # our own page, with Swagger UI served locally: app/web/api_docs.py
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # Outermost, around Starlette's own error middleware, so even an unexpected 500 carries the headers.
    build_stack = app.build_middleware_stack
    # Inside it, the request id, latency and access line of every request, errors included (app/core/observe.py).
    app.build_middleware_stack = lambda: SecurityHeaders(RequestContext(build_stack()))
    for router in (
        auth_router, partnerships_router, reviews_router, people_router, panel_router, terms_router,
        imrs_router, overview_router, actions_router, documents_router, notifications_router, proceedings_router, submissions_router,
        reports_router, retention_router,
    ):
        app.include_router(router, prefix=API_PREFIX)

    document_responses(app, sign_in=current_principal)  # every error each operation may answer, and the bearer scheme
    web_routes.mount(app)
    api_docs.mount(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        return readiness.check(schema_head)

    app.add_route("/metrics", metrics.metrics, include_in_schema=False)

    return app
