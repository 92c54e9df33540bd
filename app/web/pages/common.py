"""What every page shares: who is signed in, drawing a template, redirects with a message, errors."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.auth.access import Principal
from app.core.api import DATABASE_FAULTS, SessionDep
from app.web import session as web_session
from app.core.errors import DomainError
from app.web.calls import Refused, call
from app.web.templating import environment

# No script or style from anywhere else; the one inline script (the template's js-enabled class) has a nonce.
CSP = "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"


@dataclass
class Web:
    request: Request
    session: Session
    principal: Principal | None

    @property
    def user(self) -> Principal:
        if self.principal is None:
            raise web_session.SignInRequired(self.request.url.path)
        return self.principal


def _web(request: Request, session: SessionDep) -> Web:
    return Web(request=request, session=session, principal=web_session.web_principal(request, session))


def _signed_in(web: Annotated[Web, Depends(_web)]) -> Web:
    web.user  # noqa: B018 - raises SignInRequired for a visitor
    return web


async def _posted(request: Request) -> FormData:
    """The posted form, after its CSRF token is checked. Only this part is async: the page's own work
    (database included) then runs in a worker thread, never on the event loop."""
    form = await request.form(max_part_size=25 * 1024 * 1024)
    token = form.get("csrf_token")
    web_session.check_csrf(request, token if isinstance(token, str) else None)
    return form


AnyVisitor = Annotated[Web, Depends(_web)]
Posted = Annotated[FormData, Depends(_posted)]
SignedIn = Annotated[Web, Depends(_signed_in)]


def navigation(web: Web) -> list[dict[str, Any]]:
    p = web.principal
    if p is None:
        return [{"href": "/sign-in", "text": "Sign in"}]
    path = web.request.url.path
    items = [("/", "Home"), ("/reviews", "Reviews")]
    if p.agency_roles:
        items.append(("/actions", "Actions"))
    if p.csp_roles:
        items.append(("/mail", "Email alerts"))
        items.append(("/quarterly-report", "Quarterly report"))
        items.append(("/templates", "Templates"))
    if p.is_home_office:
        items.append(("/national", "National view"))
    if p.is_admin:
        items.append(("/admin", "Administration"))
    items.append(("/account", "Your account"))
    return [
        {"href": href, "text": text, "active": path == href or (href != "/" and path.startswith(href + "/"))}
        for href, text in items
    ]


def render(web: Web, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    flash = web.request.cookies.get(web_session.FLASH_COOKIE)
    html = environment().get_template(template).render(
        principal=web.principal,
        nav=navigation(web),
        csrf_token=web_session.csrf_token(web.request),
        flash=unquote(flash) if flash else None,
        cspNonce=nonce,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Security-Policy"] = CSP.format(nonce=nonce)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if flash:
        response.delete_cookie(web_session.FLASH_COOKIE, path="/")
    return web_session.finish(web.request, response)


def redirect(web: Web, url: str, message: str | None = None) -> RedirectResponse:
    """After a change, go to a page (post/redirect/get) and say once what was done."""
    response = RedirectResponse(url, status_code=303)
    if message:
        web_session.set_cookie(web.request, response, web_session.FLASH_COOKIE, quote(message), max_age=120)
    return response


def error_page(web: Web, refused: Refused) -> HTMLResponse:
    titles = {401: "Sign in to continue", 403: "You cannot do this", 404: "Page not found", 409: "This cannot be done now", 503: "Something this needs is unavailable"}
    title = refused.title or titles.get(refused.status_code, "There is a problem")
    message = refused.message
    if refused.status_code == 404:
        message = "The page was not found, or you do not have access to it. If you typed the address, check it. If you expected to see this review, ask its CSP coordinator to give you access."
    return render(web, "error.html", status_code=refused.status_code, title=title, message=message, reasons=refused.reasons)


def form_page(web: Web, *, title: str, specs: list, submit: str, back: str, status_code: int = 200, errors: list | None = None, **context: Any) -> HTMLResponse:
    return render(
        web, "form.html", status_code=status_code, title=title, specs=specs, submit=submit,
        back={"text": "Back", "href": back}, cancel={"text": "Cancel", "href": back}, errors=errors or [], **context,
    )


def fetch(web: Web, fn, **arguments: Any) -> Any:
    """Read through an API route function; a refusal (404 above all) becomes an error page."""
    try:
        return call(fn, session=web.session, principal=web.user, **arguments)
    except DomainError as exc:
        raise Refused(exc.status_code, exc.detail) from exc


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/static/", "/assets/", "/healthz", "/readyz"))


def _draw_error(request: Request, refused: Refused) -> Response:
    from app.core.db import session_scope

    with session_scope() as session:
        web = Web(request=request, session=session, principal=web_session.web_principal(request, session))
        return error_page(web, refused)


async def _page_error(request: Request, refused: Refused) -> Response:
    # In a worker thread: the database (SQLite's write lock above all) is never waited on by the event loop.
    return await run_in_threadpool(_draw_error, request, refused)


def _for_pages_database(app, exc_class) -> None:
    """A page asked while the database is down gets a page saying so, drawn without the database."""
    api_handler = app.exception_handlers[exc_class]

    async def handler(request: Request, exc) -> Response:
        answer = await api_handler(request, exc)
        if not is_page(request):
            return answer
        if answer.status_code != 503:  # a simultaneous change: the database is fine, draw as usual
            return await _page_error(request, Refused(answer.status_code, json.loads(answer.body)["detail"]))
        page = error_page(Web(request=request, session=None, principal=None), Refused(
            503, "The service cannot reach its database just now. Wait a few seconds and try again. "
            "If you were sending a form, go back to the page first to see whether your change was saved.",
            title="Sorry, the service is unavailable"))
        page.headers["Retry-After"] = answer.headers["Retry-After"]
        return page

    app.add_exception_handler(exc_class, handler)


def install(app) -> None:
    """Answer page errors as pages (the API keeps its JSON errors)."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    def _for_pages(exc_class, to_refused):
        api_handler = app.exception_handlers[exc_class]

        async def handler(request: Request, exc) -> Response:
            if is_page(request):
                return await _page_error(request, to_refused(exc))
            return await api_handler(request, exc)

        app.add_exception_handler(exc_class, handler)

    _for_pages(DomainError, lambda exc: Refused(exc.status_code, exc.detail))
    _for_pages(StarletteHTTPException, lambda exc: Refused(
        exc.status_code, "This address does not accept that. Go back and use the page's own buttons." if exc.status_code == 405 else str(exc.detail)))
    _for_pages(RequestValidationError, lambda exc: Refused(400, "The address is not valid: check it, or go back and follow a link."))
    for database_fault in DATABASE_FAULTS:
        _for_pages_database(app, database_fault)

    @app.exception_handler(web_session.SignInRequired)
    async def sign_in_required(request: Request, exc: web_session.SignInRequired) -> Response:
        url = f"/sign-in?next={quote(web_session.safe_next(exc.next_path), safe='/')}"
        ended = getattr(request.state, "session_ended", None)
        if ended in web_session.TIMED_OUT:
            url += f"&ended={ended}"
        response = RedirectResponse(url, status_code=303)
        if ended:
            response.delete_cookie(web_session.SESSION_COOKIE, path="/")
        return response

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return await _page_error(request, exc)

    @app.exception_handler(web_session.CsrfRejected)
    async def csrf_rejected(request: Request, _exc: web_session.CsrfRejected) -> Response:
        return await _page_error(request, Refused(
            403, "The page you sent it from had expired, or it did not come from this service. Nothing was changed. Go back, reload the page, and send the form again.",
            title="Your form could not be sent"))
