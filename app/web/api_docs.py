"""/api/docs: the interactive API reference, drawn by Swagger UI served from this app.

FastAPI's own docs page loads Swagger UI from a CDN and starts it with an inline script; this service
may fetch nothing at run time and forbids inline scripts, so the page is ours and the files are
vendored (scripts/vendor-frontend, pinned in package.json)."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

# Swagger UI sets inline style attributes as it draws, hence 'unsafe-inline' for styles only.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference - Domestic Homicide Review case management</title>
<link rel="icon" href="/assets/images/favicon.ico" sizes="48x48">
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
</head>
<body>
<main id="swagger-ui" data-openapi-url="{openapi_url}"></main>
<script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""


def mount(app: FastAPI, path: str = "/api/docs") -> None:
    page = PAGE.format(openapi_url=app.openapi_url)

    @app.get(path, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"})
