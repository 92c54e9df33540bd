"""Mounts the pages, their static files and their error pages on the application."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.web.pages import admin, auth, common, home, parts, records, retention, reviews, templates_admin
from app.web.templating import STATIC_DIR

PAGE_ROUTERS = [auth.router, home.router, reviews.router, parts.router, records.router, templates_admin.router, retention.router, admin.router]


def mount(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # GOV.UK Frontend's stylesheet asks for its fonts and images at /assets/.
    app.mount("/assets", StaticFiles(directory=STATIC_DIR / "govuk-frontend" / "assets"), name="govuk-assets")
    for router in PAGE_ROUTERS:
        app.include_router(router, include_in_schema=False)
    common.install(app)
