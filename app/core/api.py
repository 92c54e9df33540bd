"""Shared API plumbing: the session dependency, error bodies, pagination, ETags."""
from __future__ import annotations

import logging
from typing import Annotated, Any, Generic, Iterator, TypeVar

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.db import session_scope
from app.core.errors import DomainError, PreconditionFailed, PreconditionRequired

T = TypeVar("T")
log = logging.getLogger("dhr.db")
DATABASE_RETRY_SECONDS = 5
# The database is down, restarting or out of connections (answered 503, or 409 for a deadlock).
DATABASE_FAULTS = (OperationalError, InterfaceError, PoolTimeout)
SIMULTANEOUS_CHANGE = "Someone else changed this at the same moment, so your change was not applied. Reload and try again."


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CHANGING = "changing"  # session.info key: this request may change something


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; the route's work commits once, or nothing is written."""
    with session_scope() as session:
        # A request that may change something locks the review it works on (workflow.engine.load_review).
        session.info[CHANGING] = request.method not in SAFE_METHODS
        yield session


def is_changing(session: Session) -> bool:
    return bool(session.info.get(CHANGING))


# scope="function": commit before the response is sent, so a reply never acknowledges a failed commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


def count_rows(session: Session, query: Select) -> int:
    """How many rows a list's query finds in all (its `total`), counted by the database."""
    return session.scalar(select(func.count()).select_from(query.subquery()))


class Paging:
    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=500, description="How many items to return (1-500)")] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000, description="How many items to skip")] = 0,
    ):
        self.limit = limit
        self.offset = offset


PagingDep = Annotated[Paging, Depends()]


def etag(version: int) -> str:
    return f'"{version}"'


def require_if_match(if_match: str | None, current_version: int, what: str) -> None:
    if if_match is None:
        raise PreconditionRequired(
            f"Send an If-Match header with the {what}'s current ETag (from GET), so that nobody's edit "
            "is silently overwritten."
        )
    wanted = if_match.strip()
    if wanted.startswith("W/"):
        wanted = wanted[2:]
    if wanted.strip('"') != str(current_version):
        raise PreconditionFailed(
            f"The {what} has changed since you loaded it (now version {current_version}, you sent "
            f"{if_match}). Reload it, reapply your change and send it again.",
            version=current_version,
        )


IfMatch = Annotated[str | None, Header(description="The ETag from GET; required for PATCH")]


class ErrorBody(BaseModel):
    detail: Any


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse({"detail": exc.detail, **exc.extra}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            errors.append({"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")})
        summary = "; ".join(f"{_field(tuple(e['loc']))}: {e['msg']}" for e in errors)
        return JSONResponse(
            {"detail": errors, "message": f"The request is not valid: {summary}. Correct it and send it again."},
            status_code=422,
        )

    @app.exception_handler(StaleDataError)
    async def stale(_request: Request, _exc: StaleDataError) -> JSONResponse:
        return JSONResponse({"detail": SIMULTANEOUS_CHANGE}, status_code=409)

    @app.exception_handler(DataError)
    async def unstorable(_request: Request, _exc: DataError) -> JSONResponse:
        # PostgreSQL refuses what SQLite stores (a NUL character, say): the request's fault, not the server's.
        return JSONResponse(
            {"detail": "A value in the request cannot be stored: it contains a NUL character, or is longer or larger "
             "than allowed. Correct it and send it again; nothing was changed."},
            status_code=422,
        )

    @app.exception_handler(IntegrityError)
    async def integrity(_request: Request, _exc: IntegrityError) -> JSONResponse:
        return JSONResponse(
            {"detail": "That would duplicate something that already exists (or was just created by someone else). Reload and check before trying again."},
            status_code=409,
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        """The database is down, restarting, or busy: a clear 503 (the pool reconnects by itself once it is back)."""
        cause = type(getattr(exc, "orig", None) or exc).__name__
        if str(getattr(getattr(exc, "orig", None), "sqlstate", "") or "").startswith("40"):
            # PostgreSQL's deadlock or serialisation failure: a concurrent change won and this one was rolled back.
            return JSONResponse({"detail": SIMULTANEOUS_CHANGE}, status_code=409)
        # The class names only: the statement's parameters may hold personal data.
        # The route's template, never the concrete path: a calendar feed's path is its secret.
        from app.core.observe import route_template  # here: observe's metrics import the models, which import this module

        route = route_template(request.scope)
        log.warning("database unavailable during %s %s: %s (%s)", request.method, route, type(exc).__name__, cause)
        return JSONResponse(
            {
                "detail": "The database is not available just now, so this request could not be completed. Try again "
                "in a few seconds. If you were changing something, reload first to see whether it was saved.",
                "retry_after": DATABASE_RETRY_SECONDS,
            },
            status_code=503,
            headers={"Retry-After": str(DATABASE_RETRY_SECONDS)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is no such address in this API. See /api/docs for the addresses it offers."
        if exc.status_code == 400 and "parsing the body" in str(detail):
            detail = "The request body is not valid JSON: check its syntax and send it again."
        if exc.status_code == 405:
            detail = "This address does not accept that method. See /api/docs for what it accepts."
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))
