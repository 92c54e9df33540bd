"""Calling the API's route functions from a page, so the pages and the API share every check.

A route function is called with the arguments its signature names (session, principal, body, path
ids, If-Match...). On a refusal, the request's writes are rolled back before the page is drawn again,
so a failed form leaves nothing behind.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import anyio.from_thread
from fastapi import Response, params
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.auth.access import Principal
from app.core.errors import DomainError
from app.web.forms import FieldSpec, validation_errors


@dataclass
class Refused(Exception):
    """The API refused: its message, the guards' reasons, and errors by form field."""

    status_code: int
    message: str
    reasons: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    title: str | None = None


def call(fn: Callable, *, session: Session, principal: Principal, **arguments: Any) -> Any:
    """Run one API route function with what its signature asks for."""
    signature = inspect.signature(fn).parameters
    available = {"session": session, "principal": principal, "admin": principal, "response": Response(), **arguments}
    # A parameter left to FastAPI (Query(...), File(...), Depends(...)) must be passed by the page, or
    # the route would receive FastAPI's marker object instead of a value.
    missing = [n for n, p in signature.items() if n not in available and (p.default is inspect.Parameter.empty or isinstance(p.default, (params.Param, params.Depends)))]
    if missing:
        raise TypeError(f"{fn.__name__} needs {missing}: the page must pass them")
    kwargs = {name: available[name] for name in signature if name in available}
    return fn(**kwargs)  # an async route returns an awaitable: perform() awaits it


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def perform(
    fn: Callable,
    *,
    session: Session,
    principal: Principal,
    model: type[BaseModel] | None = None,
    values: dict[str, Any] | None = None,
    specs: list[FieldSpec] | None = None,
    **arguments: Any,
) -> Any:
    """Validate `values` with the API's model, call the route, and turn every refusal into Refused.

    On any refusal the session is rolled back: nothing the call wrote survives.
    """
    try:
        if model is not None:
            try:
                arguments["body"] = model.model_validate(values or {})
            except ValidationError as exc:
                raise Refused(422, "Check the answers below.", errors=validation_errors(exc, specs or [])) from exc
        result = call(fn, session=session, principal=principal, **arguments)
        if inspect.isawaitable(result):
            # An async route (an upload): run it on the event loop, from this worker thread.
            result = anyio.from_thread.run(_awaited, result)
        session.flush()
        return result
    except DomainError as exc:
        session.rollback()
        reasons = [g["reason"] for g in exc.extra.get("failed_guards", []) if g.get("reason")]
        raise Refused(exc.status_code, exc.detail, reasons=reasons) from exc
    except (IntegrityError, StaleDataError) as exc:
        session.rollback()
        raise Refused(409, "Someone else changed this at the same moment, so your change was not saved. Reload the page and try again.") from exc
    except BaseException:
        session.rollback()
        raise
